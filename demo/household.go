package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/obank/obank/ob"
)

// A household is the unit of simulation: one person, a couple sharing a
// joint account, or a business. Money moves between its accounts (salary to
// current, current to savings, repayments to cards and loans), so all of its
// accounts are simulated together, day by day, in time order.
type household struct {
	g       *generator
	r       *rand.Rand
	members []*member
	accts   []*acct
	biz     *business
	revenue int64 // a business's monthly takings, in pence

	slab  *slab
	spend *acct // the account day-to-day spending and bills come from
	sos   []*soPlan
	dds   []*ddPlan
	bens  []ob.Beneficiary
	subs  []subPlan
	sps   []ob.ScheduledPayment
	offer []ob.Offer
}

// member is a customer of the household.
type member struct {
	idx      int // index in data.Customers
	id       string
	first    string
	last     string
	name     string
	since    time.Time
	salary   int64 // monthly net pay in pence (0: none)
	payDay   int   // day of month; 0 = last working day
	employer *ob.AccountIdentification
	payTo    *acct
	scale    int64 // card spending as a percentage of the table amounts
	card     *acct // the account the member's debit card draws on
	cc       *acct // the member's credit card account, if any
}

// acct is an account being simulated.
type acct struct {
	kind      kind
	id        string
	number    string // the 8-digit account number
	cur       string
	owner     *member
	holders   []*member
	acc       ob.Account
	ident     *ob.AccountIdentification // how other accounts' entries name it
	cards     [4]*ob.CardInstrument     // by authorisation type
	balance   int64                     // booked
	pending   int64
	opening   int64 // booked balance when the history starts
	limit     int64 // overdraft or credit limit
	rateBps   int64 // annual interest rate, basis points
	payment   int64 // monthly repayment of a loan or mortgage
	payDay    int
	fullPay   bool  // a card repaid in full each month
	interest  int64 // card interest due on the next 1st
	lastStamp time.Time
	seq       int
	stmtRefs  map[int][]string
	month     monthTotals // the calendar month being summed for its statement
}

// monthTotals sums an account's booked entries of one month.
type monthTotals struct {
	start                          time.Time
	opening, in, out, interestPaid int64
}

// Authorisation types, indexing acct.cards.
const (
	authContactless = iota
	authPIN
	authDevice
	authNone
)

var authNames = [4]string{"Contactless", "PIN", "ConsumerDevice", "None"}

// soPlan is a standing order and its execution so far.
type soPlan struct {
	rec        ob.StandingOrder
	from, to   *acct // to is nil for a payee outside the bank
	payee      *ob.AccountIdentification
	amount     int64
	dom        int          // monthly on this day, or
	weekday    time.Weekday // weekly on this day when weekly
	weekly     bool
	first      time.Time
	final      time.Time // zero: open-ended
	info, ref  string
	category   string
	last       time.Time
	lastAmount int64
	count      int
}

// ddPlan is a direct debit mandate and its collections so far.
type ddPlan struct {
	rec        ob.DirectDebit
	from       *acct
	to         *acct // an OBank card or loan being repaid, else nil
	b          biller
	dom        int
	monthPhase int // collects when (month-1) % b.months == monthPhase
	amount     int64
	from0      time.Time // mandate set up
	until      time.Time // cancelled (zero: active)
	category   string
	last       time.Time
	lastAmount int64
}

// subPlan is a monthly card subscription.
type subPlan struct {
	s   subscription
	m   *ob.Merchant
	on  *acct
	dom int
}

func (g *generator) newCustomerID(i int) string { return fmt.Sprintf("cus-%06d", i+1) }

