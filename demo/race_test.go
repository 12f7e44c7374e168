//go:build race

package demo_test

// raceEnabled relaxes timing budgets: the race detector slows code 5-10x.
const raceEnabled = true
