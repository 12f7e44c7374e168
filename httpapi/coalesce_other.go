//go:build !linux

package httpapi

import "syscall"

// canCork is false where TCP_CORK does not exist: large bodies are written
// as net/http writes them.
const canCork = false

func setCork(syscall.RawConn, bool) {}
