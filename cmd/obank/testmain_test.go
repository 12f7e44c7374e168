package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary act as obank itself, so tests can run a real
// `obank serve` process (and kill it): with OBANK_TEST_RUN_AS_OBANK=1 the
// binary runs main with its arguments instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("OBANK_TEST_RUN_AS_OBANK") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}
