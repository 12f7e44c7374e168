package demo

import (
	"fmt"
	"slices"
	"time"

	"github.com/obank/obank/ob"
)

// simulate runs the household's history day by day. Each day has a morning
// batch at 06:00 (interest, salaries, standing orders, direct debits, as a
// bank's overnight run posts them) and then the day's card payments and
// transfers at random times, so entries are generated in time order and
// every booked entry's BalanceAfter is the running balance.
func (h *household) simulate() {
	g := h.g
	small := h.smallMerchants()
	var clients []*ob.AccountIdentification
	if h.biz != nil {
		for _, c := range businessTrades[h.biz.sector].clients {
			clients = append(clients, h.externalAccount(c))
		}
	}
	var euroPayer *ob.AccountIdentification
	if h.find(kindEuroCurrent) != nil {
		bban := g.uniqueDigits(h.r, "", 23, false)
		iban, err := ob.NewIBAN("FR", bban)
		if err != nil {
			panic(err) // 23 digits always make a French IBAN
		}
		euroPayer = &ob.AccountIdentification{SchemeName: ob.SchemeIBAN, Identification: iban, Name: "Agence Immobiliere Rhone"}
	}
	for d := g.start; d.Before(g.today); d = d.AddDate(0, 0, 1) {
		h.morning(d)
		if h.biz != nil {
			h.businessDay(d, clients)
		} else {
			h.personalDay(d, small, euroPayer)
		}
	}
}

func (h *household) morning(d time.Time) {
	t := d.Add(6 * time.Hour)
	next := func() time.Time { t = t.Add(time.Minute); return t }
	if d.Day() == 1 {
		h.interest(next)
	}
	for _, m := range h.members {
		if m.salary > 0 && d.Equal(m.payDate(d)) {
			h.paySalary(m, d, next())
		}
	}
	for _, so := range h.sos {
		if so.active(d) && so.due(d) {
			h.runSO(so, next())
		}
	}
	for _, dd := range h.dds {
		if dd.due(d) {
			h.collect(dd, next())
		}
	}
	h.rebalance(d, next)
}

// payDate is the member's pay day in d's month: a fixed day, or the last
// working day, brought forward from a weekend.
func (m *member) payDate(d time.Time) time.Time {
	if m.payDay == 0 {
		return prevWorkingDay(day(d.Year(), d.Month()+1, 0))
	}
	return prevWorkingDay(day(d.Year(), d.Month(), m.payDay))
}

// post books an entry on an account at time at (nudged a second past the
// account's previous entry so that booking times are unique and ordered),
// assigning its id, status and running balance. Card payments in the last
// two days are still Pending: they carry no BalanceAfter and only affect
// the available balance.
func (h *household) post(a *acct, at time.Time, amount int64, t ob.Transaction) {
	if !at.After(a.lastStamp) {
		at = a.lastStamp.Add(time.Second)
	}
	a.lastStamp = at
	a.seq++
	t.ID = fmt.Sprintf("txn-%s-%06d", a.id[4:], a.seq)
	t.AccountID = a.id
	t.Amount = ob.Money{Minor: amount, Currency: a.cur}
	t.BookingDateTime = at
	t.ValueDateTime = h.slab.time(at)
	if t.Card != nil && !at.Before(h.g.pendingFrom) {
		t.Status = ob.TxPending
		t.Mutability = "Mutable"
		a.pending += amount
	} else {
		if !at.Before(a.month.start.AddDate(0, 1, 0)) {
			h.closeMonths(a, at)
		}
		t.Status = ob.TxBooked
		t.Mutability = "Immutable"
		a.balance += amount
		t.BalanceAfter = h.slab.money(ob.Money{Minor: a.balance, Currency: a.cur})
		t.StatementReferences = h.stmtRef(a, at)
		if amount >= 0 {
			a.month.in += amount
		} else {
			a.month.out += amount
		}
		if t.ProprietaryBankTransactionCode == h.g.codes.pINT {
			a.month.interestPaid += amount
		}
	}
	// Straight into the batch: a per-account copy would double the
	// generator's memory for nothing.
	h.g.data.Transactions = append(h.g.data.Transactions, t)
}

// stmtRef names the monthly statement an entry booked at at appears on, nil
// when that month has no statement (the part month at either end). Entries
// of one month share the slice.
func (h *household) stmtRef(a *acct, at time.Time) []string {
	g := h.g
	m := day(at.Year(), at.Month(), 1)
	if m.Before(g.firstStmt) || !m.Before(day(g.today.Year(), g.today.Month(), 1)) {
		return nil
	}
	key := at.Year()*100 + int(at.Month())
	if s, ok := a.stmtRefs[key]; ok {
		return s
	}
	s := []string{statementRef(a, key)}
	a.stmtRefs[key] = s
	return s
}