func (h *household) addPerson(i int, surname string, addr *ob.PostalAddress) {
	g, r := h.g, h.r
	first := firstNames[r.IntN(len(firstNames))]
	last := surname
	if last == "" {
		last = surnames[r.IntN(len(surnames))]
	}
	middle := firstNames[r.IntN(len(firstNames))]
	t := towns[r.IntN(len(towns))]
	if addr == nil {
		addr = g.address(r, t, "Residential")
	} else {
		addr = ptr(*addr) // a copy: records must not share mutable values
	}
	user := g.username(first + "." + last)
	since := g.start.AddDate(-1-r.IntN(15), -r.IntN(12), -r.IntN(28))
	c := ob.Customer{
		ID:            g.newCustomerID(i),
		Username:      user,
		PartyNumber:   fmt.Sprintf("%08d", 10000000+i*7919%89999999),
		PartyType:     "Sole",
		Name:          first + " " + last,
		FullLegalName: first + " " + middle + " " + last,
		Email:         user + "@example.com",
		Mobile:        mobileNumber(r),
		Address:       addr,
		CreatedAt:     since,
	}
	if r.IntN(2) == 0 {
		c.Phone = landline(r, t)
	}
	g.data.Customers = append(g.data.Customers, c)
	m := &member{
		idx:    len(g.data.Customers) - 1,
		id:     c.ID,
		first:  first,
		last:   last,
		name:   c.Name,
		since:  since,
		salary: between(r, 1650, 5200) * 100,
		payDay: [...]int{0, 25, 28, 15, 20}[r.IntN(5)],
	}
	employer := employers[r.IntN(len(employers))]
	m.employer = h.externalAccount(employer)
	h.members = append(h.members, m)
}

func (h *household) addBusiness(i int) {
	g, r := h.g, h.r
	b := businesses[(i/10)%len(businesses)]
	h.biz = &b
	t := towns[r.IntN(len(towns))]
	user := g.username(b.username)
	since := g.start.AddDate(-2-r.IntN(10), -r.IntN(12), 0)
	name := b.name
	if i/10 >= len(businesses) { // the table has run out: keep names apart
		name += " " + t.name
	}
	c := ob.Customer{
		ID:             g.newCustomerID(i),
		Username:       user,
		PartyNumber:    fmt.Sprintf("B%07d", 1000000+i*7919%8999999),
		PartyType:      "Sole",
		Name:           name,
		FullLegalName:  b.legalName,
		LegalStructure: b.legal,
		Email:          "accounts." + strings.ReplaceAll(user, ".", "") + "@example.co.uk",
		Phone:          landline(r, t),
		Mobile:         mobileNumber(r),
		Address:        g.address(r, t, "Business"),
		CreatedAt:      since,
	}
	g.data.Customers = append(g.data.Customers, c)
	h.members = append(h.members, &member{idx: len(g.data.Customers) - 1, id: c.ID, first: name, name: name, since: since})
	h.revenue = between(r, 120, 450) * 10000
}

// externalAccount is an account at another UK bank.
func (h *household) externalAccount(name string) *ob.AccountIdentification {
	bank := otherBanks[h.r.IntN(len(otherBanks))]
	sc := bank.prefix + fmt.Sprintf("%04d", h.r.IntN(10000))
	return &ob.AccountIdentification{
		SchemeName:     ob.SchemeSortCodeAccountNumber,
		Identification: sc + h.g.uniqueDigits(h.r, "", 8, false),
		Name:           clip(name, 70),
	}
}

// pickKinds draws n distinct kinds by weight.
func pickKinds(r *rand.Rand, n int, weights map[kind]int, order []kind) []kind {
	var out []kind
	used := make(map[kind]bool)
	for len(out) < n {
		total := 0
		for _, k := range order {
			if !used[k] {
				total += weights[k]
			}
		}
		if total == 0 {
			break
		}
		x := r.IntN(total)
		for _, k := range order { // order, not the map, fixes the sequence
			if used[k] {
				continue
			}
			if x < weights[k] {
				out = append(out, k)
				used[k] = true
				break
			}
			x -= weights[k]
		}
	}
	return out
}

// accountCount is 2 (40%), 3 (40%) or 4 (20%).
func accountCount(r *rand.Rand) int {
	switch x := r.IntN(10); {
	case x < 4:
		return 2
	case x < 8:
		return 3
	}
	return 4
}

