package obtest

import "testing"

// TestFixtureIsValid keeps the fixture importable by `obank import`, which
// validates before writing.
func TestFixtureIsValid(t *testing.T) {
	if err := Fixture().Validate(); err != nil {
		t.Fatalf("Fixture().Validate() = %v", err)
	}
	if err := LargeBank(2, 2, 10).Validate(); err != nil {
		t.Fatalf("LargeBank().Validate() = %v", err)
	}
}
