package demo

import (
	"testing"
	"time"
)

// BenchmarkGenerate measures the default demo bank, the one every server
// seeds on first start.
func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Anchor: time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC)}
	for b.Loop() {
		if _, _, err := Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