func (h *household) openAccounts() {
	r := h.r
	personal := []kind{kindSavings, kindCreditCard, kindMortgage, kindLoan, kindEuroCurrent, kindPrepaid}
	switch {
	case h.biz != nil:
		m := h.members[0]
		cur := h.open(kindBizCurrent, m, nil)
		h.spend, m.payTo, m.card = cur, cur, cur
		extras := []kind{kindBizSavings, kindBizCard, kindBizLoan, kindBizUSD}
		for _, k := range pickKinds(r, accountCount(r)-1, map[kind]int{kindBizSavings: 4, kindBizCard: 4, kindBizLoan: 3, kindBizUSD: 1}, extras) {
			a := h.open(k, m, nil)
			if k == kindBizCard {
				m.cc = a
			}
		}
	case len(h.members) == 2:
		p, s := h.members[0], h.members[1]
		joint := h.open(kindJointCurrent, p, []*member{p, s})
		h.spend, p.payTo, p.card = joint, joint, joint
		own := h.open(kindCurrent, s, nil)
		s.payTo, s.card = own, own
		weights := map[kind]int{kindSavings: 5, kindCreditCard: 4, kindMortgage: 6, kindLoan: 2, kindEuroCurrent: 1, kindPrepaid: 2}
		for _, k := range pickKinds(r, accountCount(r)-1, weights, personal) {
			h.openPersonalExtra(k, p)
		}
		for _, k := range pickKinds(r, accountCount(r)-2, map[kind]int{kindSavings: 3, kindCreditCard: 4}, personal) {
			h.openPersonalExtra(k, s)
		}
	default:
		m := h.members[0]
		cur := h.open(kindCurrent, m, nil)
		h.spend, m.payTo, m.card = cur, cur, cur
		weights := map[kind]int{kindSavings: 6, kindCreditCard: 5, kindMortgage: 2, kindLoan: 2, kindEuroCurrent: 1, kindPrepaid: 1}
		for _, k := range pickKinds(r, accountCount(r)-1, weights, personal) {
			h.openPersonalExtra(k, m)
		}
	}
	h.plan()
}

func (h *household) openPersonalExtra(k kind, m *member) {
	a := h.open(k, m, nil)
	if k == kindCreditCard {
		m.cc = a
	}
}