// available is what can be spent without going overdrawn (or, on a card,
// past 90% of the limit): the demo's customers rarely use their overdraft.
func (a *acct) available() int64 {
	if a.kind.isCard() {
		return a.limit*9/10 + a.balance + a.pending
	}
	return a.balance + a.pending
}

func (h *household) transfer(from, to *acct, amount int64, at time.Time, info, ref string) {
	c := &h.g.codes
	h.post(from, at, -amount, ob.Transaction{
		Information: clip(info, 500), Reference: ref, BankTransactionCode: c.creditOut, ProprietaryBankTransactionCode: c.pTFR,
		Category: catTransfers, CreditorAccount: to.ident,
	})
	h.post(to, at, amount, ob.Transaction{
		Information: clip(info, 500), Reference: ref, BankTransactionCode: c.creditIn, ProprietaryBankTransactionCode: c.pTFR,
		Category: catTransfers, DebtorAccount: from.ident,
	})
}

func (h *household) interest(next func() time.Time) {
	c := &h.g.codes
	for _, a := range h.accts {
		var amt int64
		var info string
		switch {
		case a.kind == kindSavings || a.kind == kindBizSavings:
			amt, info = a.balance*a.rateBps/120000, "Interest paid"
		case a.kind.isLending():
			amt, info = a.balance*a.rateBps/120000, "Interest charged"
		case a.kind.isCard():
			amt, info, a.interest = -a.interest, "Interest on purchases", 0
		case a.balance < 0: // an overdrawn current account
			amt, info = a.balance*3990/120000, "Overdraft interest"
		}
		if amt == 0 {
			continue
		}
		t := ob.Transaction{Information: info, ProprietaryBankTransactionCode: c.pINT, Category: catIncome, BankTransactionCode: c.interestIn}
		if amt < 0 {
			t.BankTransactionCode, t.Category = c.interestOut, catBills
		}
		h.post(a, next(), amt, t)
	}
}

func (h *household) paySalary(m *member, d time.Time, at time.Time) {
	c := &h.g.codes
	years := int64(d.Sub(h.g.start).Hours() / 24 / 365)
	amount := m.salary + m.salary*3*years/100 // a 3% rise each year
	if d.Month() == time.December {
		amount += m.salary / 10 // a little bonus
	}
	h.post(m.payTo, at, amount, ob.Transaction{
		Information:                    clip(m.employer.Name+" salary", 500),
		Reference:                      "SALARY " + d.Format("Jan 2006"),
		BankTransactionCode:            c.creditIn,
		ProprietaryBankTransactionCode: c.pBGC,
		Category:                       catIncome,
		DebtorAccount:                  m.employer,
	})
}

func (h *household) runSO(so *soPlan, at time.Time) {
	c := &h.g.codes
	from := so.from
	// A transfer between the customer's own accounts waits for the money;
	// a payment to someone else may use the overdraft, never beyond it.
	if so.to != nil && from.available() < so.amount || from.balance+from.pending+from.limit < so.amount {
		return
	}
	h.post(from, at, -so.amount, ob.Transaction{
		Information:                    clip(so.info+" to "+so.payee.Name, 500),
		Reference:                      so.rec.Reference,
		BankTransactionCode:            c.soOut,
		ProprietaryBankTransactionCode: c.pSO,
		Category:                       so.category,
		CreditorAccount:                so.payee,
	})
	if so.to != nil {
		h.post(so.to, at, so.amount, ob.Transaction{
			Information:                    clip(so.info+" from "+from.ident.Name, 500),
			Reference:                      so.rec.Reference,
			BankTransactionCode:            c.soIn,
			ProprietaryBankTransactionCode: c.pSO,
			Category:                       catTransfers,
			DebtorAccount:                  from.ident,
		})
	}
	so.last, so.lastAmount = at, so.amount
	so.count++
}

