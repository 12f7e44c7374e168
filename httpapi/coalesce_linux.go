package httpapi

import "syscall"

const canCork = true

// setCork sets or clears TCP_CORK on the socket: while set, the kernel
// sends only full frames; clearing it sends what is held at once. An error
// (the connection has gone) leaves nothing to send, so it is ignored.
func setCork(rc syscall.RawConn, on bool) {
	v := 0
	if on {
		v = 1
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK, v)
	})
}