// open creates an account of kind k held by owner (and the other holders of
// a joint account) with its opening balance, limit and rates.
func (h *household) open(k kind, owner *member, holders []*member) *acct {
	g, r := h.g, h.r
	g.nextAccount++
	p := k.product()
	a := &acct{
		kind:     k,
		id:       fmt.Sprintf("acc-%06d", g.nextAccount),
		cur:      p.currency,
		owner:    owner,
		holders:  holders,
		payDay:   1 + r.IntN(26),
		stmtRefs: make(map[int][]string),
	}
	if holders == nil {
		a.holders = []*member{owner}
	}

	names := make([]string, len(a.holders))
	for i, m := range a.holders {
		names[i] = m.name
	}
	holderName := strings.Join(names, " and ")

	// Opened after the customer joined and at least a month before the
	// history starts, so every statement month is a whole one.
	span := int(g.start.AddDate(0, -1, 0).Sub(owner.since).Hours() / 24)
	opened := owner.since.AddDate(0, 0, r.IntN(max(span, 1)))
	if k.isLending() {
		// Lending is recent enough still to be running.
		opened = g.start.AddDate(0, -1-r.IntN(30), -r.IntN(28))
	}
	a.acc = ob.Account{
		ID:                   a.id,
		CustomerID:           owner.id,
		Status:               "Enabled",
		StatusUpdateDateTime: opened,
		Currency:             a.cur,
		Type:                 ob.AccountTypePersonal,
		SubType:              p.subType,
		Description:          p.description,
		Nickname:             p.nicknames[r.IntN(len(p.nicknames))],
		OpeningDate:          opened,
		Servicer:             g.servicer,
		ProductID:            "prd-" + a.id[4:],
		CreatedAt:            opened,
	}
	if k.business() {
		a.acc.Type = ob.AccountTypeBusiness
	}

	if k.isCard() {
		scheme, prefix := "MasterCard", "5"+fmt.Sprint(1+r.IntN(5))
		a.number = g.uniqueDigits(r, prefix, 16, true)
		a.acc.Identifications = []ob.AccountIdentification{{SchemeName: ob.SchemePAN, Identification: a.number, Name: holderName}}
		a.ident = &ob.AccountIdentification{SchemeName: ob.SchemePAN, Identification: a.number, Name: clip(holderName, 70)}
		h.issueCards(a, scheme, a.number, owner)
	} else {
		sc := fmt.Sprintf("%06d", 608371+r.IntN(5))
		a.number = g.uniqueDigits(r, "", 8, false)
		iban, err := ob.NewIBAN("GB", bankCode+sc+a.number)
		if err != nil {
			panic(err) // digits and a fixed code: cannot fail
		}
		a.ident = &ob.AccountIdentification{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: sc + a.number, Name: clip(holderName, 70)}
		a.acc.Identifications = []ob.AccountIdentification{
			{SchemeName: ob.SchemeSortCodeAccountNumber, Identification: sc + a.number, Name: holderName},
			{SchemeName: ob.SchemeIBAN, Identification: iban, Name: holderName},
		}
	}
	if k == kindPrepaid {
		h.issueCards(a, "VISA", g.uniqueDigits(r, "4", 16, true), owner)
	}
	if k == kindCurrent || k == kindJointCurrent || k == kindBizCurrent || k == kindEuroCurrent {
		h.issueCards(a, "VISA", g.uniqueDigits(r, "4", 16, true), owner)
	}

	salary := max(owner.salary, h.revenue/4)
	switch k {
	case kindCurrent, kindJointCurrent:
		a.opening = salary * between(r, 30, 90) / 100
		a.limit = [...]int64{50000, 100000, 150000, 250000}[r.IntN(4)]
	case kindEuroCurrent:
		a.opening = between(r, 500, 4000) * 100
	case kindSavings:
		a.opening = between(r, 200, 18000) * 100
		a.rateBps = between(r, 150, 450)
		a.acc.Nickname = p.nicknames[r.IntN(len(p.nicknames))]
	case kindCreditCard:
		a.limit = min(max(salary*between(r, 8, 25)/10/50000*50000, 100000), 1500000)
		a.opening = -a.limit * between(r, 0, 30) / 100
		a.rateBps = [...]int64{1990, 2290, 2490, 2790}[r.IntN(4)]
		a.fullPay = r.IntN(10) < 6
	case kindLoan:
		a.opening = -between(r, 30, 250) * 10000
		a.rateBps = between(r, 590, 1290)
		a.payment = -a.opening/between(r, 36, 84) + -a.opening*a.rateBps/240000
		a.acc.MaturityDate = ptr(opened.AddDate(7, 0, 0))
	case kindMortgage:
		// Sized as a lender would: about four times the household's gross
		// income (net pay is about 70% of gross).
		income := int64(0)
		for _, m := range h.members {
			income += m.salary
		}
		a.opening = -income * 12 * 10 / 7 * between(r, 30, 45) / 10 / 100000 * 100000
		a.rateBps = between(r, 389, 549)
		a.payment = -a.opening/between(r, 240, 360) + -a.opening*a.rateBps/240000
		a.acc.MaturityDate = ptr(opened.AddDate(30, 0, 0))
	case kindPrepaid:
		a.opening = between(r, 0, 3000)
	case kindBizCurrent:
		a.opening = h.revenue * between(r, 40, 120) / 100
		a.limit = [...]int64{250000, 500000, 1000000}[r.IntN(3)]
	case kindBizSavings:
		a.opening = between(r, 50, 400) * 10000
		a.rateBps = between(r, 100, 350)
	case kindBizUSD:
		a.opening = between(r, 20, 150) * 10000
	case kindBizCard:
		a.limit = between(r, 5, 25) * 100000
		a.fullPay = true
		a.rateBps = 2190
	case kindBizLoan:
		a.opening = -between(r, 10, 80) * 100000
		a.rateBps = between(r, 690, 1190)
		a.payment = -a.opening/between(r, 36, 72) + -a.opening*a.rateBps/240000
		a.acc.MaturityDate = ptr(opened.AddDate(6, 0, 0))
	}
	if md := a.acc.MaturityDate; md != nil && !md.After(g.today) {
		a.acc.MaturityDate = ptr(g.today.AddDate(1, 0, 0))
	}
	a.balance = a.opening
	a.month = monthTotals{start: day(g.start.Year(), g.start.Month(), 1), opening: a.opening}
	h.accts = append(h.accts, a)
	return a
}