func (h *household) collect(dd *ddPlan, at time.Time) {
	r, c := h.r, &h.g.codes
	from, to := dd.from, dd.to
	amount := dd.amount
	switch {
	case to != nil && to.kind.isCard():
		due := -to.balance
		if due <= 0 {
			return
		}
		amount = due
		if !to.fullPay {
			amount = min(due, max(due*between(r, 15, 40)/100, 2500))
			to.interest = (due - amount) * to.rateBps / 120000
		}
		// The repayment takes what there is, down to the overdraft limit.
		amount = min(amount, max(from.balance+from.pending+from.limit, 0))
	case to != nil: // a loan or mortgage
		amount = min(to.payment, -to.balance)
	case dd.b.variable:
		amount = amount * between(r, 85, 120) / 100
	}
	if amount <= 0 || from.balance+from.pending+from.limit < amount {
		return // a real bank would return the debit unpaid
	}
	h.post(from, at, -amount, ob.Transaction{
		Information:                    dd.rec.Name,
		Reference:                      dd.rec.MandateIdentification,
		BankTransactionCode:            c.ddOut,
		ProprietaryBankTransactionCode: c.pDD,
		Category:                       dd.category,
	})
	if to != nil {
		h.post(to, at, amount, ob.Transaction{
			Information:                    "Payment received, thank you",
			Reference:                      dd.rec.MandateIdentification,
			BankTransactionCode:            c.ddIn,
			ProprietaryBankTransactionCode: c.pDD,
			Category:                       catTransfers,
			DebtorAccount:                  from.ident,
		})
	}
	dd.last, dd.lastAmount = at, amount
}

// rebalance does what careful customers do: cover an overdrawn current
// account from savings, and move a pile of idle money into savings.
func (h *household) rebalance(d time.Time, next func() time.Time) {
	var savings *acct
	for _, a := range h.accts {
		if a.kind == kindSavings || a.kind == kindBizSavings {
			savings = a
			break
		}
	}
	if savings == nil {
		return
	}
	for _, a := range h.accts {
		if a.kind != kindCurrent && a.kind != kindJointCurrent && a.kind != kindBizCurrent {
			continue
		}
		income := max(a.owner.salary, h.revenue)
		switch {
		case a.balance < 0 && savings.balance > -a.balance:
			need := min((-a.balance+20000)/1000*1000+1000, savings.balance)
			h.transfer(savings, a, need, next(), "Transfer from savings", "TOP UP")
		case d.Day() == 10 && a.balance > 3*income:
			h.transfer(a, savings, (a.balance-income*3/2)/10000*10000, next(), "Transfer to savings", "SAVINGS")
		}
	}
}

// purchaseOdds is the distribution of a person's card payments in a day
// (0 to 5, in twentieths): 2.3 on average.
var purchaseOdds = [...]int{2, 4, 5, 5, 3, 1}

const purchasesPerDayX10 = 23

// purchases draws how many card payments a person makes in a day.
func (h *household) purchases() int {
	x := h.r.IntN(20)
	for n, odds := range purchaseOdds {
		if x < odds {
			return n
		}
		x -= odds
	}
	return 0
}

// dayTimes returns n sorted times of day between 07:00 and 22:30.
func (h *household) dayTimes(d time.Time, n int) []time.Time {
	secs := make([]int, n)
	for i := range secs {
		secs[i] = 7*3600 + h.r.IntN(15*3600+1800)
	}
	slices.Sort(secs)
	out := make([]time.Time, n)
	for i, s := range secs {
		out[i] = d.Add(time.Duration(s) * time.Second)
	}
	return out
}

// authType picks how a card payment was authorised: online ones need none,
// contactless only up to the UK's £100 limit.
func (h *household) authType(online bool, amount int64) int {
	switch x := h.r.IntN(10); {
	case online:
		return authNone
	case amount <= 10000 && x < 6:
		return authContactless
	case x < 8:
		return authDevice
	}
	return authPIN
}

func (h *household) cardPayment(a *acct, at time.Time, amount int64, m *ob.Merchant, category string, auth int) {
	c := &h.g.codes
	h.post(a, at, -amount, ob.Transaction{
		Information:                    m.Name,
		BankTransactionCode:            c.card,
		ProprietaryBankTransactionCode: c.pDEB,
		Merchant:                       m,
		Category:                       category,
		Card:                           a.cards[auth],
	})
}

