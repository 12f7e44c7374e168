package ais

import (
	"reflect"
	"testing"

	"github.com/obank/obank/ob"
)

// TestTransactionIntact holds transactionIntact to redactTransaction: when
// it says a view sees a transaction whole, redaction changes nothing; and
// a Detail view with ReadPAN sees every transaction whole.
func TestTransactionIntact(t *testing.T) {
	pan := &ob.AccountIdentification{SchemeName: ob.SchemePAN, Identification: "5555444433332222"}
	sort := &ob.AccountIdentification{SchemeName: "UK.OBIE.SortCodeAccountNumber", Identification: "11223312345678"}
	card := &ob.CardInstrument{SchemeName: "VISA", Identification: "4111111111111111"}
	full := ob.Transaction{ID: "t", Information: "Info", BalanceAfter: &ob.Money{Minor: 1, Currency: "GBP"},
		Merchant: &ob.Merchant{Name: "M"}, CreditorAgent: &ob.Agent{Name: "A"}, DebtorAgent: &ob.Agent{Name: "B"}}
	var txs []ob.Transaction
	for _, c := range []*ob.CardInstrument{nil, card} {
		for _, cred := range []*ob.AccountIdentification{nil, pan, sort} {
			for _, debt := range []*ob.AccountIdentification{nil, pan, sort} {
				for _, base := range []ob.Transaction{{ID: "t"}, full} {
					base.Card, base.CreditorAccount, base.DebtorAccount = c, cred, debt
					txs = append(txs, base)
				}
			}
		}
	}
	for _, level := range []ob.Level{ob.LevelBasic, ob.LevelDetail} {
		for _, readPAN := range []bool{false, true} {
			v := View{Level: level, PAN: readPAN}
			for i, tx := range txs {
				intact := transactionIntact(&tx, v)
				if intact && !reflect.DeepEqual(redactTransaction(tx, v), tx) {
					t.Errorf("%+v, transaction %d: transactionIntact = true, but redaction changes it", v, i)
				}
				if level == ob.LevelDetail && readPAN && !intact {
					t.Errorf("%+v, transaction %d: transactionIntact = false, want true", v, i)
				}
				if level == ob.LevelDetail && tx.Card == nil && tx.CreditorAccount != pan && tx.DebtorAccount != pan &&
					!intact {
					t.Errorf("%+v, transaction %d without card or PAN: transactionIntact = false, want true", v, i)
				}
			}
		}
	}
}