// issueCards gives an account a card; its entries name the card with one
// shared instrument value per authorisation type.
func (h *household) issueCards(a *acct, scheme, pan string, holder *member) {
	name := strings.ToUpper(clip(holder.name, 70))
	for i, auth := range authNames {
		a.cards[i] = &ob.CardInstrument{SchemeName: scheme, AuthorisationType: auth, Name: name, Identification: pan}
	}
}

func (h *household) find(k kind) *acct {
	for _, a := range h.accts {
		if a.kind == k {
			return a
		}
	}
	return nil
}

// plan sets up the household's payees, mandates, standing orders and
// subscriptions before the history is simulated.
func (h *household) plan() {
	g, r := h.g, h.r
	cur := h.spend
	mortgage := h.find(kindMortgage)

	// Payees.
	nBen := 2 + r.IntN(5)
	if h.biz != nil {
		trade := businessTrades[h.biz.sector]
		for i := 0; i < nBen; i++ {
			name := trade.supplierTransfers[i%len(trade.supplierTransfers)]
			if i >= len(trade.supplierTransfers) {
				name = [...]string{"Premises landlord", "HMRC VAT", "Accountant", "Cleaning contractor"}[i-len(trade.supplierTransfers)]
			}
			h.addBeneficiary(cur, name, "INV "+fmt.Sprint(1000+r.IntN(9000)), "Ordinary")
		}
	} else {
		rel := r.Perm(len(payeeRelations))
		for i := 0; i < nBen; i++ {
			p := payeeRelations[rel[i]]
			typ := "Ordinary"
			if p.label == "Mum" || p.label == "Dad" || p.label == "Sister" || p.label == "Brother" {
				typ = "Trusted"
			}
			who := firstNames[r.IntN(len(firstNames))] + " " + surnames[r.IntN(len(surnames))]
			if p.label == "Landlord" {
				who += " Lettings"
			}
			h.addBeneficiary(cur, who, p.ref, typ)
		}
		// Every secondary current account gets a payee or two as well.
		for _, a := range h.accts {
			if a.kind == kindCurrent && a != cur {
				for i := 0; i < 2; i++ {
					who := firstNames[r.IntN(len(firstNames))] + " " + surnames[r.IntN(len(surnames))]
					h.addBeneficiary(a, who, "Thanks", "Ordinary")
				}
			}
		}
	}

	// Standing orders.
	monthlySO := func(from, to *acct, payee *ob.AccountIdentification, amount int64, dom int, info, ref, cat string) *soPlan {
		so := &soPlan{from: from, to: to, payee: payee, amount: amount, dom: dom, info: info, ref: ref, category: cat,
			first: g.start.AddDate(0, -r.IntN(20), 0)}
		if to != nil {
			so.payee = to.ident
		}
		h.sos = append(h.sos, so)
		return so
	}
	if h.biz != nil {
		landlord := h.addBeneficiary(cur, "Commercial landlord", "UNIT RENT", "Trusted")
		monthlySO(cur, nil, landlord, h.revenue*between(r, 8, 14)/100/100*100, 1, "Premises rent", "UNIT RENT", catBills)
		if s := h.find(kindBizSavings); s != nil {
			monthlySO(cur, s, nil, h.revenue*between(r, 5, 12)/100/1000*1000, 2+r.IntN(20), "Transfer to reserve", "TAX RESERVE", catTransfers)
		}
	} else {
		if s := h.find(kindSavings); s != nil {
			from := s.owner.payTo
			monthlySO(from, s, nil, max(from.owner.salary*between(r, 4, 12)/100/500*500, 2500), 1+r.IntN(26), "Transfer to savings", "SAVINGS", catTransfers)
		}
		if mortgage == nil {
			salary := h.members[0].salary
			if len(h.members) == 2 {
				salary += h.members[1].salary
			}
			landlord := h.addBeneficiary(cur, surnames[r.IntN(len(surnames))]+" Property Lettings", "RENT "+fmt.Sprint(1+r.IntN(120)), "Trusted")
			monthlySO(cur, nil, landlord, salary*between(r, 28, 36)/100/500*500, 1, "Rent", "RENT "+h.members[0].name, catBills)
		}
		if len(h.members) == 2 {
			s := h.members[1]
			monthlySO(s.payTo, cur, nil, s.salary*between(r, 30, 45)/100/1000*1000, 1+r.IntN(26), "Household bills", "JOINT BILLS", catTransfers)
		}
		if p := h.find(kindPrepaid); p != nil {
			so := &soPlan{from: cur, to: p, payee: p.ident, amount: between(r, 5, 15) * 100, weekly: true, weekday: time.Friday,
				info: "Pocket money", ref: "POCKET MONEY", category: catTransfers, first: g.start.AddDate(0, -r.IntN(6), 0)}
			h.sos = append(h.sos, so)
		}
		if r.IntN(5) == 0 && len(h.bens) > 0 {
			// An ended one: lessons paid weekly for a year, now finished.
			b := h.bens[r.IntN(len(h.bens))]
			first := g.start.AddDate(0, r.IntN(6), 0)
			so := &soPlan{from: cur, payee: b.CreditorAccount, amount: between(r, 15, 40) * 100, weekly: true, weekday: time.Monday,
				info: "Music lessons", ref: "LESSONS", category: catEntertainment, first: first, final: first.AddDate(0, 0, 7*51)}
			h.sos = append(h.sos, so)
		}
	}
	for _, so := range h.sos {
		g.nextSO++
		so.rec = ob.StandingOrder{
			ID:                   fmt.Sprintf("so-%06d", g.nextSO),
			AccountID:            so.from.id,
			Reference:            clip(so.ref, 35),
			FirstPaymentDateTime: ptr(so.firstDate()),
			Status:               "Active",
			FirstPaymentAmount:   ptr(ob.Money{Minor: so.amount, Currency: so.from.cur}),
			CreditorAccount:      so.payee,
		}
		if so.weekly {
			so.rec.Frequency = fmt.Sprintf("IntrvlWkDay:01:%02d", isoWeekday(so.weekday))
		} else {
			so.rec.Frequency = fmt.Sprintf("IntrvlMnthDay:01:%02d", so.dom)
		}
		if !so.final.IsZero() {
			so.rec.FinalPaymentDateTime = ptr(so.final)
			so.rec.FinalPaymentAmount = ptr(ob.Money{Minor: so.amount, Currency: so.from.cur})
			so.rec.NumberOfPayments = "52"
		}
	}

	// Direct debits: household bills, then repayments to OBank.
	if h.biz != nil {
		for _, grp := range []int{0, 3, 7} {
			h.addDD(cur, nil, billerGroups[grp][r.IntN(len(billerGroups[grp]))], catBills)
		}
	} else {
		for gi, grp := range billerGroups {
			if r.IntN(10) >= [...]int{10, 9, 10, 9, 10, 7, 4, 6}[gi] {
				continue
			}
			b := grp[r.IntN(len(grp))]
			dd := h.addDD(cur, nil, b, catBills)
			if gi == 0 && r.IntN(3) == 0 {
				// Switched energy supplier part way through the history.
				other := grp[(r.IntN(len(grp)-1)+1+indexOf(grp, b))%len(grp)]
				switchDay := g.start.AddDate(0, 3+r.IntN(max(g.cfg.Years*12-6, 1)), 0)
				dd.until = switchDay
				h.addDD(cur, nil, other, catBills).from0 = switchDay
			}
		}
		for _, m := range h.members[1:] {
			grp := billerGroups[4]
			h.addDD(m.payTo, nil, grp[r.IntN(len(grp))], catBills)
		}
	}
	for _, a := range h.accts {
		switch {
		case a.kind.isCard():
			h.addDD(a.owner.payTo, a, biller{name: bankName + " Card Services", ref: "OBCC"}, catTransfers).dom = a.payDay
		case a.kind.isLending():
			label := map[kind]string{kindLoan: "Loans", kindMortgage: "Mortgages", kindBizLoan: "Business Loans"}[a.kind]
			h.addDD(cur, a, biller{name: bankName + " " + label, ref: "OBLN"}, catBills).dom = a.payDay
		}
	}

	// Card subscriptions of personal customers.
	if h.biz == nil {
		for _, i := range r.Perm(len(subscriptions))[:r.IntN(4)] {
			on := cur
			if m := h.members[0]; m.cc != nil && r.IntN(2) == 0 {
				on = m.cc
			}
			s := subscriptions[i]
			h.subs = append(h.subs, subPlan{s: s, m: &ob.Merchant{Name: s.name, CategoryCode: s.mcc}, on: on, dom: 1 + r.IntN(28)})
		}
	}

	h.planFuture()
	h.budget()
}

