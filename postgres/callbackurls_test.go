package postgres_test

import (
	"testing"

	"github.com/obank/obank/obtest"
	"github.com/obank/obank/postgres/pgtest"
)

func TestCallbackURLStore(t *testing.T) {
	obtest.RunCallbackURLStoreTests(t, func(t *testing.T) obtest.CallbackURLStore {
		return pgtest.OpenTestStore(t)
	})
}

func TestAccountStatusStore(t *testing.T) {
	obtest.RunAccountStatusStoreTests(t, func(t *testing.T) obtest.AccountStatusStore {
		return pgtest.OpenTestStore(t)
	})
}