func (h *household) personalDay(d time.Time, small []int, euroPayer *ob.AccountIdentification) {
	g, r, c := h.g, h.r, &h.g.codes
	for _, m := range h.members {
		scale := m.scale
		for _, at := range h.dayTimes(d, h.purchases()) {
			mi := g.pickMerchant(r)
			mm := &merchants[mi]
			amount := between(r, mm.lo, mm.hi) * scale / 100
			on := m.card
			if m.cc != nil && (r.IntN(100) < 35 || mm.category == catTravel) {
				on = m.cc
			}
			if on.available() < amount {
				if on = m.card; on.available() < amount {
					continue
				}
			}
			h.cardPayment(on, at, amount, g.merchants[mi], mm.category, h.authType(mm.online, amount))
		}
		if r.IntN(12) == 0 {
			amount := between(r, 1, 10) * 1000
			if m.card.available() >= amount {
				h.post(m.card, d.Add(time.Duration(8*3600+r.IntN(12*3600))*time.Second), -amount, ob.Transaction{
					Information:                    [...]string{"Cash withdrawal OBank ATM", "Cash withdrawal Cardtronics", "Cash withdrawal Post Office"}[r.IntN(3)],
					BankTransactionCode:            c.atm,
					ProprietaryBankTransactionCode: c.pCPT,
					Merchant:                       &ob.Merchant{Name: "ATM", CategoryCode: "6011"},
					Category:                       catCash,
					Card:                           m.card.cards[authPIN],
				})
			}
		}
		if r.IntN(18) == 0 {
			var mine []int
			for i := range h.bens {
				if h.bens[i].AccountID == m.card.id {
					mine = append(mine, i)
				}
			}
			if len(mine) > 0 {
				b := &h.bens[mine[r.IntN(len(mine))]]
				amount := between(r, 10, 150) * 100
				if m.card.available() >= amount {
					h.post(m.card, d.Add(time.Duration(9*3600+r.IntN(12*3600))*time.Second), -amount, ob.Transaction{
						Information:                    clip("Faster payment to "+b.CreditorAccount.Name, 500),
						Reference:                      b.Reference,
						BankTransactionCode:            c.creditOut,
						ProprietaryBankTransactionCode: c.pFPO,
						Category:                       catTransfers,
						CreditorAccount:                b.CreditorAccount,
					})
				}
			}
		}
	}
	for _, s := range h.subs {
		if d.Day() == s.dom && s.on.available() >= s.s.amount {
			h.post(s.on, d.Add(3*time.Hour), -s.s.amount, ob.Transaction{
				Information:                    s.s.name,
				BankTransactionCode:            c.card,
				ProprietaryBankTransactionCode: c.pDEB,
				Merchant:                       s.m,
				Category:                       s.s.category,
				Card:                           s.on.cards[authNone],
			})
		}
	}
	for _, a := range h.accts {
		switch a.kind {
		case kindEuroCurrent:
			if d.Day() == 5 {
				h.post(a, d.Add(10*time.Hour), between(r, 650, 1100)*100, ob.Transaction{
					Information:                    "Loyer appartement Lyon",
					Reference:                      "LOYER " + d.Format("01-2006"),
					BankTransactionCode:            c.creditIn,
					ProprietaryBankTransactionCode: c.pFPI,
					Category:                       catIncome,
					DebtorAccount:                  euroPayer,
				})
			}
			if r.IntN(4) == 0 {
				mm := &euroMerchants[r.IntN(len(euroMerchants))]
				amount := between(r, mm.lo, mm.hi)
				if a.available() >= amount {
					h.cardPayment(a, d.Add(time.Duration(9*3600+r.IntN(12*3600))*time.Second), amount,
						&ob.Merchant{Name: mm.name, CategoryCode: mm.mcc}, mm.category, h.authType(mm.online, amount))
				}
			}
		case kindPrepaid:
			if r.IntN(3) == 0 {
				mi := small[r.IntN(len(small))]
				mm := &merchants[mi]
				amount := between(r, mm.lo, min(mm.hi, 1200))
				if a.available() >= amount {
					h.cardPayment(a, d.Add(time.Duration(12*3600+r.IntN(8*3600))*time.Second), amount, g.merchants[mi], mm.category, authContactless)
				}
			}
		}
	}
}

// smallMerchants are those a child's prepaid card plausibly pays.
func (h *household) smallMerchants() []int {
	var out []int
	for i, m := range merchants {
		if m.lo <= 300 && !m.online {
			out = append(out, i)
		}
	}
	return out
}