// budget sets how much each person spends by card: what is left of their
// pay after rent, bills, savings and repayments, less a margin, spread over
// the month's expected purchases. Without it a low earner with a mortgage
// would run dry every month and a high earner would pile up cash.
func (h *household) budget() {
	if h.biz != nil {
		return
	}
	monthly := func(a *acct) (in, out int64) {
		for _, m := range h.members {
			if m.payTo == a {
				in += m.salary
			}
		}
		for _, so := range h.sos {
			amount := so.amount
			if so.weekly {
				amount = amount * 52 / 12
			}
			if !so.final.IsZero() {
				amount = 0 // ends early in the history
			}
			if so.from == a {
				out += amount
			}
			if so.to == a {
				in += amount
			}
		}
		for _, dd := range h.dds {
			switch {
			case dd.from != a || !dd.until.IsZero():
			case dd.to == nil:
				out += dd.amount / int64(dd.b.months)
			case dd.to.kind.isLending():
				out += dd.to.payment
			}
		}
		for _, sub := range h.subs {
			if sub.on == a {
				out += sub.s.amount
			}
		}
		return in, out
	}
	for _, m := range h.members {
		in, out := monthly(m.card)
		// Cash machines and payments to friends come to about £275 a month.
		spare := in - out - 27500
		m.scale = min(max(spare*80/h.g.monthlySpend, 10), 250)
	}
}

