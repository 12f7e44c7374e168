package web_test

import (
	"testing"
	"time"

	"github.com/obank/obank/demo"
	"github.com/obank/obank/internal/totp"
)

// otherLogin returns a demo login other than the test customer's.
func (st *stack) otherLogin() demo.Login {
	for _, l := range shared.logins {
		if l.CustomerID != st.login.CustomerID {
			return l
		}
	}
	st.t.Fatal("no second demo customer")
	return demo.Login{}
}

func mustKey(tb testing.TB, secret string) []byte {
	tb.Helper()
	k, err := totp.DecodeSecret(secret)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func totpAt(key []byte, t time.Time) string { return totp.At(key, t) }
