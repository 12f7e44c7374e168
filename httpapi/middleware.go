package httpapi

import (
	"fmt"
	"mime"
	"net/http"
	"net/netip"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/obank/obank/ob"
)

const headerInteractionID = "x-fapi-interaction-id"

// fapiAuthDate is the spec's pattern for x-fapi-auth-date (an RFC 7231 date).
var fapiAuthDate = regexp.MustCompile(`^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|UTC)$`)

// front is the outermost middleware, shared by every route and by the
// mux's own 404 and 405 answers: it sets x-fapi-interaction-id on every
// response, recovers panics, bounds request bodies, validates the FAPI
// headers, writes the access log line and records the API call.
func (s *Server) front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st := &reqState{}
		sent := r.Header.Get(headerInteractionID)
		idErr := validInteractionID(sent)
		st.interactionID = sent
		if sent == "" || idErr != nil {
			// An invalid id is not echoed: the answer still needs a valid
			// one to be traceable.
			st.interactionID = uuid.NewString()
		}
		w.Header().Set(headerInteractionID, st.interactionID)
		sw := &statusWriter{ResponseWriter: w}
		if r.ProtoMajor == 1 {
			// HTTP/2 shares the socket among streams: no corking there.
			sw.sock = requestSocket(r.Context())
		}
		// r is replaced once, here, and the same *Request reaches the mux,
		// which records the matched pattern in r.Pattern for the log.
		r = withState(r, st)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic serving request",
					"interaction_id", st.interactionID, "route", routeOf(r),
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !sw.wroteHeader {
					s.writeError(sw, r, fmt.Errorf("httpapi: panic: %v", p))
				}
			}
			s.finish(r, st, sw.status(), time.Since(start))
		}()
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(sw, r.Body, s.maxBody)
		}
		if s.signsResponses(r) {
			// The header checks' answers are PIS responses too: they are
			// signed with the rest (see signed).
			s.signed(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.serveChecked(w, r, next, idErr)
			})).ServeHTTP(sw, r)
			return
		}
		s.serveChecked(sw, r, next, idErr)
	})
}

// serveChecked answers err, the verdict on the interaction id, or the
// other headers' faults, or else serves the request with next.
func (s *Server) serveChecked(w http.ResponseWriter, r *http.Request, next http.Handler, err error) {
	if err == nil {
		err = s.checkHeaders(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	next.ServeHTTP(w, r)
}

// validInteractionID accepts an empty header or an RFC 4122 UUID in its
// canonical 36-character form.
func validInteractionID(id string) error {
	if id == "" {
		return nil
	}
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 || u.Variant() != uuid.RFC4122 {
		return ob.FieldError(ob.CodeHeaderInvalid, headerInteractionID, "x-fapi-interaction-id must be an RFC 4122 UUID")
	}
	return nil
}

// checkHeaders validates the optional FAPI headers and the body size.
func (s *Server) checkHeaders(r *http.Request) error {
	if v := r.Header.Get("x-fapi-auth-date"); v != "" && !fapiAuthDate.MatchString(v) {
		return ob.FieldError(ob.CodeHeaderInvalid, "x-fapi-auth-date",
			"x-fapi-auth-date must be an RFC 7231 date such as \"Sun, 10 Sep 2017 19:43:31 UTC\"")
	}
	if v := r.Header.Get("x-fapi-customer-ip-address"); v != "" {
		if _, err := netip.ParseAddr(v); err != nil {
			return ob.FieldError(ob.CodeHeaderInvalid, "x-fapi-customer-ip-address",
				"x-fapi-customer-ip-address must be an IPv4 or IPv6 address")
		}
	}
	if r.ContentLength > s.maxBody {
		return bodyTooLarge(s.maxBody)
	}
	return nil
}

func bodyTooLarge(limit int64) error {
	return ob.FieldError(ob.CodeFieldInvalid, "body", fmt.Sprintf("the request body exceeds %d bytes", limit))
}

// finish writes the access log line and hands the API call to the recorder.
func (s *Server) finish(r *http.Request, st *reqState, status int, latency time.Duration) {
	route := routeOf(r)
	attrs := []any{
		"method", r.Method,
		"route", route,
		"status", status,
		"latency_ms", float64(latency.Microseconds()) / 1000,
		"interaction_id", st.interactionID,
		"client_id", st.clientID,
	}
	if st.err != nil && status < 500 {
		attrs = append(attrs, "error_code", ob.ErrorCode(st.err))
	}
	s.log.InfoContext(r.Context(), "request", attrs...)
	if !st.api {
		return
	}
	s.rec.Record(ob.APICall{
		InteractionID:     st.interactionID,
		ClientID:          st.clientID,
		GrantID:           st.grantID,
		Method:            r.Method,
		Route:             route,
		Status:            status,
		LatencyMicros:     latency.Microseconds(),
		FAPIAuthDate:      r.Header.Get("x-fapi-auth-date"),
		CustomerIPAddress: r.Header.Get("x-fapi-customer-ip-address"),
		CustomerUserAgent: r.Header.Get("x-customer-user-agent"),
		At:                s.now(),
	})
}

// statusWriter records the status and enforces OBIE's body-less statuses:
// for 401, 404, 405, 406, 415 and 429 the body is dropped, whoever writes
// it. This is what empties the ServeMux's own text/plain 404 and 405.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
	discard     bool
	// sock is the connection's TCP socket, on HTTP/1 when the server keeps
	// it (ConnContext): a large Write is corked (see coalesce.go).
	sock syscall.RawConn
}

func (w *statusWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.code = code
	if noBody(code) {
		w.discard = true
		h := w.Header()
		h.Del("Content-Type")
		h.Del("X-Content-Type-Options")
		h.Set("Content-Length", "0")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	if w.sock != nil && len(b) >= coalesceMin {
		setCork(w.sock, true)
		defer setCork(w.sock, false)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.code
}

// acceptable reports whether the Accept header values allow one of the
// produced media types. No Accept header means anything. A media range with
// q=0 is an explicit refusal.
func acceptable(accept []string, produces []string) bool {
	if len(accept) == 0 {
		return true
	}
	seen := false
	for _, line := range accept {
		for _, part := range strings.Split(line, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			seen = true
			mt, params, err := mime.ParseMediaType(part)
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			for _, p := range produces {
				if mediaMatch(mt, p) {
					return true
				}
			}
		}
	}
	// A header that is present but empty is treated like an absent one.
	return !seen
}

// mediaMatch reports whether the media range rng (from Accept) covers mt.
func mediaMatch(rng, mt string) bool {
	if rng == "*/*" || rng == mt {
		return true
	}
	typ, _, _ := strings.Cut(mt, "/")
	return rng == typ+"/*"
}

// contentTypeAllowed reports whether a request Content-Type is one of the
// allowed media types (parameters such as charset are ignored).
func contentTypeAllowed(ct string, allowed []string) bool {
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	for _, a := range allowed {
		if mt == a {
			return true
		}
	}
	return false
}