func (h *household) businessDay(d time.Time, clients []*ob.AccountIdentification) {
	r, c := h.r, &h.g.codes
	trade := businessTrades[h.biz.sector]
	cur := h.spend
	m := h.members[0]
	open := d.Weekday() != time.Sunday && (d.Weekday() != time.Saturday || h.biz.sector == 0)
	if open {
		for range r.IntN(4) {
			ci := r.IntN(len(clients))
			h.post(cur, d.Add(time.Duration(7*3600+r.IntN(14*3600))*time.Second), h.revenue*between(r, 50, 150)/100/30, ob.Transaction{
				Information:                    clip(trade.income+" "+trade.clients[ci], 500),
				Reference:                      fmt.Sprintf("INV%05d", r.IntN(100000)),
				BankTransactionCode:            c.creditIn,
				ProprietaryBankTransactionCode: c.pFPI,
				Category:                       catIncome,
				DebtorAccount:                  clients[ci],
			})
		}
		if r.IntN(3) == 0 {
			s := &trade.suppliers[r.IntN(len(trade.suppliers))]
			amount := between(r, s.lo, s.hi)
			on := cur
			if m.cc != nil && r.IntN(2) == 0 {
				on = m.cc
			}
			if on.available() >= amount {
				h.cardPayment(on, d.Add(time.Duration(8*3600+r.IntN(9*3600))*time.Second), amount,
					&ob.Merchant{Name: s.name, CategoryCode: s.mcc}, s.category, h.authType(s.online, amount))
			}
		}
	}
	if d.Weekday() == time.Tuesday && len(h.bens) > 0 {
		b := &h.bens[r.IntN(len(h.bens))]
		amount := h.revenue * between(r, 2, 8) / 100
		if cur.available() >= amount {
			h.post(cur, d.Add(11*time.Hour), -amount, ob.Transaction{
				Information:                    clip("Payment to "+b.CreditorAccount.Name, 500),
				Reference:                      b.Reference,
				BankTransactionCode:            c.creditOut,
				ProprietaryBankTransactionCode: c.pFPO,
				Category:                       catBills,
				CreditorAccount:                b.CreditorAccount,
			})
		}
	}
	if d.Equal(prevWorkingDay(day(d.Year(), d.Month(), 28))) {
		amount := min(h.revenue*35/100, max(cur.balance+cur.pending+cur.limit, 0))
		if amount > 0 {
			h.post(cur, d.Add(9*time.Hour), -amount, ob.Transaction{
				Information:                    "Payroll " + d.Format("January 2006"),
				Reference:                      "PAYROLL " + d.Format("01/06"),
				BankTransactionCode:            c.creditOut,
				ProprietaryBankTransactionCode: c.pFPO,
				Category:                       catBills,
			})
		}
	}
	if d.Day() == 7 && d.Month()%3 == 2 { // VAT quarters end Jan, Apr, Jul, Oct
		amount := min(h.revenue*3*8/100, max(cur.balance+cur.pending+cur.limit, 0))
		if amount > 0 {
			h.post(cur, d.Add(10*time.Hour), -amount, ob.Transaction{
				Information:                    "HMRC VAT",
				Reference:                      "VAT " + d.AddDate(0, -1, 0).Format("01/06"),
				BankTransactionCode:            c.creditOut,
				ProprietaryBankTransactionCode: c.pFPO,
				Category:                       catBills,
			})
		}
	}
	if usd := h.find(kindBizUSD); usd != nil {
		switch {
		case d.Day() == 12:
			h.post(usd, d.Add(15*time.Hour), between(r, 1500, 6000)*100, ob.Transaction{
				Information:                    "Lakeshore Trading Inc",
				Reference:                      fmt.Sprintf("PO %06d", r.IntN(1000000)),
				BankTransactionCode:            c.creditIn,
				ProprietaryBankTransactionCode: c.pFPI,
				Category:                       catIncome,
				DebtorAgent:                    &ob.Agent{SchemeName: ob.SchemeBICFI, Identification: "LKSHUS33", Name: "Lakeshore Bank"},
			})
		case d.Day() == 20 && usd.balance > 100000:
			h.post(usd, d.Add(11*time.Hour), -usd.balance/4/100*100, ob.Transaction{
				Information:                    "Payment to Pacific Packaging Co",
				Reference:                      fmt.Sprintf("INV-%05d", r.IntN(100000)),
				BankTransactionCode:            c.creditOut,
				ProprietaryBankTransactionCode: c.pFPO,
				Category:                       catBills,
				CreditorAgent:                  &ob.Agent{SchemeName: ob.SchemeBICFI, Identification: "PCPKUS6L", Name: "Pacific Coast Bank"},
			})
		}
	}
}

// slab hands out pointers to small values from chunks, one allocation per
// chunk instead of two per transaction: with 100k+ entries that halves the
// generator's allocations and most of its garbage-collection time. Chunks
// are never reallocated, so the pointers stay valid.
type slab struct {
	times  []time.Time
	moneys []ob.Money
}

const slabChunk = 4096

func (s *slab) time(t time.Time) *time.Time {
	if len(s.times) == cap(s.times) {
		s.times = make([]time.Time, 0, slabChunk)
	}
	s.times = append(s.times, t)
	return &s.times[len(s.times)-1]
}

func (s *slab) money(m ob.Money) *ob.Money {
	if len(s.moneys) == cap(s.moneys) {
		s.moneys = make([]ob.Money, 0, slabChunk)
	}
	s.moneys = append(s.moneys, m)
	return &s.moneys[len(s.moneys)-1]
}
