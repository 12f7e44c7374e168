package ais

import (
	"strings"

	"github.com/obank/obank/ob"
)

// MaskPAN hides a card number for a TPP without ReadPAN: every character but
// the last four becomes '*', so "4929123412341234" is "************1234".
// OBIE allows at most the first six and last four digits; showing only the
// last four is the stricter choice and still lets a customer recognise the
// card. Values of four characters or fewer are masked entirely.
func MaskPAN(pan string) string {
	if len(pan) <= 4 {
		return strings.Repeat("*", len(pan))
	}
	return strings.Repeat("*", len(pan)-4) + pan[len(pan)-4:]
}

// maskAccountID masks the identification of a PAN-scheme account.
func maskAccountID(a ob.AccountIdentification, v View) ob.AccountIdentification {
	if !v.PAN && a.SchemeName == ob.SchemePAN {
		a.Identification = MaskPAN(a.Identification)
	}
	return a
}

func maskAccountIDPtr(a *ob.AccountIdentification, v View) *ob.AccountIdentification {
	if a == nil {
		return nil
	}
	m := maskAccountID(*a, v)
	return &m
}

// redactAccount clears what ReadAccountsBasic does not see (the account
// identifications and the servicer) and masks PANs without ReadPAN.
// It never writes through the store's slices: they are copied first.
func redactAccount(a ob.Account, v View) ob.Account {
	if v.Level < ob.LevelDetail {
		a.Identifications = nil
		a.Servicer = nil
		return a
	}
	ids := make([]ob.AccountIdentification, len(a.Identifications))
	for i, id := range a.Identifications {
		ids[i] = maskAccountID(id, v)
	}
	a.Identifications = ids
	return a
}

// redactCreditor applies Basic/Detail and ReadPAN to the creditor of a
// beneficiary, standing order or scheduled payment.
func redactCreditor(agent *ob.Agent, acc *ob.AccountIdentification, v View) (*ob.Agent, *ob.AccountIdentification) {
	if v.Level < ob.LevelDetail {
		return nil, nil
	}
	return agent, maskAccountIDPtr(acc, v)
}

// redactTransaction clears what ReadTransactionsBasic does not see and
// masks card numbers without ReadPAN.
func redactTransaction(t ob.Transaction, v View) ob.Transaction {
	if v.Level < ob.LevelDetail {
		t.Information = ""
		t.BalanceAfter = nil
		t.Merchant = nil
		t.CreditorAgent, t.CreditorAccount = nil, nil
		t.DebtorAgent, t.DebtorAccount = nil, nil
	} else {
		t.CreditorAccount = maskAccountIDPtr(t.CreditorAccount, v)
		t.DebtorAccount = maskAccountIDPtr(t.DebtorAccount, v)
	}
	if t.Card != nil && !v.PAN {
		c := *t.Card
		c.Identification = MaskPAN(c.Identification)
		t.Card = &c
	}
	return t
}

// transactionIntact reports whether redactTransaction(t, v) is t itself:
// the view sees everything t holds. ScanTransactions then hands t on as it
// is instead of copying it, which was most of the cost of redacting a page.
// It may answer false for a transaction redaction would not change; a
// test holds it to redactTransaction for every view.
func transactionIntact(t *ob.Transaction, v View) bool {
	if v.Level < ob.LevelDetail {
		return false
	}
	return v.PAN || t.Card == nil && !panAccount(t.CreditorAccount) && !panAccount(t.DebtorAccount)
}

// panAccount reports whether maskAccountID masks a, without ReadPAN.
func panAccount(a *ob.AccountIdentification) bool {
	return a != nil && a.SchemeName == ob.SchemePAN
}

// redactStatement clears the statement amounts under ReadStatementsBasic.
func redactStatement(s ob.Statement, v View) ob.Statement {
	if v.Level < ob.LevelDetail {
		s.Amounts = nil
	}
	return s
}
