package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/obank/obank/internal/totp"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/web/webstore"
)

// loginPage is the data of the login page.
type loginPage struct {
	page
	Username  string
	Dashboard bool
}

// totpPage is the data of the second-factor page.
type totpPage struct {
	page
	Name string
	// DemoCode is the current code, shown in demo mode only.
	DemoCode string
}

// Messages of the login pages. The password one does not say which of the
// two was wrong, or whether the username exists.
const (
	msgBadLogin  = "The username or password is not right. Check them and try again."
	msgBadCode   = "That code is not right, or was used already. Wait for a new code and try again."
	msgLocked    = "Too many attempts failed, so signing in is locked for a while. Try again later."
	msgNoFactor  = "Your account has no second factor set up, so you cannot approve access online. Please contact the bank."
	maxUsername  = 100
	maxPassword  = 200
	totpCodeSize = totp.Digits
)

// loginPage shows the login form. Without a session (someone opening
// /login directly) it starts one for the dashboard.
func (j *Journey) loginPage(w http.ResponseWriter, r *http.Request) error {
	s, ok, err := j.session(r)
	if err != nil {
		return err
	}
	if !ok {
		if s, err = j.newSession(w, r, webstore.PurposeDashboard, ""); err != nil {
			return err
		}
	}
	if s.SCAAt != nil {
		http.Redirect(w, r, nextAfterSCA(s), http.StatusSeeOther)
		return nil
	}
	j.renderLogin(w, http.StatusOK, s, "", "")
	return nil
}

func (j *Journey) renderLogin(w http.ResponseWriter, status int, s webstore.Session, username, msg string) {
	j.render(w, status, "login", loginPage{
		page:     page{Title: "Sign in", CSRF: s.CSRF, Error: msg},
		Username: username, Dashboard: s.Purpose == webstore.PurposeDashboard,
	})
}

