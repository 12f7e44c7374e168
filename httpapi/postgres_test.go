package httpapi_test

import (
	"testing"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/postgres/pgtest"
)

// openPostgres opens a fresh PostgreSQL store in its own schema, or skips
// the (sub)test with pgtest.SkipMessage when OBANK_TEST_POSTGRES_DSN is unset.
func openPostgres(tb testing.TB) ob.Store { return pgtest.OpenTestStore(tb) }