func indexOf(bs []biller, b biller) int {
	for i := range bs {
		if bs[i].name == b.name {
			return i
		}
	}
	return 0
}

func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

func (h *household) addBeneficiary(a *acct, name, ref, typ string) *ob.AccountIdentification {
	h.g.nextBen++
	id := h.externalAccount(name)
	h.bens = append(h.bens, ob.Beneficiary{
		ID:              fmt.Sprintf("ben-%06d", h.g.nextBen),
		AccountID:       a.id,
		Type:            typ,
		Reference:       clip(ref, 18), // Bacs and Faster Payments carry 18 characters
		CreditorAccount: id,
	})
	return id
}

func (h *household) addDD(from, to *acct, b biller, cat string) *ddPlan {
	g, r := h.g, h.r
	g.nextDD++
	dd := &ddPlan{
		from:       from,
		to:         to,
		b:          b,
		dom:        1 + r.IntN(26),
		amount:     between(r, b.lo, b.hi),
		from0:      g.start.AddDate(0, -r.IntN(40), 0),
		category:   cat,
		monthPhase: r.IntN(max(b.months, 1)),
	}
	if b.months == 0 {
		dd.b.months = 1
	}
	freq := map[int]string{1: "UK.OBIE.Monthly", 3: "UK.OBIE.Quarterly", 12: "UK.OBIE.Annual"}[dd.b.months]
	dd.rec = ob.DirectDebit{
		ID:                    fmt.Sprintf("dd-%06d", g.nextDD),
		AccountID:             from.id,
		MandateIdentification: fmt.Sprintf("%s-%s", b.ref, g.uniqueDigits(r, "", 9, false)),
		Status:                "Active",
		Name:                  clip(b.name, 70),
		Frequency:             freq,
	}
	h.dds = append(h.dds, dd)
	return dd
}