// login checks the username and password. Failures, for known and unknown
// usernames alike, count towards the lock; an unknown username is compared
// against a dummy hash so it takes as long as a wrong password.
func (j *Journey) login(w http.ResponseWriter, r *http.Request) error {
	s, err := j.postSession(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	username := trimField(r.PostForm.Get("username"), maxUsername)
	password := r.PostForm.Get("password")
	if username == "" || password == "" || len(password) > maxPassword {
		j.renderLogin(w, http.StatusBadRequest, s, username, "Enter your username and password.")
		return nil
	}
	now := j.now()
	thr, err := j.store.LoginThrottle(ctx, username, now)
	if err != nil {
		return err
	}
	if thr.Locked(now) {
		j.renderLogin(w, http.StatusTooManyRequests, s, username, msgLocked)
		return nil
	}
	c, err := j.store.CustomerByUsername(ctx, username)
	known := err == nil && c.PasswordHash != ""
	if err != nil && !ob.IsNotFound(err) {
		return err
	}
	hash := j.dummyHash
	if known {
		hash = []byte(c.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !known {
		locked, err := j.loginFailed(ctx, username, c.ID)
		if err != nil {
			return err
		}
		if locked {
			j.renderLogin(w, http.StatusTooManyRequests, s, username, msgLocked)
			return nil
		}
		j.renderLogin(w, http.StatusUnauthorized, s, username, msgBadLogin)
		return nil
	}
	// The failure count is not cleared here but only after the second
	// factor: a correct password must not reset the count of wrong codes,
	// or knowing the password would allow guessing codes without limit.
	// A password sign-in starts the authentication afresh: whatever second
	// factor this session passed before (perhaps as another customer) no
	// longer counts.
	s.CustomerID, s.PasswordAt, s.SCAAt = c.ID, &now, nil
	if s, err = j.rotate(w, r, s); err != nil {
		return err
	}
	j.log.InfoContext(ctx, "password accepted", sessionAttrs(s))
	http.Redirect(w, r, PathTOTP, http.StatusSeeOther)
	return nil
}

// loginFailed counts a failed password or code and reports whether it
// locked the username (which is audited).
func (j *Journey) loginFailed(ctx context.Context, username, customerID string) (bool, error) {
	now := j.now()
	thr, err := j.store.RecordLoginFailure(ctx, username, now, j.cfg.MaxLoginFailures, j.cfg.LockDuration)
	if err != nil {
		return false, err
	}
	if !thr.Locked(now) {
		return false, nil
	}
	j.log.WarnContext(ctx, "login locked", "customer", customerID, "until", thr.LockedUntil)
	err = j.store.RecordAudit(ctx, webstore.AuditEvent{
		ID: randomToken(), At: now, Kind: webstore.AuditLoginLocked, CustomerID: customerID,
		Detail: fmt.Sprintf("%d failed attempts; locked until %s", j.cfg.MaxLoginFailures, thr.LockedUntil.Format(time.RFC3339)),
	})
	return true, err
}

// passwordSession returns the live session of a customer who gave the right
// password, or the error page.
func (j *Journey) passwordSession(w http.ResponseWriter, r *http.Request, post bool) (webstore.Session, ob.Customer, error) {
	var (
		s   webstore.Session
		err error
	)
	if post {
		s, err = j.postSession(r)
	} else {
		var ok bool
		s, ok, err = j.session(r)
		if err == nil && !ok {
			err = errSessionEnded
		}
	}
	if err != nil {
		return s, ob.Customer{}, err
	}
	if s.CustomerID == "" {
		return s, ob.Customer{}, &pageError{http.StatusBadRequest, "Sign in first", "Sign in with your username and password first."}
	}
	c, err := j.store.Customer(r.Context(), s.CustomerID)
	if err != nil {
		return s, c, err
	}
	return s, c, nil
}

// totpPage shows the second-factor form.
func (j *Journey) totpPage(w http.ResponseWriter, r *http.Request) error {
	s, c, err := j.passwordSession(w, r, false)
	if err != nil {
		return err
	}
	if s.SCAAt != nil {
		http.Redirect(w, r, nextAfterSCA(s), http.StatusSeeOther)
		return nil
	}
	return j.renderTOTP(w, http.StatusOK, s, c, "")
}

func (j *Journey) renderTOTP(w http.ResponseWriter, status int, s webstore.Session, c ob.Customer, msg string) error {
	if c.TOTPSecret == "" {
		return &pageError{http.StatusForbidden, "No second factor", msgNoFactor}
	}
	p := totpPage{page: page{Title: "Enter your security code", CSRF: s.CSRF, Error: msg}, Name: c.Name}
	if j.cfg.DemoMode {
		var err error
		if p.DemoCode, err = j.demoCode(c); err != nil {
			return err
		}
	}
	j.render(w, status, "totp", p)
	return nil
}

// demoCode is the customer's current one-time code, which the pages show in
// demo mode.
func (j *Journey) demoCode(c ob.Customer) (string, error) {
	key, err := totp.DecodeSecret(c.TOTPSecret)
	if err != nil {
		return "", fmt.Errorf("customer %s: %w", c.ID, err)
	}
	return totp.At(key, j.now()), nil
}

// totp checks the code (see checkCode) and completes strong customer
// authentication.
func (j *Journey) totp(w http.ResponseWriter, r *http.Request) error {
	s, c, err := j.passwordSession(w, r, true)
	if err != nil {
		return err
	}
	if s.SCAAt != nil {
		http.Redirect(w, r, nextAfterSCA(s), http.StatusSeeOther)
		return nil
	}
	if c.TOTPSecret == "" {
		return &pageError{http.StatusForbidden, "No second factor", msgNoFactor}
	}
	ctx := r.Context()
	switch res, err := j.checkCode(ctx, c, r.PostForm.Get("code")); {
	case err != nil:
		return err
	case res == codeLocked:
		if err := j.endSession(w, r, s); err != nil {
			return err
		}
		return &pageError{http.StatusTooManyRequests, "Signing in is locked", msgLocked}
	case res == codeWrong:
		return j.renderTOTP(w, http.StatusUnauthorized, s, c, msgBadCode)
	}
	now := j.now()
	s.SCAAt = &now
	if err := j.store.UpdateWebSession(ctx, s); err != nil {
		return err
	}
	j.log.InfoContext(ctx, "strong customer authentication done", sessionAttrs(s))
	http.Redirect(w, r, nextAfterSCA(s), http.StatusSeeOther)
	return nil
}

// codeResult is the outcome of checkCode.
type codeResult int

const (
	codeOK     codeResult = iota
	codeWrong             // wrong, replayed or older than the last one used
	codeLocked            // the username is locked (perhaps by this code)
)

// checkCode verifies customer c's one-time code: the login's second factor
// and the step-up on a payment's consent page. A code is accepted once per
// customer and time step (the store records the last step used); wrong
// codes count towards the same lock as wrong passwords, so the million
// codes cannot be tried, and a right one clears the count.
func (j *Journey) checkCode(ctx context.Context, c ob.Customer, code string) (codeResult, error) {
	if c.TOTPSecret == "" {
		return codeWrong, &pageError{http.StatusForbidden, "No second factor", msgNoFactor}
	}
	now := j.now()
	thr, err := j.store.LoginThrottle(ctx, c.Username, now)
	if err != nil {
		return codeWrong, err
	}
	if thr.Locked(now) {
		return codeLocked, nil
	}
	key, err := totp.DecodeSecret(c.TOTPSecret)
	if err != nil {
		return codeWrong, fmt.Errorf("customer %s: %w", c.ID, err)
	}
	step, ok := totp.Validate(key, trimField(code, totpCodeSize+1), now)
	if ok {
		if ok, err = j.store.UseTOTPStep(ctx, c.ID, step); err != nil {
			return codeWrong, err
		}
	}
	if !ok {
		locked, err := j.loginFailed(ctx, c.Username, c.ID)
		if err != nil {
			return codeWrong, err
		}
		if locked {
			return codeLocked, nil
		}
		return codeWrong, nil
	}
	if err := j.store.ClearLoginFailures(ctx, c.Username); err != nil {
		return codeWrong, err
	}
	return codeOK, nil
}

// logout ends the session.
func (j *Journey) logout(w http.ResponseWriter, r *http.Request) error {
	s, err := j.postSession(r)
	if err != nil {
		return err
	}
	if err := j.endSession(w, r, s); err != nil {
		return err
	}
	j.render(w, http.StatusOK, "message", messagePage{page: page{Title: "You are signed out"},
		Message: "You have signed out of OBank. You can close this window."})
	return nil
}
