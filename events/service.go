package events

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/obank/obank/ob"
)

// Service is the TPP-facing side: event subscriptions and aggregated
// polling. The HTTP handlers (httpapi) decode, call one method, encode.
type Service struct {
	Store Store
	// Signer signs the SETs served by polling (authz.KeyManager).
	Signer Signer
	// Policy checks callback URLs.
	Policy CallbackPolicy
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// SubscriptionInput is what a TPP sends to create or change a
// subscription.
type SubscriptionInput struct {
	CallbackURL string
	Version     string
	EventTypes  []string
}

// validate checks the input; paths are relative to the request body.
func (s *Service) validate(ctx context.Context, in SubscriptionInput) error {
	switch {
	case in.Version == "":
		return ob.FieldError(ob.CodeFieldMissing, "Data.Version", "Version is required")
	case len(in.Version) > 10:
		return ob.FieldError(ob.CodeFieldInvalid, "Data.Version", "Version is at most 10 characters")
	}
	for i, t := range in.EventTypes {
		if !slices.Contains(KnownTypes, t) {
			return ob.FieldError(CodeUnsupportedEventType, fmt.Sprintf("Data.EventTypes[%d]", i),
				fmt.Sprintf("unsupported event type %q", t))
		}
	}
	if in.CallbackURL != "" {
		if err := s.Policy.CheckURL(ctx, in.CallbackURL); err != nil {
			return ob.FieldError(ob.CodeFieldInvalid, "Data.CallbackUrl", err.Error())
		}
	}
	return nil
}

// normalTypes returns the stored form of EventTypes: nil for "all",
// duplicates removed.
func normalTypes(ts []string) []string {
	if len(ts) == 0 {
		return nil
	}
	out := slices.Clone(ts)
	slices.Sort(out)
	return slices.Compact(out)
}

// Create creates the TPP's subscription: 409
// UK.OBIE.Rules.ResourceAlreadyExists if it has one.
func (s *Service) Create(ctx context.Context, tppID string, in SubscriptionInput) (Subscription, error) {
	if err := s.validate(ctx, in); err != nil {
		return Subscription{}, err
	}
	now := s.now().UTC()
	sub := Subscription{
		ID: uuid.NewString(), TPPID: tppID, CallbackURL: in.CallbackURL, Version: in.Version,
		EventTypes: normalTypes(in.EventTypes), CreatedAt: now, UpdatedAt: now,
	}
	err := s.Store.CreateSubscription(ctx, sub)
	err = s.supersedeCallbackURL(ctx, sub, err) // a subscription supersedes a callback URL
	if ob.ErrorCode(err) == ob.CodeConflict {
		return Subscription{}, ob.Errorf(ob.CodeRulesResourceAlreadyExists, "the TPP already has an event subscription")
	}
	if err != nil {
		return Subscription{}, err
	}
	return sub, nil
}

// List returns the TPP's subscriptions.
func (s *Service) List(ctx context.Context, tppID string) ([]Subscription, error) {
	subs, err := s.Store.SubscriptionsByTPP(ctx, tppID)
	return s.withoutCallbackURLs(ctx, tppID, subs, err) // callback URLs are not shown here
}

// owned returns the subscription id if tppID owns it: 400
// UK.OBIE.Resource.NotFound for an unknown id, 403 for another TPP's.
func (s *Service) owned(ctx context.Context, tppID, id string) (Subscription, error) {
	sub, err := s.Store.Subscription(ctx, id)
	if legacy, lerr := s.isCallbackURL(ctx, id); lerr != nil {
		return Subscription{}, lerr
	} else if legacy {
		err = ob.ErrNotFound // callback URLs are not changed through the events API
	}
	if ob.IsNotFound(err) {
		return Subscription{}, ob.FieldError(ob.CodeResourceNotFound, "EventSubscriptionId", "no such event subscription")
	}
	if err != nil {
		return Subscription{}, err
	}
	if sub.TPPID != tppID {
		return Subscription{}, ob.Errorf(ob.CodeForbidden, "the event subscription belongs to another TPP")
	}
	return sub, nil
}

// Update replaces the TPP's subscription id with in. Events already in
// the outbox keep the callback URL they were published with.
func (s *Service) Update(ctx context.Context, tppID, id string, in SubscriptionInput) (Subscription, error) {
	sub, err := s.owned(ctx, tppID, id)
	if err != nil {
		return Subscription{}, err
	}
	if err := s.validate(ctx, in); err != nil {
		return Subscription{}, err
	}
	sub.CallbackURL, sub.Version, sub.EventTypes = in.CallbackURL, in.Version, normalTypes(in.EventTypes)
	sub.UpdatedAt = s.now().UTC()
	if err := s.Store.UpdateSubscription(ctx, sub); err != nil {
		return Subscription{}, err
	}
	return sub, nil
}

// Delete removes the TPP's subscription id. Events already in the outbox
// stay: pushes in flight finish, and the rest can be polled.
func (s *Service) Delete(ctx context.Context, tppID, id string) error {
	if _, err := s.owned(ctx, tppID, id); err != nil {
		return err
	}
	err := s.Store.DeleteSubscription(ctx, id)
	if ob.IsNotFound(err) {
		return nil // deleted concurrently: the outcome the TPP asked for
	}
	return err
}

// PollRequest is OBEventPolling1.
type PollRequest struct {
	// MaxEvents bounds the SETs returned; nil means DefaultMaxEvents, 0
	// means none (acknowledge only).
	MaxEvents *int
	// ReturnImmediately is accepted and has no effect: obank always
	// answers at once (no long polling).
	ReturnImmediately *bool
	Ack               []string
	SetErrs           map[string]SETError
}

// PollResult is OBEventPollingResponse1: signed SETs by jti.
type PollResult struct {
	MoreAvailable bool
	Sets          map[string]string
}

// Polling limits.
const (
	// DefaultMaxEvents is the batch when maxEvents is absent.
	DefaultMaxEvents = 20
	// MaxMaxEvents caps maxEvents: each SET is signed on the way out.
	MaxMaxEvents = 100
	// maxAcks bounds the ack and setErrs lists of one request.
	maxAcks = 1000
)

// Poll applies the TPP's acknowledgements, then returns up to MaxEvents of
// its outstanding SETs (events never pushed, pushed without success, or
// still pending push), oldest first, each signed now with its original
// claims.
func (s *Service) Poll(ctx context.Context, tppID string, req PollRequest) (PollResult, error) {
	limit := DefaultMaxEvents
	if req.MaxEvents != nil {
		limit = *req.MaxEvents
	}
	if limit < 0 {
		return PollResult{}, ob.FieldError(ob.CodeFieldInvalid, "maxEvents", "maxEvents must not be negative")
	}
	limit = min(limit, MaxMaxEvents)
	if len(req.Ack) > maxAcks || len(req.SetErrs) > maxAcks {
		return PollResult{}, ob.FieldError(ob.CodeFieldInvalid, "ack", fmt.Sprintf("at most %d acknowledgements per request", maxAcks))
	}
	for jti, e := range req.SetErrs {
		if e.Err == "" || e.Description == "" {
			return PollResult{}, ob.FieldError(ob.CodeFieldMissing, "setErrs."+jti, "setErrs entries need err and description")
		}
		if len(e.Err) > 40 || len(e.Description) > 256 {
			return PollResult{}, ob.FieldError(ob.CodeFieldInvalid, "setErrs."+jti, "err is at most 40 and description at most 256 characters")
		}
	}
	for _, jti := range req.Ack {
		if jti == "" || len(jti) > 128 {
			return PollResult{}, ob.FieldError(ob.CodeFieldInvalid, "ack", "ack holds jti values of 1 to 128 characters")
		}
	}
	now := s.now().UTC()
	if len(req.Ack) > 0 {
		if err := s.Store.AckNotifications(ctx, tppID, req.Ack, now); err != nil {
			return PollResult{}, err
		}
	}
	if len(req.SetErrs) > 0 {
		if err := s.Store.RejectNotifications(ctx, tppID, req.SetErrs, now); err != nil {
			return PollResult{}, err
		}
	}
	res := PollResult{Sets: map[string]string{}}
	if limit == 0 {
		_, more, err := s.Store.PendingForPolling(ctx, tppID, 0)
		res.MoreAvailable = more
		return res, err
	}
	rows, more, err := s.Store.PendingForPolling(ctx, tppID, limit)
	if err != nil {
		return PollResult{}, err
	}
	if s.Signer == nil && len(rows) > 0 {
		return PollResult{}, errors.New("events: polling has no signer")
	}
	for _, n := range rows {
		set, err := sign(ctx, s.Signer, n)
		if err != nil {
			return PollResult{}, fmt.Errorf("events: sign %s: %w", n.JTI, err)
		}
		res.Sets[n.JTI] = set
	}
	res.MoreAvailable = more
	return res, nil
}
