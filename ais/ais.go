// Package ais is the account-information service: what a TPP may read
// through an account-access grant, and how much of it. It holds the OBIE
// permission semantics (which permission each resource needs, Basic versus
// Detail, ReadPAN, the Credits/Debits split and the consent's transaction
// window) and knows nothing of HTTP or SQL: the wire layer (httpapi) decodes
// requests, calls one method here and encodes what it gets back.
//
// Every method takes the ob.AccessGrant found through the bearer token and
// returns domain values already reduced to what the grant allows: fields
// that need a Detail permission are cleared under Basic, and card numbers are
// masked without ReadPAN. The wire layer omits empty fields, so redaction
// happens in exactly one place, here, where it is table-tested.
//
// Account access rules, in order:
//   - the resource's permission is missing: ob.CodeForbidden (403);
//   - the account is in the grant: served;
//   - the account is held by the grant's customer but was not selected for
//     this consent: ob.CodeForbidden (403, "outside the consent");
//   - otherwise (no such account, or another customer's account):
//     UK.OBIE.Resource.NotFound (400). Answering 403 for another customer's
//     account would tell a TPP that the id exists; answering exactly as for
//     an unknown id reveals nothing.
package ais

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/obank/obank/ob"
)

// Service answers account-information requests from a bank store.
type Service struct {
	Store ob.BankReader
	// Now is the clock; nil means time.Now. It is only used to judge
	// whether a grant is still active.
	Now func() time.Time
}

// View tells the wire layer how much of a resource the grant may see. The
// values a method returns are already redacted accordingly; View is for
// callers that want to say so (and for tests).
type View struct {
	Level ob.Level // LevelBasic or LevelDetail
	PAN   bool     // ReadPAN: card numbers are unmasked
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// forbidden is the error for a permission the grant lacks.
func forbidden(p ...ob.Permission) error {
	if len(p) == 1 {
		return ob.Errorf(ob.CodeForbidden, "the consent does not grant %s", p[0])
	}
	return ob.Errorf(ob.CodeForbidden, "the consent grants none of %v", p)
}

// notFound is the error for an account or resource the TPP may not know about.
func notFound(what, id string) error {
	return ob.FieldError(ob.CodeResourceNotFound, what, fmt.Sprintf("%s %q not found", what, id))
}

// checkGrant refuses a grant that is no longer usable. The HTTP layer
// already refuses inactive grants with 401 before it calls the service; the
// check here keeps the service safe for other callers.
func (s *Service) checkGrant(g ob.AccessGrant) error {
	if !g.Active(s.now()) {
		return ob.Errorf(ob.CodeUnauthorized, "the consent is revoked or expired")
	}
	return nil
}

// level returns the Basic/Detail level for a resource or a 403.
func (s *Service) level(g ob.AccessGrant, basic, detail ob.Permission) (View, error) {
	if err := s.checkGrant(g); err != nil {
		return View{}, err
	}
	lvl := g.Permissions.Level(basic, detail)
	if lvl == ob.LevelNone {
		return View{}, forbidden(basic, detail)
	}
	return View{Level: lvl, PAN: g.Permissions.Has(ob.ReadPAN)}, nil
}

// require checks a single permission; resources without a Basic/Detail
// split are served at LevelDetail.
func (s *Service) require(g ob.AccessGrant, p ob.Permission) (View, error) {
	if err := s.checkGrant(g); err != nil {
		return View{}, err
	}
	if !g.Permissions.Has(p) {
		return View{}, forbidden(p)
	}
	return View{Level: ob.LevelDetail, PAN: g.Permissions.Has(ob.ReadPAN)}, nil
}

// scope resolves the accounts a request covers: the one account named in
// the path, checked against the grant, or every account of the grant for
// the bulk endpoints (accountID == "").
func (s *Service) scope(ctx context.Context, g ob.AccessGrant, accountID string) ([]string, error) {
	if accountID == "" {
		return slices.Clone(g.AccountIDs), nil
	}
	if g.CoversAccount(accountID) {
		return []string{accountID}, nil
	}
	acc, err := s.Store.Account(ctx, accountID)
	if ob.IsNotFound(err) {
		return nil, notFound("AccountId", accountID)
	}
	if err != nil {
		return nil, fmt.Errorf("ais: looking up account %s: %w", accountID, err)
	}
	held, err := s.heldBy(ctx, acc, g.CustomerID)
	if err != nil {
		return nil, err
	}
	if !held {
		return nil, notFound("AccountId", accountID)
	}
	return nil, ob.Errorf(ob.CodeForbidden, "account %s is not part of the consent", accountID)
}

// heldBy reports whether customerID holds acc, as primary or joint holder.
func (s *Service) heldBy(ctx context.Context, acc ob.Account, customerID string) (bool, error) {
	if customerID == "" {
		return false, nil
	}
	if acc.CustomerID == customerID {
		return true, nil
	}
	holders, err := s.Store.AccountHolders(ctx, acc.ID)
	if err != nil {
		return false, fmt.Errorf("ais: holders of account %s: %w", acc.ID, err)
	}
	return slices.ContainsFunc(holders, func(h ob.AccountHolder) bool { return h.CustomerID == customerID }), nil
}

// listAccounts returns the accounts of the request's scope that exist. An
// account in the grant that has since been deleted from the store is a 400
// NotFound when named in the path, and silently absent from bulk lists.
func (s *Service) listAccounts(ctx context.Context, g ob.AccessGrant, accountID string) ([]ob.Account, error) {
	ids, err := s.scope(ctx, g, accountID)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return []ob.Account{}, nil
	}
	accs, err := s.Store.Accounts(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("ais: reading accounts: %w", err)
	}
	if accountID != "" && len(accs) == 0 {
		return nil, notFound("AccountId", accountID)
	}
	return accs, nil
}
