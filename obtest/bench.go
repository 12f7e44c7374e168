package obtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/obank/obank/ob"
)

// LargeBank returns a deterministic bank of the demo's size shape: customers
// each holding accountsPer accounts with txPer transactions per account, one
// per hour going back from FixtureTime. Transactions carry the nested parts
// a real card or transfer entry has, so that encoding costs are realistic.
// LargeBank(50, 3, 1000) is the demo's 150,000-transaction bank.
func LargeBank(customers, accountsPer, txPer int) *ob.BankData {
	base := FixtureTime()
	d := &ob.BankData{}
	proto := Fixture()
	for c := range customers {
		cust := proto.Customers[0]
		cust.ID = fmt.Sprintf("lc-%03d", c)
		cust.Username = fmt.Sprintf("user%03d", c)
		d.Customers = append(d.Customers, cust)
		for a := range accountsPer {
			acc := proto.Accounts[0]
			acc.ID = fmt.Sprintf("la-%03d-%d", c, a)
			acc.CustomerID = cust.ID
			d.Accounts = append(d.Accounts, acc)
			d.AccountHolders = append(d.AccountHolders, ob.AccountHolder{AccountID: acc.ID, CustomerID: cust.ID,
				PartyType: "Sole", AccountRole: "UK.OBIE.Principal"})
			bal := proto.Balances[0]
			bal.AccountID = acc.ID
			d.Balances = append(d.Balances, bal)
			for i := range txPer {
				var tx ob.Transaction
				switch i % 3 {
				case 0:
					tx = proto.Transactions[0] // transfer: agents and accounts
				case 1:
					tx = proto.Transactions[2] // card payment: merchant and card
				default:
					tx = proto.Transactions[1] // plain credit
				}
				tx.ID = fmt.Sprintf("lt-%03d-%d-%06d", c, a, i)
				tx.AccountID = acc.ID
				tx.BookingDateTime = base.Add(-time.Duration(i) * time.Hour)
				d.Transactions = append(d.Transactions, tx)
			}
		}
	}
	return d
}

// BenchmarkImport measures importing the demo-sized bank (50 customers,
// 150 accounts, 150,000 transactions) into a fresh store per iteration.
func BenchmarkImport(b *testing.B, open func(testing.TB) ob.Store) {
	data := LargeBank(50, 3, 1000)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		s := open(b)
		b.StartTimer()
		if err := s.Import(ctx, data); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(data.Transactions))*float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkTransactionsPage measures one page of 100 from an account with
// 2,000 transactions, continuing (CursorAfter) deep in the listing.
func BenchmarkTransactionsPage(b *testing.B, open func(testing.TB) ob.Store) {
	s := open(b)
	data := LargeBank(5, 2, 2000)
	MustImport(b, s, data)
	ctx := context.Background()
	account := data.Accounts[3].ID
	q := ob.TransactionQuery{AccountIDs: []string{account}, Credits: true, Debits: true, PageSize: 100}
	first, err := s.Transactions(ctx, q)
	if err != nil {
		b.Fatal(err)
	}
	// Row 1,500 of the account, newest first: its transactions are one per
	// hour back from FixtureTime.
	q.Cursor = ob.TxCursor{Snapshot: first.Snapshot, Mode: ob.CursorAfter, Page: 16, Key: ob.TxKey{
		BookingDateTime: FixtureTime().Add(-1500 * time.Hour),
		ID:              fmt.Sprintf("lt-%s-%06d", account[len("la-"):], 1500),
	}}
	for b.Loop() {
		p, err := s.Transactions(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Transactions) != 100 || p.Total != 2000 {
			b.Fatalf("page of %d rows, Total %d; want 100, 2000", len(p.Transactions), p.Total)
		}
	}
}
