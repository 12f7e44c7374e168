package events

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/obank/obank/ob"
)

// Legacy callback URLs (callback-urls-openapi.yaml, v3.1.7 [CB]).
//
// How they coexist with event subscriptions ("a subscription supersedes a
// callback URL"):
//
//   - A TPP's callback URL is stored as its event subscription for every
//     event type, marked legacy (migration 0008). The Publisher and the
//     Deliverer see an ordinary subscription with a CallbackURL, so every
//     event obank emits is pushed to it, with the same retries, outbox and
//     SSRF guard; the TPP may also poll POST /events for what failed.
//   - A TPP has at most one of the two. POST /callback-urls when the TPP
//     has a callback URL or an event subscription is refused (400
//     UK.OBIE.Rules.ResourceAlreadyExists: the v3.1.7 YAML declares no 409).
//   - POST /event-subscriptions when the TPP has a callback URL replaces the
//     callback URL with the new subscription, atomically (201): that is the
//     supersession. The events API never shows or changes a legacy row
//     (GET lists none; PUT/DELETE on its id are 400 Resource.NotFound), and
//     the callback-urls API never shows or changes a real subscription.
//   - The callback URL must satisfy the subscriptions' rules: https, ending
//     /{version}/event-notifications, a public address (CallbackPolicy).
//
// Events already in the outbox keep the URL they were published with.

// CallbackURLStore is the part of the store that keeps legacy callback
// URLs. The sqlstore implements it next to Store; a Service whose Store
// lacks it answers the callback-urls API with an internal error and never
// supersedes anything.
type CallbackURLStore interface {
	// CreateCallbackURL stores sub as the TPP's legacy callback URL;
	// ob.ErrConflict when the TPP already has a callback URL or an event
	// subscription (or the id exists).
	CreateCallbackURL(ctx context.Context, sub Subscription) error
	// CallbackURLsByTPP lists the TPP's callback URLs (zero or one).
	CallbackURLsByTPP(ctx context.Context, tppID string) ([]Subscription, error)
	// IsCallbackURL reports whether id is a legacy callback URL (false for
	// an unknown id or a real subscription).
	IsCallbackURL(ctx context.Context, id string) (bool, error)
	// UpdateCallbackURL replaces a callback URL's CallbackURL, Version and
	// UpdatedAt; ob.ErrNotFound unless id is a callback URL.
	UpdateCallbackURL(ctx context.Context, sub Subscription) error
	// DeleteCallbackURL removes a callback URL; ob.ErrNotFound unless id is
	// one.
	DeleteCallbackURL(ctx context.Context, id string) error
	// SupersedeCallbackURL replaces, in one transaction, the legacy
	// callback URL of sub.TPPID by sub (an ordinary subscription). It
	// reports false, changing nothing, when the TPP has no callback URL.
	SupersedeCallbackURL(ctx context.Context, sub Subscription) (bool, error)
}

// CallbackURLInput is what a TPP sends to create or change its callback
// URL (OBCallbackUrlData1).
type CallbackURLInput struct {
	URL     string
	Version string
}

var errNoCallbackStore = errors.New("events: the store does not keep callback URLs")

func (s *Service) callbackStore() (CallbackURLStore, error) {
	cs, ok := s.Store.(CallbackURLStore)
	if !ok {
		return nil, errNoCallbackStore
	}
	return cs, nil
}

// validateCallbackURL checks the input; paths are relative to the body.
func (s *Service) validateCallbackURL(ctx context.Context, in CallbackURLInput) error {
	switch {
	case in.URL == "":
		return ob.FieldError(ob.CodeFieldMissing, "Data.Url", "Url is required")
	case in.Version == "":
		return ob.FieldError(ob.CodeFieldMissing, "Data.Version", "Version is required")
	case len(in.Version) > 10:
		return ob.FieldError(ob.CodeFieldInvalid, "Data.Version", "Version is at most 10 characters")
	}
	if err := s.Policy.CheckURL(ctx, in.URL); err != nil {
		return ob.FieldError(ob.CodeFieldInvalid, "Data.Url", err.Error())
	}
	return nil
}

// CreateCallbackURL registers the TPP's callback URL. A TPP with a
// callback URL or an event subscription gets
// UK.OBIE.Rules.ResourceAlreadyExists.
func (s *Service) CreateCallbackURL(ctx context.Context, tppID string, in CallbackURLInput) (Subscription, error) {
	cs, err := s.callbackStore()
	if err != nil {
		return Subscription{}, err
	}
	if err := s.validateCallbackURL(ctx, in); err != nil {
		return Subscription{}, err
	}
	now := s.now().UTC()
	sub := Subscription{
		ID: uuid.NewString(), TPPID: tppID, CallbackURL: in.URL, Version: in.Version,
		CreatedAt: now, UpdatedAt: now,
	}
	err = cs.CreateCallbackURL(ctx, sub)
	if ob.ErrorCode(err) == ob.CodeConflict {
		// The callback-urls handler answers this code with 400, as the
		// v3.1.7 YAML declares no 409.
		return Subscription{}, ob.Errorf(ob.CodeRulesResourceAlreadyExists,
			"the TPP already has a callback URL or an event subscription (which supersedes callback URLs)")
	}
	if err != nil {
		return Subscription{}, err
	}
	return sub, nil
}

