package obtest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/obank/obank/events"
	"github.com/obank/obank/ob"
)

// CallbackURLStore is a store with legacy callback URLs.
type CallbackURLStore interface {
	events.Store
	events.CallbackURLStore
}

// RunCallbackURLStoreTests runs the events.CallbackURLStore contract
// suite. open must return a fresh, empty store for each call.
func RunCallbackURLStoreTests(t *testing.T, open func(t *testing.T) CallbackURLStore) {
	ctx := context.Background()
	s := open(t)
	base := FixtureTime().Truncate(time.Microsecond)
	cb := events.Subscription{ID: "cb-a", TPPID: "tpp-a", CallbackURL: "https://a.example/v3.1/event-notifications",
		Version: "3.1", CreatedAt: base, UpdatedAt: base}
	if err := s.CreateCallbackURL(ctx, cb); err != nil {
		t.Fatal(err)
	}
	dup := cb
	dup.ID = "cb-a2"
	wantCode(t, "second callback URL", s.CreateCallbackURL(ctx, dup), ob.CodeConflict)
	wantCode(t, "subscription over a callback URL", s.CreateSubscription(ctx, dup), ob.CodeConflict)
	sub := events.Subscription{ID: "sub-b", TPPID: "tpp-b", Version: "3.1", CreatedAt: base, UpdatedAt: base}
	if err := s.CreateSubscription(ctx, sub); err != nil {
		t.Fatal(err)
	}
	other := cb
	other.ID, other.TPPID = "cb-b", "tpp-b"
	wantCode(t, "callback URL over a subscription", s.CreateCallbackURL(ctx, other), ob.CodeConflict)

	// The publisher sees the callback URL as a subscription to everything.
	if list, err := s.SubscriptionsByTPP(ctx, "tpp-a"); err != nil || len(list) != 1 || list[0].ID != "cb-a" ||
		list[0].CallbackURL != cb.CallbackURL || !list[0].Wants(events.TypeAccountAccessConsentLinkedAccountUpdate) {
		t.Errorf("SubscriptionsByTPP(tpp-a) = %+v, %v", list, err)
	}
	for id, want := range map[string]bool{"cb-a": true, "sub-b": false, "nope": false} {
		if got, err := s.IsCallbackURL(ctx, id); err != nil || got != want {
			t.Errorf("IsCallbackURL(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	if list, err := s.CallbackURLsByTPP(ctx, "tpp-b"); err != nil || len(list) != 0 {
		t.Errorf("CallbackURLsByTPP(tpp-b) = %+v, %v; want none", list, err)
	}

	cb.CallbackURL, cb.Version, cb.UpdatedAt = "https://a2.example/3.1/event-notifications", "3.1.11", base.Add(time.Minute)
	if err := s.UpdateCallbackURL(ctx, cb); err != nil {
		t.Fatal(err)
	}
	if list, err := s.CallbackURLsByTPP(ctx, "tpp-a"); err != nil || len(list) != 1 || !cmp.Equal(list[0], cb) {
		t.Errorf("CallbackURLsByTPP(tpp-a) = %+v, %v; want %+v", list, err, cb)
	}
	notCB := sub
	notCB.Version = "9"
	wantCode(t, "UpdateCallbackURL(subscription)", s.UpdateCallbackURL(ctx, notCB), ob.CodeResourceNotFound)
	wantCode(t, "DeleteCallbackURL(subscription)", s.DeleteCallbackURL(ctx, "sub-b"), ob.CodeResourceNotFound)

	// Supersession: only over a callback URL.
	if ok, err := s.SupersedeCallbackURL(ctx, events.Subscription{ID: "sub-b2", TPPID: "tpp-b", Version: "3.1",
		CreatedAt: base, UpdatedAt: base}); err != nil || ok {
		t.Errorf("SupersedeCallbackURL(tpp-b) = %v, %v; want false", ok, err)
	}
	repl := events.Subscription{ID: "sub-a", TPPID: "tpp-a", Version: "3.1",
		EventTypes: []string{events.TypeResourceUpdate}, CreatedAt: base, UpdatedAt: base}
	if ok, err := s.SupersedeCallbackURL(ctx, repl); err != nil || !ok {
		t.Fatalf("SupersedeCallbackURL(tpp-a) = %v, %v; want true", ok, err)
	}
	if list, err := s.SubscriptionsByTPP(ctx, "tpp-a"); err != nil || len(list) != 1 || list[0].ID != "sub-a" {
		t.Errorf("after supersession SubscriptionsByTPP(tpp-a) = %+v, %v", list, err)
	}
	if legacy, err := s.IsCallbackURL(ctx, "sub-a"); err != nil || legacy {
		t.Errorf("IsCallbackURL(sub-a) = %v, %v; want false", legacy, err)
	}
	wantCode(t, "DeleteCallbackURL(superseded)", s.DeleteCallbackURL(ctx, "cb-a"), ob.CodeResourceNotFound)
}

// AccountStatusStore is a bank store with the operator's account actions.
type AccountStatusStore interface {
	ob.Store
	ob.ConsentStore
	events.AccountStore
}

// RunAccountStatusStoreTests runs the events.AccountStore contract suite
// on the fixture. open must return a fresh, empty store for each call.
func RunAccountStatusStoreTests(t *testing.T, open func(t *testing.T) AccountStatusStore) {
	ctx := context.Background()
	s := open(t)
	MustImport(t, s, Fixture())
	at := FixtureTime().Add(time.Hour).Truncate(time.Microsecond)
	if err := s.SetAccountStatus(ctx, Acc1, "Disabled", at); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Account(ctx, Acc1); err != nil || a.Status != "Disabled" || !a.StatusUpdateDateTime.Equal(at) {
		t.Errorf("Account(Acc1) = %s %v, %v", a.Status, a.StatusUpdateDateTime, err)
	}
	wantCode(t, "SetAccountStatus(unknown)", s.SetAccountStatus(ctx, "acc-nope", "Deleted", at), ob.CodeResourceNotFound)
	if err := s.SetAccountStatus(ctx, Acc1, "Closed", at); err == nil {
		t.Error("SetAccountStatus(Closed) succeeded")
	}

	mk := func(id, tpp string, authorise bool, accounts ...string) {
		t.Helper()
		c := ob.Consent{ID: id, Kind: ob.KindAccountAccess, TPPID: tpp, Status: ob.ConsentAwaitingAuthorisation,
			CreationDateTime: at, StatusUpdateDateTime: at, Permissions: ob.AllPermissions}
		if err := s.CreateConsent(ctx, c); err != nil {
			t.Fatal(err)
		}
		if authorise {
			if _, err := s.UpdateConsent(ctx, id, at, func(c *ob.Consent) error { return c.Authorise(Alice, accounts, at) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("aac-1", "tpp-1", true, Acc1)
	mk("aac-2", "tpp-2", true, Acc2, Acc1)
	mk("aac-3", "tpp-1", false)
	mk("aac-4", "tpp-1", true, Acc2)
	mk("aac-5", "tpp-1", true, Acc1+"0") // a prefix is not a match
	got, err := s.AuthorisedAccountAccessConsents(ctx, Acc1)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if len(ids) != 2 || ids[0] != "aac-1" || ids[1] != "aac-2" {
		t.Errorf("AuthorisedAccountAccessConsents(Acc1) = %v, want [aac-1 aac-2]", ids)
	}
}
