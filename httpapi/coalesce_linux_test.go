package httpapi

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func corked(t *testing.T, rc syscall.RawConn) bool {
	t.Helper()
	var v int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		v, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_CORK)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return v != 0
}

// corkProbe is a ResponseWriter that notes whether the socket was corked
// while it was written to.
type corkProbe struct {
	*httptest.ResponseRecorder
	t          *testing.T
	sock       syscall.RawConn
	corkedOnce bool
}

func (p *corkProbe) Write(b []byte) (int, error) {
	p.corkedOnce = corked(p.t, p.sock)
	return p.ResponseRecorder.Write(b)
}

func TestLargeWritesAreCorked(t *testing.T) {
	_, server := tcpPair(t)
	sock := requestSocket(ConnContext(context.Background(), server))
	if sock == nil {
		t.Fatal("ConnContext kept no socket for a TCP connection")
	}
	for _, tc := range []struct {
		name    string
		size    int
		corked  bool
		discard bool
	}{
		{"small body", 100, false, false},
		{"just below the threshold", coalesceMin - 1, false, false},
		{"at the threshold", coalesceMin, true, false},
		{"a page", 60 << 10, true, false},
		{"discarded body", 60 << 10, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probe := &corkProbe{ResponseRecorder: httptest.NewRecorder(), t: t, sock: sock}
			sw := &statusWriter{ResponseWriter: probe, sock: sock}
			if tc.discard {
				sw.WriteHeader(http.StatusUnauthorized) // a bodiless status
			}
			n, err := sw.Write(make([]byte, tc.size))
			if err != nil || n != tc.size {
				t.Fatalf("Write = %d, %v", n, err)
			}
			if probe.corkedOnce != tc.corked {
				t.Errorf("corked during the write: %v, want %v", probe.corkedOnce, tc.corked)
			}
			if corked(t, sock) {
				t.Error("the socket is still corked after the write")
			}
		})
	}
}

func TestConnContextSockets(t *testing.T) {
	t.Run("TLS", func(t *testing.T) {
		_, server := tcpPair(t)
		// No handshake is needed to reach the socket under it.
		if requestSocket(ConnContext(context.Background(), tls.Server(server, &tls.Config{}))) == nil {
			t.Error("no socket kept under TLS")
		}
	})
	t.Run("not TCP", func(t *testing.T) {
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		if requestSocket(ConnContext(context.Background(), a)) != nil {
			t.Error("a socket kept for a pipe")
		}
	})
}