// ListCallbackURLs returns the TPP's callback URLs (zero or one).
func (s *Service) ListCallbackURLs(ctx context.Context, tppID string) ([]Subscription, error) {
	cs, err := s.callbackStore()
	if err != nil {
		return nil, err
	}
	return cs.CallbackURLsByTPP(ctx, tppID)
}

// ownedCallbackURL returns callback URL id if tppID owns it: 400
// UK.OBIE.Resource.NotFound for an unknown id (or a real subscription's),
// 403 for another TPP's.
func (s *Service) ownedCallbackURL(ctx context.Context, cs CallbackURLStore, tppID, id string) (Subscription, error) {
	notFound := ob.FieldError(ob.CodeResourceNotFound, "CallbackUrlId", "no such callback URL")
	legacy, err := cs.IsCallbackURL(ctx, id)
	if err != nil {
		return Subscription{}, err
	}
	if !legacy {
		return Subscription{}, notFound
	}
	sub, err := s.Store.Subscription(ctx, id)
	if ob.IsNotFound(err) {
		return Subscription{}, notFound
	}
	if err != nil {
		return Subscription{}, err
	}
	if sub.TPPID != tppID {
		return Subscription{}, ob.Errorf(ob.CodeForbidden, "the callback URL belongs to another TPP")
	}
	return sub, nil
}

// UpdateCallbackURL replaces the TPP's callback URL id.
func (s *Service) UpdateCallbackURL(ctx context.Context, tppID, id string, in CallbackURLInput) (Subscription, error) {
	cs, err := s.callbackStore()
	if err != nil {
		return Subscription{}, err
	}
	sub, err := s.ownedCallbackURL(ctx, cs, tppID, id)
	if err != nil {
		return Subscription{}, err
	}
	if err := s.validateCallbackURL(ctx, in); err != nil {
		return Subscription{}, err
	}
	sub.CallbackURL, sub.Version, sub.UpdatedAt = in.URL, in.Version, s.now().UTC()
	err = cs.UpdateCallbackURL(ctx, sub)
	if ob.IsNotFound(err) {
		// Superseded or deleted meanwhile.
		return Subscription{}, ob.FieldError(ob.CodeResourceNotFound, "CallbackUrlId", "no such callback URL")
	}
	if err != nil {
		return Subscription{}, err
	}
	return sub, nil
}

// DeleteCallbackURL removes the TPP's callback URL id. Events already in
// the outbox stay.
func (s *Service) DeleteCallbackURL(ctx context.Context, tppID, id string) error {
	cs, err := s.callbackStore()
	if err != nil {
		return err
	}
	if _, err := s.ownedCallbackURL(ctx, cs, tppID, id); err != nil {
		return err
	}
	err = cs.DeleteCallbackURL(ctx, id)
	if ob.IsNotFound(err) {
		return nil // gone concurrently: the outcome the TPP asked for
	}
	return err
}

// supersedeCallbackURL is called by Create with the result of storing sub:
// on a conflict it replaces the TPP's callback URL, if any, by sub.
func (s *Service) supersedeCallbackURL(ctx context.Context, sub Subscription, err error) error {
	if ob.ErrorCode(err) != ob.CodeConflict {
		return err
	}
	cs, ok := s.Store.(CallbackURLStore)
	if !ok {
		return err
	}
	replaced, serr := cs.SupersedeCallbackURL(ctx, sub)
	if serr != nil {
		return serr
	}
	if !replaced {
		return err
	}
	return nil
}

// withoutCallbackURLs drops legacy callback URLs from the TPP's
// subscriptions, for the events API.
func (s *Service) withoutCallbackURLs(ctx context.Context, tppID string, subs []Subscription, err error) ([]Subscription, error) {
	if err != nil {
		return nil, err
	}
	cs, ok := s.Store.(CallbackURLStore)
	if !ok || len(subs) == 0 {
		return subs, nil
	}
	legacy, err := cs.CallbackURLsByTPP(ctx, tppID)
	if err != nil {
		return nil, err
	}
	out := subs[:0:0]
	for _, sub := range subs {
		if !containsID(legacy, sub.ID) {
			out = append(out, sub)
		}
	}
	return out, nil
}

// isCallbackURL reports whether subscription id is a legacy callback URL,
// which the events API treats as unknown.
func (s *Service) isCallbackURL(ctx context.Context, id string) (bool, error) {
	cs, ok := s.Store.(CallbackURLStore)
	if !ok {
		return false, nil
	}
	return cs.IsCallbackURL(ctx, id)
}

func containsID(subs []Subscription, id string) bool {
	for _, s := range subs {
		if s.ID == id {
			return true
		}
	}
	return false
}
