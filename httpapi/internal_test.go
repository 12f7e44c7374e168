package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obank/obank/ob"
)

// nopStore is an ob.Store whose calls the tests below never make, except
// RecordAPICalls.
type nopStore struct {
	ob.Store
	mu      sync.Mutex
	batches [][]ob.APICall
	block   chan struct{} // when set, RecordAPICalls waits on it
}

func (s *nopStore) RecordAPICalls(_ context.Context, calls []ob.APICall) error {
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, append([]ob.APICall(nil), calls...))
	return nil
}

func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Store == nil {
		cfg.Store = &nopStore{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := NewServer(cfg)
	t.Cleanup(func() { s.Close() })
	return s
}

func serve(s *Server, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	return w
}

func TestStatusTable(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{ob.Errorf(ob.CodeUnauthorized, "x"), 401},
		{ob.Errorf(ob.CodeForbidden, "x"), 403},
		{ob.Errorf(ob.CodeReauthenticate, "x"), 403},
		{ob.Errorf(ob.CodeTooManyRequests, "x"), 429},
		{ob.Errorf(ob.CodeNotAcceptable, "x"), 406},
		{ob.Errorf(ob.CodeUnsupportedMediaType, "x"), 415},
		{ob.Errorf(ob.CodeConflict, "x"), 409},
		{ob.ErrNotFound, 400},
		{ob.FieldError(ob.CodeFieldInvalid, "p", "x"), 400},
		{ob.Errorf(ob.CodeSignatureInvalid, "x"), 400},
		{ob.Errorf(ob.CodeUnexpectedError, "x"), 500},
		{ob.Errorf("obank.Whatever", "x"), 500},
		{errors.New("boom"), 500},
		{&ob.Error{Code: ob.CodeFieldMissing, Err: errors.New("inner")}, 400},
	}
	for _, tt := range tests {
		if got := statusOf(tt.err); got != tt.want {
			t.Errorf("statusOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestErrorBody(t *testing.T) {
	got := errorBody(403, "id-1", ob.Errorf(ob.CodeForbidden, "no"))
	want := obErrorResponse1{Code: "403 Forbidden", Id: "id-1", Message: "no",
		Errors: []obError1{{ErrorCode: ob.CodeResourceConsentMismatch, Message: "no"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errorBody (-want +got):\n%s", diff)
	}
	long := strings.Repeat("é", 400)
	if b := errorBody(400, "x", ob.FieldError(ob.CodeFieldInvalid, "p", long)); len(b.Message) > 500 || !strings.HasPrefix(long, b.Message) {
		t.Errorf("message not truncated on a rune boundary: %d bytes", len(b.Message))
	}
}

// retryErr is a rate limiter's error: a 429 that knows when to come back.
type retryErr struct{ err *ob.Error }

func (e retryErr) Error() string           { return e.err.Error() }
func (e retryErr) Unwrap() error           { return e.err }
func (retryErr) RetryAfter() time.Duration { return 2500 * time.Millisecond }

func TestNoBodyStatusesAndRetryAfter(t *testing.T) {
	s := newTestServer(t, Config{})
	s.mux.Handle("GET /limited", s.handle(opsRoute, func(w http.ResponseWriter, r *http.Request) error {
		return retryErr{ob.Errorf(ob.CodeTooManyRequests, "slow down")}
	}))
	w := serve(s, httptest.NewRequest("GET", "/limited", nil))
	if w.Code != 429 || w.Body.Len() != 0 || w.Header().Get("Retry-After") != "3" {
		t.Errorf("429: code %d body %q Retry-After %q", w.Code, w.Body, w.Header().Get("Retry-After"))
	}
	if w.Header().Get(headerInteractionID) == "" {
		t.Error("no interaction id on 429")
	}
}

func TestPanicRecovered(t *testing.T) {
	var logBuf strings.Builder
	var mu sync.Mutex
	s := newTestServer(t, Config{Logger: slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logBuf.Write(p)
	}), nil))})
	s.mux.Handle("GET /panic", s.handle(opsRoute, func(w http.ResponseWriter, r *http.Request) error {
		panic("secret panic value")
	}))
	w := serve(s, httptest.NewRequest("GET", "/panic", nil))
	if w.Code != 500 || !strings.Contains(w.Body.String(), ob.CodeUnexpectedError) || strings.Contains(w.Body.String(), "secret") {
		t.Errorf("panic answer: %d %s", w.Code, w.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logBuf.String(), "secret panic value") || !strings.Contains(logBuf.String(), "goroutine") {
		t.Errorf("panic not logged with its stack:\n%s", logBuf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestRequestBodies(t *testing.T) {
	s := newTestServer(t, Config{MaxBodyBytes: 64})
	type payload struct {
		Data struct{ Name string }
	}
	s.mux.Handle("POST /things", s.handle(route{produces: []string{"application/json"}, consumes: []string{"application/json"}},
		func(w http.ResponseWriter, r *http.Request) error {
			var p payload
			if err := s.decodeJSON(r, &p); err != nil {
				return err
			}
			return writeJSON(w, 201, p)
		}))
	tests := []struct {
		name, ct, body string
		status         int
		code           string
	}{
		{"ok", "application/json", `{"Data":{"Name":"x"}}`, 201, ""},
		{"ok with charset", "application/json; charset=utf-8", `{"Data":{"Name":"x"}}`, 201, ""},
		{"no content type", "", `{}`, 415, ""},
		{"wrong content type", "text/plain", `{}`, 415, ""},
		{"jose not allowed here", "application/jose+jwe", `{}`, 415, ""},
		{"too large (declared)", "application/json", `{"Data":{"Name":"` + strings.Repeat("x", 100) + `"}}`, 400, ob.CodeFieldInvalid},
		{"malformed", "application/json", `{"Data":`, 400, ob.CodeResourceInvalidFormat},
		{"unknown field", "application/json", `{"Data":{"Nome":"x"}}`, 400, ob.CodeFieldUnexpected},
		{"trailing data", "application/json", `{} {}`, 400, ob.CodeResourceInvalidFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/things", strings.NewReader(tt.body))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			w := serve(s, req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status == 415 && w.Body.Len() != 0 {
				t.Errorf("415 with a body: %s", w.Body)
			}
			if tt.code != "" && !strings.Contains(w.Body.String(), tt.code) {
				t.Errorf("body %s, want code %s", w.Body, tt.code)
			}
		})
	}
	t.Run("too large (chunked)", func(t *testing.T) {
		body := `{"Data":{"Name":"` + strings.Repeat("x", 100) + `"}}`
		req := httptest.NewRequest("POST", "/things", io.NopCloser(strings.NewReader(body)))
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/json")
		w := serve(s, req)
		if w.Code != 400 || !strings.Contains(w.Body.String(), ob.CodeFieldInvalid) {
			t.Errorf("status %d body %s, want 400 %s", w.Code, w.Body, ob.CodeFieldInvalid)
		}
	})
}

func TestRecorder(t *testing.T) {
	t.Run("batches and flushes on close", func(t *testing.T) {
		st := &nopStore{}
		r := newRecorder(st, slog.New(slog.DiscardHandler), 100, 3, time.Hour)
		for i := range 7 {
			r.Record(ob.APICall{Status: i})
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		var sizes []int
		for _, b := range st.batches {
			sizes = append(sizes, len(b))
		}
		if diff := cmp.Diff([]int{3, 3, 1}, sizes); diff != "" {
			t.Errorf("batch sizes (-want +got):\n%s", diff)
		}
		r.Record(ob.APICall{}) // after Close: dropped, no panic
		if r.Dropped() != 1 {
			t.Errorf("Dropped = %d, want 1", r.Dropped())
		}
	})
	t.Run("flushes on the interval", func(t *testing.T) {
		st := &nopStore{}
		r := newRecorder(st, slog.New(slog.DiscardHandler), 100, 100, 10*time.Millisecond)
		defer r.Close()
		r.Record(ob.APICall{})
		deadline := time.Now().Add(5 * time.Second)
		for {
			st.mu.Lock()
			n := len(st.batches)
			st.mu.Unlock()
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no flush after the interval")
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	t.Run("drops when full, never blocks", func(t *testing.T) {
		st := &nopStore{block: make(chan struct{})}
		r := newRecorder(st, slog.New(slog.DiscardHandler), 4, 1, time.Hour)
		done := make(chan struct{})
		go func() {
			for range 50 {
				r.Record(ob.APICall{})
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Record blocked on a stuck store")
		}
		if r.Dropped() < 40 {
			t.Errorf("Dropped = %d, want most of 50 with a buffer of 4", r.Dropped())
		}
		close(st.block)
		r.Close()
	})
}

func TestCursorRoundTrip(t *testing.T) {
	key := ob.TxKey{BookingDateTime: time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC), ID: "tx-é-1"}
	for _, c := range []ob.TxCursor{
		{Mode: ob.CursorFirst, Page: 1},
		{Snapshot: 42, Mode: ob.CursorFirst, Page: 1},
		{Snapshot: 1 << 40, Mode: ob.CursorAfter, Key: key, Page: 7},
		{Snapshot: 3, Mode: ob.CursorBefore, Key: ob.TxKey{BookingDateTime: time.Unix(-86400, 0).UTC(), ID: "x"}, Page: 2},
		{Snapshot: 3, Mode: ob.CursorLast, Page: 9},
		{Snapshot: 3, Mode: ob.CursorPage, Page: 4},
		{Snapshot: 3, Mode: ob.CursorPage, Page: 4, Totals: ob.TxTotals{Known: true}},
		{Snapshot: 3, Mode: ob.CursorLast, Page: 2, Totals: ob.TxTotals{Known: true, Total: 1 << 40,
			FirstAvailable: time.Unix(-86400, 5).UTC(), LastAvailable: key.BookingDateTime}},
		{Snapshot: 9, Mode: ob.CursorAfter, Key: key, Page: 3, Totals: ob.TxTotals{Known: true, Total: 250,
			FirstAvailable: key.BookingDateTime, LastAvailable: key.BookingDateTime}},
	} {
		s := encodeCursor(c)
		if s != url.QueryEscape(s) {
			t.Errorf("cursor %q is not URL-safe", s)
		}
		got, err := decodeCursor(s)
		if err != nil {
			t.Errorf("decodeCursor(encodeCursor(%+v)): %v", c, err)
			continue
		}
		if diff := cmp.Diff(c, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	// Valid cursors with their totals mangled: a missing or unknown totals
	// kind, a truncated or trailing byte, a range missing or reversed.
	ok := encodeCursor(ob.TxCursor{Snapshot: 3, Mode: ob.CursorPage, Page: 4})
	raw, _ := cursorEncoding.DecodeString(ok)
	withTail := func(tail ...byte) string {
		return cursorEncoding.EncodeToString(append(raw[:len(raw)-1:len(raw)-1], tail...))
	}
	first, last := time.Unix(100, 0).UTC(), time.Unix(200, 0).UTC()
	good := encodeCursor(ob.TxCursor{Snapshot: 3, Mode: ob.CursorPage, Page: 4,
		Totals: ob.TxTotals{Known: true, Total: 5, FirstAvailable: first, LastAvailable: last}})
	goodRaw, _ := cursorEncoding.DecodeString(good)
	if _, err := decodeCursor(withTail(0)); err != nil || withTail(0) != ok {
		t.Fatalf("test cursor %q does not decode: %v", withTail(0), err)
	}
	mangled := []string{
		withTail(), withTail(3), withTail(0, 0), withTail(1), withTail(1, 5, 0), withTail(2, 5),
		withTail(2, 5, 200, 1, 0),                    // range missing its last
		withTail(2, 5, 0x90, 0x03, 0, 0xc8, 0x01, 0), // last (100) before first (200)
		cursorEncoding.EncodeToString(goodRaw[:len(goodRaw)-1]),
		cursorEncoding.EncodeToString(append(goodRaw, 0)),
	}
	for _, bad := range append([]string{"", "AQ", "AQAAAA", "AQABAg", "AQEBAQ", "AQQAAA", "AQUAAA"}, mangled...) {
		if c, err := decodeCursor(bad); err == nil {
			t.Errorf("decodeCursor(%q) = %+v, want an error", bad, c)
		}
	}
}

func TestParseQueryTime(t *testing.T) {
	want := time.Date(2017, 4, 5, 10, 43, 7, 0, time.UTC)
	for in, w := range map[string]time.Time{
		"2017-04-05T10:43:07":       want,
		"2017-04-05T10:43:07Z":      want,
		"2017-04-05T10:43:07+05:00": want,
		"2017-04-05T10:43:07-0800":  want,
		"2017-04-05T10:43:07 01:00": want,
		"2017-04-05T10:43:07.250":   want.Add(250 * time.Millisecond),
		"2017-04-05T10:43:07.25+01": want.Add(250 * time.Millisecond),
		"2017-04-05":                time.Date(2017, 4, 5, 0, 0, 0, 0, time.UTC),
		"2017-04-05T10:43":          want.Add(-7 * time.Second),
	} {
		got, ok := parseQueryTime(in)
		if !ok || !got.Equal(w) {
			t.Errorf("parseQueryTime(%q) = %v, %v; want %v", in, got, ok, w)
		}
	}
	for _, bad := range []string{"", "yesterday", "2017-4-5", "2017-04-05T25:00:00", "05/04/2017", "2017-04-05T10:43:07+05:00:00"} {
		if got, ok := parseQueryTime(bad); ok {
			t.Errorf("parseQueryTime(%q) = %v, want failure", bad, got)
		}
	}
}

func TestAcceptable(t *testing.T) {
	json := []string{"application/json"}
	for _, tt := range []struct {
		accept []string
		want   bool
	}{
		{nil, true},
		{[]string{""}, true},
		{[]string{"*/*"}, true},
		{[]string{"application/*;q=0.5"}, true},
		{[]string{"text/html", "application/json"}, true},
		{[]string{"APPLICATION/JSON"}, true},
		{[]string{"text/*"}, false},
		{[]string{"application/json;q=0"}, false},
		{[]string{"application/json;q=abc"}, false},
		{[]string{"garbage"}, false},
	} {
		if got := acceptable(tt.accept, json); got != tt.want {
			t.Errorf("acceptable(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}
