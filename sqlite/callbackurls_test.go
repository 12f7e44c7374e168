package sqlite_test

import (
	"testing"

	"github.com/obank/obank/obtest"
)

func TestCallbackURLStore(t *testing.T) {
	obtest.RunCallbackURLStoreTests(t, func(t *testing.T) obtest.CallbackURLStore {
		return openTemp(t)
	})
}

func TestAccountStatusStore(t *testing.T) {
	obtest.RunAccountStatusStoreTests(t, func(t *testing.T) obtest.AccountStatusStore {
		return openTemp(t)
	})
}
