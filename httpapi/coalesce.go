package httpapi

import (
	"context"
	"net"
	"syscall"
)

// A large body leaves in one transmission.
//
// net/http keeps a response's headers in its 4 KB connection buffer, so a
// body larger than what is left of it is written in two calls: the buffer,
// with the headers and the body's start, then the rest (over TLS, a call
// per 16 KB record). Go sets TCP_NODELAY, so each call is a transmission of
// its own that wakes the reader. On loopback and on a data centre's network
// that costs about as much as the bytes: some 5 µs of CPU for a page of 100
// transactions (56 KB, about 220 µs in all; BenchmarkTransactionsPage). A
// large Write therefore holds the socket's partial frames back for its
// duration (TCP_CORK, Linux only: see setCork) and releases them when it
// returns, so that headers and body leave together. Full frames are sent
// as they fill, corked or not, so a slow reader delays nothing.

// coalesceMin is the smallest Write that is corked: with the headers, it
// may not fit the connection buffer. Smaller bodies leave with their
// headers in one call anyway, when the handler returns.
const coalesceMin = 3 << 10

type socketKey struct{}

// ConnContext is the http.Server.ConnContext of the servers that serve this
// package's handlers: it keeps the TCP socket of each connection (under TLS
// too) within reach of the response writer.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if !canCork {
		return ctx
	}
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		c = tc.NetConn()
	}
	tcp, ok := c.(*net.TCPConn)
	if !ok {
		return ctx
	}
	rc, err := tcp.SyscallConn()
	if err != nil {
		return ctx
	}
	return context.WithValue(ctx, socketKey{}, rc)
}

// requestSocket returns the socket ConnContext kept for ctx's connection,
// or nil.
func requestSocket(ctx context.Context) syscall.RawConn {
	rc, _ := ctx.Value(socketKey{}).(syscall.RawConn)
	return rc
}
