package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/obank/obank/jws"
	"github.com/obank/obank/oauth"
	"github.com/obank/obank/ob"
)

// Message signing (SUMMARY §2) for the payment-initiation API: TPP requests
// carry a detached JWS in x-jws-signature that is verified over the raw
// body before anything is decoded, and every response with a body (2xx,
// 400, 403, 500) carries the bank's detached JWS over the exact bytes sent.
//
// Decisions where the spec leaves room:
//   - A signature the bank cannot check because the TPP's keys cannot be
//     resolved (unknown client, no JWKS registered, jwks_uri unreachable) is
//     400 UK.OBIE.Signature.Invalid: the TPP's signature does not verify
//     against any key it has registered. The cause is logged.
//   - Body-less answers (401, 404, 405, 406, 415, 429, 204) are not signed:
//     there is nothing to sign and the spec declares no signature on them.
//   - A response that cannot be signed (no signer configured, signer
//     failure) becomes a 500 UK.OBIE.UnexpectedError whose body is sent
//     unsigned, the only body that can still be sent; the cause is logged.
//   - iat of a response signature is the server clock (Config.Now).

// signed wraps a handler so that the response body it produces is
// buffered, signed, and sent with x-jws-signature. s.front puts it around
// everything it does for a PIS request (signsResponses) after setting
// x-fapi-interaction-id: its header checks, s.handle's errors (403 for a
// wrong token, 400s), the routes' answers and the mux's own.
func (s *Server) signed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bw := &bufferedWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				// Answer the panic here, signed, rather than letting
				// s.front answer it unsigned.
				s.log.ErrorContext(r.Context(), "panic serving request",
					"interaction_id", stateOf(r).interactionID, "route", routeOf(r),
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				bw.reset()
				s.writeError(bw, r, fmt.Errorf("httpapi: panic: %v", p))
			}
			s.flushSigned(w, r, bw)
		}()
		next.ServeHTTP(bw, r)
	})
}

// signsResponses reports whether r is for the payment-initiation API, every
// answer of which with a body is signed.
func (s *Server) signsResponses(r *http.Request) bool {
	return s.payments != nil && strings.HasPrefix(r.URL.Path, pisPrefix+"/")
}

// flushSigned sends what bw buffered, signing a non-empty body.
func (s *Server) flushSigned(w http.ResponseWriter, r *http.Request, bw *bufferedWriter) {
	status := bw.status
	if status == 0 {
		status = http.StatusOK
	}
	body := bw.buf.Bytes()
	if noBody(status) {
		body = nil // s.front's writer drops it: nothing to sign
	}
	if len(body) > 0 {
		sig, err := s.signBody(r.Context(), body)
		if err != nil {
			h := w.Header()
			h.Del("Content-Length")
			h.Del(jws.Header)
			// writeError logs err as an internal error and answers the
			// fixed message.
			s.writeError(w, r, fmt.Errorf("httpapi: signing the response: %w", err))
			return
		}
		w.Header().Set(jws.Header, sig)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	if len(body) > 0 {
		_, _ = w.Write(body) // a client that went away is not our error
	}
}

// signBody makes the bank's detached signature over body.
func (s *Server) signBody(ctx context.Context, body []byte) (string, error) {
	if s.signer == nil {
		return "", errors.New("no response signer configured")
	}
	return jws.SignDetached(ctx, body, s.signer, jws.SignOptions{
		Issuer: s.signingIssuer, TrustAnchor: s.signingTrustAnchor, Now: s.now(),
	})
}

// bufferedWriter holds a response until it is signed. Headers go straight
// to the underlying writer's map (nothing is sent before flushSigned).
type bufferedWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.buf.Write(p)
}

// reset drops what was buffered, for answering a panic instead.
func (b *bufferedWriter) reset() {
	b.status = 0
	b.buf.Reset()
	b.Header().Del("Content-Length")
}

// readBody reads a request body once, whole, within Config.MaxBodyBytes
// (the front middleware installed the limit): over it is 400
// UK.OBIE.Field.Invalid, as in decodeJSON.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	raw, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, bodyTooLarge(tooBig.Limit)
	case err != nil:
		return nil, &ob.Error{Code: ob.CodeResourceInvalidFormat, Path: "body",
			Message: "the request body could not be read", Err: err}
	}
	return raw, nil
}

// verifyRequest checks the x-jws-signature of a TPP's request over raw, the
// body as received, with the keys the TPP registered.
func (s *Server) verifyRequest(r *http.Request, clientID string, raw []byte) error {
	sig := r.Header.Get(jws.Header)
	if strings.TrimSpace(sig) == "" {
		return ob.FieldError(ob.CodeSignatureMissing, jws.Header, "the request must be signed (x-jws-signature)")
	}
	client, keys, err := s.resolveClientKeys(r.Context(), clientID)
	if err != nil {
		s.log.WarnContext(r.Context(), "TPP signing keys not resolved",
			"interaction_id", stateOf(r).interactionID, "client_id", clientID, "err", err)
		return ob.FieldError(ob.CodeSignatureInvalid, jws.Header, "the TPP's registered signing keys could not be resolved")
	}
	_, err = jws.VerifyDetached(sig, raw, keys, jws.ExpectClient(client), s.now())
	return err
}

func (s *Server) resolveClientKeys(ctx context.Context, clientID string) (oauth.Client, jwk.Set, error) {
	if s.clientKeys == nil {
		return oauth.Client{}, nil, errors.New("httpapi: no ClientKeys configured")
	}
	c, keys, err := s.clientKeys(ctx, clientID)
	if err == nil && keys == nil {
		err = fmt.Errorf("httpapi: client %s has no signing keys", clientID)
	}
	return c, keys, err
}
