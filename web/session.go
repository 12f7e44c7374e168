package web

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/web/webstore"
)

// cookieName is the session cookie. With Secure the __Host- prefix makes
// the browser refuse it unless it is Secure, host-only and Path=/, so no
// sibling domain or plain-http page can plant one.
func (j *Journey) cookieName() string {
	if j.cfg.Secure {
		return "__Host-obank_session"
	}
	return "obank_session"
}

// maxFormBytes bounds a form post; the largest form (consent) is far
// smaller.
const maxFormBytes = 64 << 10

// pageError is an error the customer sees: a status and a message page.
type pageError struct {
	Status  int
	Title   string
	Message string
}

func (e *pageError) Error() string { return fmt.Sprintf("web: %d %s", e.Status, e.Title) }

// Errors shown as pages.
var (
	errSessionEnded = &pageError{http.StatusBadRequest, "Your session has ended",
		"You were inactive for too long, or signed in elsewhere. Return to the app you came from and start again, or go to your consents to sign in."}
	errBadCSRF = &pageError{http.StatusForbidden, "This form cannot be accepted",
		"The form did not come from this page. Go back, reload the page and try again."}
)

// handlerFunc is a page handler that returns its error; handle renders it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle sets the security headers and renders a handler's error: a
// pageError as its page, anything else as a generic 500 (logged, never
// shown).
func (j *Journey) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w, "")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		err := h(w, r)
		if err == nil {
			return
		}
		var pe *pageError
		if !errors.As(err, &pe) {
			j.log.ErrorContext(r.Context(), "customer page failed", "route", r.Pattern, "err", err)
			pe = &pageError{http.StatusInternalServerError, "Something went wrong",
				"The bank could not complete this step. Please try again in a moment."}
		}
		j.render(w, pe.Status, "message", messagePage{page: page{Title: pe.Title}, Message: pe.Message})
	})
}

// securityHeaders sets the headers of every page. formOrigin, when set,
// is an extra origin forms may be submitted to: Chromium applies
// form-action to the redirects that follow a submission, and the consent
// form's answer redirects to the TPP.
func securityHeaders(w http.ResponseWriter, formOrigin string) {
	formAction := "'self'"
	if formOrigin != "" {
		formAction += " " + formOrigin
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src https: 'self'; form-action "+
		formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// origin returns scheme://host of an absolute URL, "" if it has none.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// page is what every page template reads.
type page struct {
	Title string
	CSRF  string
	Error string
}

// messagePage is a page with only a message.
type messagePage struct {
	page
	Message string
}

// render executes page name into a buffer first, so a template failure
// becomes a clean 500 rather than half a page.
func (j *Journey) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := j.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		j.log.Error("render page", "page", name, "err", err)
		http.Error(w, "Something went wrong.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// randomToken returns 256 random bits, base64url.
func randomToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newSession stores a fresh session and sets its cookie.
func (j *Journey) newSession(w http.ResponseWriter, r *http.Request, purpose, authSessionID string) (webstore.Session, error) {
	now := j.now()
	value := randomToken()
	s := webstore.Session{
		ID: ob.HashToken(value), Purpose: purpose, AuthSessionID: authSessionID, CSRF: randomToken(),
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(j.cfg.SessionTTL),
	}
	if err := j.store.CreateWebSession(r.Context(), s); err != nil {
		return s, fmt.Errorf("create web session: %w", err)
	}
	j.setCookie(w, value)
	return s, nil
}

// rotate gives an authenticated session a new id (and cookie), so an id
// planted or seen before login is worthless after it (session fixation).
func (j *Journey) rotate(w http.ResponseWriter, r *http.Request, s webstore.Session) (webstore.Session, error) {
	old := s.ID
	value := randomToken()
	s.ID = ob.HashToken(value)
	// A new identity gets a new form token too: a token read before the
	// change must not submit forms after it.
	s.CSRF = randomToken()
	if err := j.store.CreateWebSession(r.Context(), s); err != nil {
		return s, fmt.Errorf("rotate web session: %w", err)
	}
	if err := j.store.DeleteWebSession(r.Context(), old); err != nil {
		return s, fmt.Errorf("rotate web session: %w", err)
	}
	j.setCookie(w, value)
	return s, nil
}

func (j *Journey) setCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{
		Name: j.cookieName(), Value: value, Path: "/", HttpOnly: true, Secure: j.cfg.Secure,
		// Lax, not Strict: the TPP's redirect to /authorize is a
		// cross-site top-level navigation, and the login page it lands
		// on must see the cookie Begin set.
		SameSite: http.SameSiteLaxMode,
	})
}

// endSession deletes the session and its cookie.
func (j *Journey) endSession(w http.ResponseWriter, r *http.Request, s webstore.Session) error {
	http.SetCookie(w, &http.Cookie{Name: j.cookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: j.cfg.Secure, SameSite: http.SameSiteLaxMode})
	if err := j.store.DeleteWebSession(r.Context(), s.ID); err != nil {
		return fmt.Errorf("end web session: %w", err)
	}
	return nil
}

// session returns the browser's live session and moves its idle timeout
// forward; ok is false when there is none or it timed out.
func (j *Journey) session(r *http.Request) (s webstore.Session, ok bool, err error) {
	c, err := r.Cookie(j.cookieName())
	if err != nil || c.Value == "" {
		return s, false, nil
	}
	s, err = j.store.WebSession(r.Context(), ob.HashToken(c.Value))
	if ob.IsNotFound(err) {
		return s, false, nil
	} else if err != nil {
		return s, false, fmt.Errorf("read web session: %w", err)
	}
	now := j.now()
	if !now.Before(s.ExpiresAt) {
		if err := j.store.DeleteWebSession(r.Context(), s.ID); err != nil {
			j.log.WarnContext(r.Context(), "delete expired web session", "err", err)
		}
		return s, false, nil
	}
	s.LastSeenAt, s.ExpiresAt = now, now.Add(j.cfg.SessionTTL)
	if err := j.store.UpdateWebSession(r.Context(), s); ob.IsNotFound(err) {
		return s, false, nil // deleted meanwhile (e.g. finished in another tab)
	} else if err != nil {
		return s, false, fmt.Errorf("touch web session: %w", err)
	}
	return s, true, nil
}

// postSession is session for a form post: the session must be live and the
// form must carry its CSRF token.
func (j *Journey) postSession(r *http.Request) (webstore.Session, error) {
	s, ok, err := j.session(r)
	if err != nil {
		return s, err
	}
	if !ok {
		return s, errSessionEnded
	}
	if err := r.ParseForm(); err != nil {
		return s, &pageError{http.StatusBadRequest, "This form cannot be accepted", "The form was too large or malformed."}
	}
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.CSRF)) != 1 {
		j.log.WarnContext(r.Context(), "CSRF token mismatch", "route", r.Pattern)
		return s, errBadCSRF
	}
	return s, nil
}

// logAttrs are the log attributes of a session (never its id or token).
func sessionAttrs(s webstore.Session) slog.Attr {
	return slog.Group("web_session", slog.String("purpose", s.Purpose), slog.String("customer", s.CustomerID))
}

// nextAfterSCA is where a fully authenticated session goes.
func nextAfterSCA(s webstore.Session) string {
	if s.Purpose == webstore.PurposeAuthorize {
		return PathConsent
	}
	return PathDashboard
}

// trimField trims a form value and bounds its length.
func trimField(v string, max int) string {
	v = strings.TrimSpace(v)
	if len(v) > max {
		v = v[:max]
	}
	return v
}