// planFuture adds scheduled payments and offers, which look forward from
// the Anchor.
func (h *household) planFuture() {
	g, r := h.g, h.r
	cur := h.spend
	n := 0
	if r.IntN(2) == 0 {
		n = 1
	}
	if h.biz != nil {
		n = 1 + r.IntN(2)
	}
	for i := 0; i < n && len(h.bens) > 0; i++ {
		b := h.bens[r.IntN(len(h.bens))]
		g.nextSP++
		typ := "Execution"
		if r.IntN(3) == 0 {
			typ = "Arrival"
		}
		h.sps = append(h.sps, ob.ScheduledPayment{
			ID:                       fmt.Sprintf("sp-%06d", g.nextSP),
			AccountID:                cur.id,
			ScheduledPaymentDateTime: g.today.AddDate(0, 0, 3+r.IntN(70)),
			ScheduledType:            typ,
			Reference:                b.Reference,
			DebtorReference:          clip("To "+b.CreditorAccount.Name, 35),
			InstructedAmount:         gbp(between(r, 20, 800) * 100),
			CreditorAccount:          b.CreditorAccount,
		})
	}
	for _, a := range h.accts {
		var o *ob.Offer
		switch {
		case a.kind.isCard() && r.IntN(10) < 4:
			o = &ob.Offer{Type: "BalanceTransfer", Description: "0% on balance transfers for 18 months (3% fee)", Rate: "0", Term: "18 months from the date of the first transfer"}
			if r.IntN(2) == 0 {
				o = &ob.Offer{Type: "LimitIncrease", Description: "You can raise your credit limit", Amount: ptr(gbp(a.limit / 2 / 10000 * 10000))}
			}
		case a.kind == kindSavings && r.IntN(4) == 0:
			o = &ob.Offer{Type: "PromotionalRate", Description: "Bonus rate on new deposits", Rate: "4.75", Term: "12 months, then the standard variable rate"}
		case a.kind == kindCurrent && r.IntN(10) == 0:
			o = &ob.Offer{Type: "Other", Description: "Earn cashback at selected retailers", Value: ptr(int64(5)), Term: "Cashback of up to 5%, paid monthly"}
		}
		if o == nil {
			continue
		}
		g.nextOffer++
		o.ID = fmt.Sprintf("off-%06d", g.nextOffer)
		o.AccountID = a.id
		o.StartDateTime = ptr(g.today.AddDate(0, 0, -r.IntN(30)))
		o.EndDateTime = ptr(g.today.AddDate(0, 1+r.IntN(3), 0))
		o.URL = offerURLBase + o.ID
		if o.Amount != nil {
			o.Amount.Currency = a.cur
		}
		h.offer = append(h.offer, *o)
	}
}

// firstDate is the first execution date of a standing order on or after
// its start.
func (so *soPlan) firstDate() time.Time {
	d := so.first
	for !so.due(d) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// due reports whether the standing order pays on day d (ignoring its
// start and end).
func (so *soPlan) due(d time.Time) bool {
	if so.weekly {
		return d.Weekday() == so.weekday
	}
	// Weekend moves a payment at most two days on: skip the date sums on
	// the other days of the month.
	if n := d.Day(); n < so.dom || n > so.dom+2 {
		return false
	}
	return d.Equal(nextWorkingDay(day(d.Year(), d.Month(), so.dom)))
}

func (so *soPlan) active(d time.Time) bool {
	return !d.Before(so.first) && (so.final.IsZero() || !d.After(so.final))
}

// due reports whether the mandate collects on day d.
func (dd *ddPlan) due(d time.Time) bool {
	if d.Before(dd.from0) || (!dd.until.IsZero() && !d.Before(dd.until)) {
		return false
	}
	if n := d.Day(); n < dd.dom || n > dd.dom+2 {
		return false
	}
	if (int(d.Month())-1)%dd.b.months != dd.monthPhase {
		return false
	}
	return d.Equal(nextWorkingDay(day(d.Year(), d.Month(), dd.dom)))
}
