package ob

import (
	"testing"
	"time"
)

func TestConsentTransitions(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	all := []ConsentStatus{ConsentAwaitingAuthorisation, ConsentAuthorised, ConsentRejected, ConsentRevoked, ConsentConsumed, ConsentExpired}
	legal := map[[2]ConsentStatus]bool{
		{ConsentAwaitingAuthorisation, ConsentAuthorised}: true,
		{ConsentAwaitingAuthorisation, ConsentRejected}:   true,
		{ConsentAuthorised, ConsentRevoked}:               true,
		{ConsentAuthorised, ConsentConsumed}:              true,
		{ConsentAuthorised, ConsentExpired}:               true,
	}
	for _, from := range all {
		for _, to := range all {
			c := Consent{ID: "c", Kind: KindFundsConfirmation, Status: from}
			err := c.transition(to, now)
			if want := legal[[2]ConsentStatus{from, to}]; (err == nil) != want {
				t.Errorf("%s -> %s: err = %v, want legal=%v", from, to, err, want)
			}
			if err != nil && ErrorCode(err) != CodeResourceInvalidConsentStatus {
				t.Errorf("%s -> %s: code %s, want %s", from, to, ErrorCode(err), CodeResourceInvalidConsentStatus)
			}
			if err == nil && (c.Status != to || !c.StatusUpdateDateTime.Equal(now)) {
				t.Errorf("%s -> %s: consent = %+v", from, to, c)
			}
		}
	}
}

func TestConsentAuthorise(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	tests := []struct {
		name     string
		c        Consent
		accounts []string
		wantCode string
	}{
		{"ok", Consent{Kind: KindAccountAccess, Status: ConsentAwaitingAuthorisation, ExpirationDateTime: &future}, []string{"a"}, ""},
		{"no accounts", Consent{Kind: KindAccountAccess, Status: ConsentAwaitingAuthorisation}, nil, CodeFieldMissing},
		{"expired", Consent{Kind: KindAccountAccess, Status: ConsentAwaitingAuthorisation, ExpirationDateTime: &past}, []string{"a"}, CodeResourceInvalidConsentStatus},
		{"deleted", Consent{Kind: KindAccountAccess, Status: ConsentAwaitingAuthorisation, DeletedAt: &past}, []string{"a"}, CodeResourceInvalidConsentStatus},
		{"already rejected", Consent{Kind: KindAccountAccess, Status: ConsentRejected}, []string{"a"}, CodeResourceInvalidConsentStatus},
	}
	for _, tt := range tests {
		err := tt.c.Authorise("cus-1", tt.accounts, now)
		if ErrorCode(err) != tt.wantCode {
			t.Errorf("%s: Authorise err = %v, want code %q", tt.name, err, tt.wantCode)
		}
		if err == nil && (tt.c.CustomerID != "cus-1" || tt.c.Grant().AccountIDs[0] != "a") {
			t.Errorf("%s: consent = %+v", tt.name, tt.c)
		}
	}
}

func TestConsentExpire(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	tests := []struct {
		status  ConsentStatus
		expires *time.Time
		want    ConsentStatus
		changed bool
	}{
		{ConsentAuthorised, &past, ConsentExpired, true},
		{ConsentAwaitingAuthorisation, &past, ConsentRejected, true},
		{ConsentAuthorised, &future, ConsentAuthorised, false},
		{ConsentAuthorised, nil, ConsentAuthorised, false},
		{ConsentRevoked, &past, ConsentRevoked, false},
	}
	for _, tt := range tests {
		c := Consent{Status: tt.status, ExpirationDateTime: tt.expires}
		if got := c.Expire(now); got != tt.changed || c.Status != tt.want {
			t.Errorf("Expire(%s, %v) = %v, status %s; want %v, %s", tt.status, tt.expires, got, c.Status, tt.changed, tt.want)
		}
	}
	if ConsentExpired.WireStatus() != "Revoked" || ConsentAuthorised.WireStatus() != "Authorised" {
		t.Error("WireStatus mapping broken")
	}
}
