package demo

import (
	"fmt"
	"time"

	"github.com/obank/obank/ob"
)

// statementRef is the reference of an account's statement for a month
// (key is yyyymm); the account's entries of that month carry it too.
func statementRef(a *acct, key int) string { return fmt.Sprintf("S%s-%06d", a.id[4:], key) }

// finish moves the simulated household into the batch: accounts with their
// holders, products, balances, entries and statements, then the payees,
// mandates and standing orders with what the history did to them.
func (h *household) finish() {
	g := h.g
	d := g.data
	for _, a := range h.accts {
		d.Accounts = append(d.Accounts, a.acc)
		for i, m := range a.holders {
			holder := ob.AccountHolder{AccountID: a.id, CustomerID: m.id, PartyType: "Sole", AccountRole: "UK.OBIE.Principal"}
			if len(a.holders) > 1 {
				holder.PartyType = "Joint"
				if i > 0 {
					holder.AccountRole = "UK.OBIE.SecondaryOwner"
				}
			}
			d.AccountHolders = append(d.AccountHolders, holder)
		}
		p := a.kind.product()
		d.Products = append(d.Products, ob.Product{ID: a.acc.ProductID, AccountID: a.id, Name: p.name, SecondaryID: p.secondaryID, Type: p.productType})
		h.balances(a)
		h.closeMonths(a, g.today)
	}
	d.Beneficiaries = append(d.Beneficiaries, h.bens...)
	for _, dd := range h.dds {
		if !dd.last.IsZero() {
			dd.rec.PreviousPaymentDateTime = ptr(dd.last)
			dd.rec.PreviousPaymentAmount = &ob.Money{Minor: dd.lastAmount, Currency: dd.from.cur}
		}
		if !dd.until.IsZero() {
			dd.rec.Status = "Inactive"
		}
		d.DirectDebits = append(d.DirectDebits, dd.rec)
	}
	for _, so := range h.sos {
		cur := so.from.cur
		if so.count > 0 {
			so.rec.LastPaymentDateTime = ptr(so.last)
			so.rec.LastPaymentAmount = &ob.Money{Minor: so.lastAmount, Currency: cur}
		}
		if !so.final.IsZero() && so.final.Before(g.today) {
			so.rec.Status = "Inactive"
		} else {
			// The next run is the first due date whose 06:00 batch is still
			// ahead of the Anchor.
			for n := g.today; ; n = n.AddDate(0, 0, 1) {
				if so.due(n) && n.Add(6*time.Hour).After(g.cfg.Anchor) {
					so.rec.NextPaymentDateTime = ptr(n.Add(6 * time.Hour))
					so.rec.NextPaymentAmount = &ob.Money{Minor: so.amount, Currency: cur}
					break
				}
			}
		}
		d.StandingOrders = append(d.StandingOrders, so.rec)
	}
	d.ScheduledPayments = append(d.ScheduledPayments, h.sps...)
	d.Offers = append(d.Offers, h.offer...)
}

// balances records the account's balances at the Anchor: booked, available
// (booked plus pending plus any credit line) and the close of yesterday,
// which is the booked balance as the history stops at the end of yesterday.
func (h *household) balances(a *acct) {
	g := h.g
	money := func(v int64) ob.Money { return ob.Money{Minor: v, Currency: a.cur} }
	lines := func(included bool) []ob.CreditLine {
		if a.limit == 0 {
			return nil
		}
		typ := "Pre-Agreed"
		if a.kind.isCard() {
			typ = "Credit"
		}
		return []ob.CreditLine{{Included: included, Type: typ, Amount: ptr(money(a.limit))}}
	}
	g.data.Balances = append(g.data.Balances,
		ob.Balance{AccountID: a.id, Type: ob.BalanceInterimBooked, DateTime: g.cfg.Anchor, Amount: money(a.balance), CreditLines: lines(false)},
		ob.Balance{AccountID: a.id, Type: ob.BalanceInterimAvailable, DateTime: g.cfg.Anchor, Amount: money(a.balance + a.pending + a.limit), CreditLines: lines(true)},
		ob.Balance{AccountID: a.id, Type: ob.BalanceClosingBooked, DateTime: g.today.Add(-time.Second), Amount: money(a.balance), CreditLines: lines(false)},
	)
}

// closeMonths writes the statements of the account's months that end by
// time at, one RegularPeriodic statement per whole calendar month of the
// history, from the booked entries summed as they were posted. A month
// without entries still gets its statement, with the balance carried over.
func (h *household) closeMonths(a *acct, at time.Time) {
	g := h.g
	thisMonth := day(g.today.Year(), g.today.Month(), 1)
	for {
		m := &a.month
		end := m.start.AddDate(0, 1, 0)
		if end.After(at) {
			return
		}
		if !m.start.Before(g.firstStmt) && !end.After(thisMonth) {
			h.statement(a, m, end)
		}
		a.month = monthTotals{start: end, opening: a.balance}
	}
}

func (h *household) statement(a *acct, m *monthTotals, end time.Time) {
	g := h.g
	money := func(v int64) ob.Money { return ob.Money{Minor: v, Currency: a.cur} }
	p := a.kind.product()
	closing := m.opening + m.in + m.out
	key := m.start.Year()*100 + int(m.start.Month())
	s := ob.Statement{
		ID:               fmt.Sprintf("stm-%s-%06d", a.id[4:], key),
		AccountID:        a.id,
		Reference:        statementRef(a, key),
		Type:             "RegularPeriodic",
		StartDateTime:    m.start,
		EndDateTime:      end.Add(-time.Second),
		CreationDateTime: end,
		Descriptions:     []string{p.description + " statement, " + m.start.Format("January 2006")},
		Amounts: []ob.StatementAmount{
			{Type: ob.StatementAmountStartingBalance, Amount: money(m.opening)},
			{Type: ob.StatementAmountClosingBalance, Amount: money(closing)},
			{Type: ob.StatementAmountTotalCredits, Amount: money(m.in)},
			{Type: ob.StatementAmountTotalDebits, Amount: money(m.out)},
		},
	}
	if m.interestPaid != 0 {
		s.Interest = []ob.StatementCharge{{
			Description: "Interest for " + m.start.Format("January 2006"),
			Type:        "UK.OBIE.Total",
			Rate:        rate(a.rateBps),
			RateType:    "UK.OBIE.Gross",
			Frequency:   "UK.OBIE.Monthly",
			Amount:      money(m.interestPaid),
		}}
	}
	if a.kind.isCard() {
		minimum := int64(0)
		if closing < 0 {
			minimum = min(-closing, max(2500, -closing*3/100))
		}
		s.Amounts = append(s.Amounts,
			ob.StatementAmount{Type: ob.StatementAmountCreditLimit, Amount: money(a.limit)},
			ob.StatementAmount{Type: ob.StatementAmountMinimumPayment, Amount: money(minimum)})
		s.DateTimes = []ob.StatementDateTime{{Type: "UK.OBIE.PaymentDue", DateTime: nextWorkingDay(day(end.Year(), end.Month(), a.payDay))}}
		s.Rates = []ob.StatementValue{{Type: "UK.OBIE.AnnualPurchase", Value: rate(a.rateBps)}}
	}
	g.data.Statements = append(g.data.Statements, s)
}

// rate formats basis points as a percentage ("22.9" for 2290).
func rate(bps int64) string {
	s := fmt.Sprintf("%d.%02d", bps/100, bps%100)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}
