package risk

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/obank/obank/ob"
)

var (
	noon  = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	payee = PayeeKey(ob.SchemeSortCodeAccountNumber, "08080021325698")
)

func gbp(s string) ob.Money { return ob.MustParseAmount(s, "GBP") }

func engine(t *testing.T, mut func(*Config)) *Engine {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Location = time.UTC
	if mut != nil {
		mut(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func payment(amount string) Payment {
	return Payment{Amount: gbp(amount), CreditorScheme: ob.SchemeSortCodeAccountNumber,
		CreditorIdentification: "08080021325698", At: noon}
}

// history: n payments of the given amounts to the usual payee, one a week,
// all outside the velocity window.
func history(amounts ...string) History {
	h := History{KnownPayees: map[string]bool{payee: true}}
	for i, a := range amounts {
		h.Payments = append(h.Payments, PastPayment{Amount: gbp(a), At: noon.AddDate(0, 0, -7*(i+1)), Payee: payee})
	}
	return h
}

func reason(a Assessment, rule string) (Reason, bool) {
	for _, r := range a.Reasons {
		if r.Rule == rule {
			return r, true
		}
	}
	return Reason{}, false
}

func TestAmountZScore(t *testing.T) {
	e := engine(t, nil)
	usual := history("30.00", "40.00", "35.00", "45.00", "40.00", "38.00")
	cases := []struct {
		name   string
		amount string
		h      History
		want   float64 // rule score, 0 = no reason
		detail string
	}{
		{"usual amount", "41.00", usual, 0, ""},
		// mean 38.00, population sd = 4.65 (floor 3.80); 4200 is far above.
		{"huge", "4200.00", usual, 1, "amount 4200.00 GBP is 894.1 standard deviations above the customer's mean of 38.00 GBP over 6 payments"},
		// population sd = sqrt(130/6) = 4.6547; z = 22/4.6547 = 4.726 → (4.726-2)/4 = 0.6816
		{"ramp", "60.00", usual, 0.6816, ""},
		{"too little history", "4200.00", history("30.00", "40.00"), 0, ""},
		{"other currencies ignored", "4200.00", History{Payments: []PastPayment{
			{Amount: ob.MustParseAmount("10", "EUR")}, {Amount: ob.MustParseAmount("10", "EUR")},
			{Amount: ob.MustParseAmount("10", "EUR")}, {Amount: ob.MustParseAmount("10", "EUR")},
			{Amount: ob.MustParseAmount("10", "EUR")}}}, 0, ""},
		// constant history: sd floored at 10% of the mean (1.00), so 10.01 is fine and 17.00 is z=7.
		{"constant history small step", "10.01", history("10.00", "10.00", "10.00", "10.00", "10.00"), 0, ""},
		{"constant history big step", "17.00", history("10.00", "10.00", "10.00", "10.00", "10.00"), 1, ""},
		// mean of 1.00,1.00,1.01... exact and rounded half-even in the detail.
		{"mean rounding", "1000.00", history("0.01", "0.02", "0.01", "0.02", "0.01", "0.02"), 1, "mean of 0.02 GBP"},
		{"smaller than usual never scores", "0.01", usual, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.Assess(payment(c.amount), c.h, TPP{})
			r, ok := reason(a, RuleAmountZScore)
			if c.want == 0 {
				if ok {
					t.Fatalf("unexpected reason %+v", r)
				}
				return
			}
			if !ok {
				t.Fatalf("no %s reason in %+v", RuleAmountZScore, a)
			}
			if math.Abs(r.Score-c.want) > 1e-3 {
				t.Errorf("score %v, want %v", r.Score, c.want)
			}
			if c.detail != "" && !strings.Contains(r.Detail, c.detail) {
				t.Errorf("detail %q does not contain %q", r.Detail, c.detail)
			}
		})
	}
}

func TestRoundHalfEven(t *testing.T) {
	e := engine(t, nil)
	// 0.01,0.02 x3 → mean 0.015 → 0.02 (half to even); 0.01,0.01,0.02,0.02,0.03,0.03... use 0.025 → 0.02
	a := e.Assess(payment("1000"), history("0.02", "0.03", "0.02", "0.03", "0.02", "0.03"), TPP{})
	r, _ := reason(a, RuleAmountZScore)
	if !strings.Contains(r.Detail, "mean of 0.02 GBP") {
		t.Errorf("0.025 should round half-even to 0.02: %q", r.Detail)
	}
}

func TestNewPayee(t *testing.T) {
	e := engine(t, nil)
	other := PayeeKey(ob.SchemeIBAN, "GB29NWBK60161331926819")
	cases := []struct {
		name string
		h    History
		want bool
	}{
		{"known beneficiary", History{KnownPayees: map[string]bool{payee: true}}, true == false},
		{"paid before", History{Payments: []PastPayment{{Amount: gbp("5"), At: noon.AddDate(0, -1, 0), Payee: payee}}}, false},
		{"new", History{Payments: []PastPayment{{Amount: gbp("5"), At: noon.AddDate(0, -1, 0), Payee: other}}}, true},
		{"new vs saved list", History{KnownPayees: map[string]bool{other: true}}, true},
		{"no history: no evidence", History{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.Assess(payment("10"), c.h, TPP{})
			r, ok := reason(a, RuleNewPayee)
			if ok != c.want {
				t.Fatalf("reason present = %v, want %v (%+v)", ok, c.want, a)
			}
			if ok && (r.Score != 1 || !strings.Contains(r.Detail, payee)) {
				t.Errorf("reason %+v", r)
			}
		})
	}
	// Legacy scheme names and case don't make a known payee new.
	p := payment("10")
	p.CreditorScheme = "SortCodeAccountNumber"
	if _, ok := reason(e.Assess(p, History{KnownPayees: map[string]bool{payee: true}}, TPP{}), RuleNewPayee); ok {
		t.Error("legacy scheme name made a known payee new")
	}
}

func TestVelocity(t *testing.T) {
	e := engine(t, nil) // window 24h, count 5..20, sum 5000..25000
	burst := func(n int, amount string, ago time.Duration) History {
		h := History{KnownPayees: map[string]bool{payee: true}}
		for i := 0; i < n; i++ {
			h.Payments = append(h.Payments, PastPayment{Amount: gbp(amount), At: noon.Add(-ago), Payee: payee})
		}
		return h
	}
	cases := []struct {
		name             string
		h                History
		amount           string
		count, sum       float64
		countDetailMatch string
	}{
		{"quiet", burst(2, "10", time.Hour), "10", 0, 0, ""},
		{"at soft count", burst(4, "10", time.Hour), "10", 0, 0, ""}, // 5 including this one
		{"over soft count", burst(5, "10", time.Hour), "10", 1.0 / 15, 0, "6 payments in the last 24h0m0s"},
		{"hard count", burst(30, "10", time.Hour), "10", 1, 0, ""},
		{"outside the window", burst(30, "10", 25*time.Hour), "10", 0, 0, ""},
		{"window edge excluded", burst(30, "10", 24*time.Hour), "10", 0, 0, ""},
		// 2 × 4000 + 4000 = 12000 → (12000-5000)/20000 = 0.35
		{"sum ramp", burst(2, "4000", time.Hour), "4000", 0, 0.35, ""},
		{"sum at soft", burst(1, "2500", time.Hour), "2500", 0, 0, ""},
		{"future payments ignored", burst(30, "10", -time.Hour), "10", 0, 0, ""},
		{"lone large payment is not velocity", burst(0, "10", time.Hour), "30000", 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := e.Assess(payment(c.amount), c.h, TPP{})
			for _, x := range []struct {
				rule string
				want float64
			}{{RuleVelocityCount, c.count}, {RuleVelocitySum, c.sum}} {
				r, ok := reason(a, x.rule)
				if x.want == 0 {
					if ok {
						t.Errorf("unexpected %+v", r)
					}
					continue
				}
				if !ok || math.Abs(r.Score-x.want) > 1e-4 {
					t.Errorf("%s: got %+v (present %v), want score %v", x.rule, r, ok, x.want)
				}
			}
			if c.countDetailMatch != "" {
				r, _ := reason(a, RuleVelocityCount)
				if !strings.Contains(r.Detail, c.countDetailMatch) {
					t.Errorf("detail %q", r.Detail)
				}
			}
		})
	}
}

func TestUnusualHour(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no tzdata")
	}
	cases := []struct {
		name       string
		at         time.Time
		loc        *time.Location
		start, end int
		want       bool
	}{
		{"noon", noon, nil, 0, 6, false},
		{"3am", time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC), nil, 0, 6, true},
		{"6am is day", time.Date(2026, 3, 10, 6, 0, 0, 0, time.UTC), nil, 0, 6, false},
		{"wrapping window 23h", time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC), nil, 23, 5, true},
		{"wrapping window 22h", time.Date(2026, 3, 10, 22, 30, 0, 0, time.UTC), nil, 23, 5, false},
		// 23:30 UTC in July is 00:30 BST in London: night for the customer.
		{"customer local BST", time.Date(2026, 7, 10, 23, 30, 0, 0, time.UTC), london, 0, 6, true},
		{"disabled", time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC), nil, 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := engine(t, func(cfg *Config) { cfg.NightStart, cfg.NightEnd = c.start, c.end })
			p := payment("10")
			p.At, p.Location = c.at, c.loc
			_, ok := reason(e.Assess(p, History{}, TPP{}), RuleUnusualHour)
			if ok != c.want {
				t.Errorf("reason = %v, want %v", ok, c.want)
			}
		})
	}
}

func TestHighRiskDestination(t *testing.T) {
	e := engine(t, func(c *Config) {
		c.HighRiskCountries = []string{"KP", "IR"}
		c.HighRiskSortCodePrefixes = []string{"9999"}
	})
	cases := []struct {
		name         string
		scheme, id   string
		bic          string
		want         bool
		detailSubstr string
	}{
		{"gb iban", ob.SchemeIBAN, "GB29NWBK60161331926819", "", false, ""},
		{"listed iban country", ob.SchemeIBAN, "IR580540105180021273113007", "", true, "in IR"},
		{"legacy scheme", "IBAN", "IR580540105180021273113007", "", true, "in IR"},
		{"bic country", ob.SchemeSortCodeAccountNumber, "08080021325698", "BKKPKPPYXXX", true, "in KP"},
		{"sort code range", ob.SchemeSortCodeAccountNumber, "99990012345678", "", true, "9999"},
		{"gb iban does not hide a listed bic", ob.SchemeIBAN, "GB29NWBK60161331926819", "BKKPKPPYXXX", true, "in KP"},
		{"ordinary sort code", ob.SchemeSortCodeAccountNumber, "08080021325698", "", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := payment("10")
			p.CreditorScheme, p.CreditorIdentification, p.CreditorBIC = c.scheme, c.id, c.bic
			r, ok := reason(e.Assess(p, History{}, TPP{}), RuleHighRiskDestination)
			if ok != c.want {
				t.Fatalf("reason = %v, want %v", ok, c.want)
			}
			if ok && !strings.Contains(r.Detail, c.detailSubstr) {
				t.Errorf("detail %q", r.Detail)
			}
		})
	}
}

func TestTPPRejectionRate(t *testing.T) {
	e := engine(t, nil) // min 20 requests, 20%..60%
	cases := []struct {
		tpp  TPP
		want float64
	}{
		{TPP{}, 0},
		{TPP{Requests: 10, Rejected: 10}, 0}, // too few requests: no evidence
		{TPP{Requests: 100, Rejected: 20}, 0},
		{TPP{Requests: 100, Rejected: 40}, 0.5},
		{TPP{Requests: 100, Rejected: 90}, 1},
	}
	for _, c := range cases {
		r, ok := reason(e.Assess(payment("10"), History{}, c.tpp), RuleTPPRejectionRate)
		if c.want == 0 {
			if ok {
				t.Errorf("%+v: unexpected %+v", c.tpp, r)
			}
			continue
		}
		if !ok || math.Abs(r.Score-c.want) > 1e-4 {
			t.Errorf("%+v: got %+v, want %v", c.tpp, r, c.want)
		}
	}
}

// TestNoEvidenceNoReason: a payment with no history, an unknown TPP, at
// noon to an ordinary destination produces no reason and a zero score; and
// every reason ever produced carries a positive score and a detail.
func TestNoEvidenceNoReason(t *testing.T) {
	e := engine(t, func(c *Config) { c.HighRiskCountries = []string{"KP"} })
	a := e.Assess(payment("49999.99"), History{}, TPP{})
	if len(a.Reasons) != 0 || a.Score != 0 || a.Level != Low || a.Decision != Allow {
		t.Fatalf("no evidence gave %+v", a)
	}
	if a.Reasons == nil {
		t.Error("Reasons should be [] not null when stored as JSON")
	}
	// Every rule with evidence: each reason has a score in (0,1] and a detail.
	p := payment("4200")
	p.At = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	p.CreditorScheme, p.CreditorIdentification = ob.SchemeIBAN, "GB29NWBK60161331926819"
	p.CreditorBIC = "BKKPKPPYXXX"
	h := history("30", "40", "35", "45", "40", "38")
	for i := 0; i < 25; i++ {
		h.Payments = append(h.Payments, PastPayment{Amount: gbp("1000"), At: p.At.Add(-time.Hour), Payee: payee})
	}
	a = e.Assess(p, h, TPP{Requests: 100, Rejected: 80})
	got := map[string]bool{}
	for _, r := range a.Reasons {
		got[r.Rule] = true
		if r.Score <= 0 || r.Score > 1 || r.Detail == "" || r.Weight <= 0 {
			t.Errorf("bad reason %+v", r)
		}
	}
	for _, rule := range Rules {
		if !got[rule] {
			t.Errorf("rule %s produced no reason despite evidence: %+v", rule, a)
		}
	}
}

func TestCombination(t *testing.T) {
	cases := []struct {
		name     string
		mut      func(*Config)
		p        func() Payment
		h        History
		tpp      TPP
		score    float64
		level    Level
		decision Decision
	}{
		// Only new payee: 1 − (1 − 0.3) = 0.3 → LOW.
		{"new payee alone", nil, func() Payment { return payment("10") },
			History{KnownPayees: map[string]bool{"x": true}}, TPP{}, 0.3, Low, Allow},
		// New payee + night: 1 − 0.7·0.8 = 0.44 → MEDIUM, allowed by default.
		{"new payee at night", nil, func() Payment {
			p := payment("10")
			p.At = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
			return p
		}, History{KnownPayees: map[string]bool{"x": true}}, TPP{}, 0.44, Medium, Allow},
		{"medium step-up configured", func(c *Config) { c.MediumAction = StepUp }, func() Payment {
			p := payment("10")
			p.At = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
			return p
		}, History{KnownPayees: map[string]bool{"x": true}}, TPP{}, 0.44, Medium, StepUp},
		// Huge amount (0.6) + new payee (0.3) + night (0.2): 1 − 0.4·0.7·0.8 = 0.776 → HIGH, Reject.
		{"high rejects", nil, func() Payment {
			p := payment("4200")
			p.At = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
			p.CreditorIdentification = "11111111111111"
			return p
		}, history("30", "40", "35", "45", "40", "38"), TPP{}, 0.776, High, Reject},
		{"high steps up when configured", func(c *Config) { c.HighAction = StepUp }, func() Payment {
			p := payment("4200")
			p.At = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
			p.CreditorIdentification = "11111111111111"
			return p
		}, history("30", "40", "35", "45", "40", "38"), TPP{}, 0.776, High, StepUp},
		{"zero weight silences a rule", func(c *Config) { c.Weights[RuleNewPayee] = 0 }, func() Payment { return payment("10") },
			History{KnownPayees: map[string]bool{"x": true}}, TPP{}, 0, Low, Allow},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := engine(t, c.mut)
			a := e.Assess(c.p(), c.h, c.tpp)
			if math.Abs(a.Score-c.score) > 1e-4 || a.Level != c.level || a.Decision != c.decision {
				t.Errorf("got %.4f %s %s, want %.4f %s %s\n%s", a.Score, a.Level, a.Decision, c.score, c.level, c.decision, a.Summary())
			}
			if a.Score < 0 || a.Score > 1 {
				t.Errorf("score %v out of range", a.Score)
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	e := engine(t, func(c *Config) { c.HighRiskCountries = []string{"GB"} })
	p := payment("4200")
	p.At = time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)
	p.CreditorScheme, p.CreditorIdentification = ob.SchemeIBAN, "GB29NWBK60161331926819"
	h := history("30", "40", "35", "45", "40", "38")
	h.KnownPayees["UK.OBIE.IBAN:DE89370400440532013000"] = true
	first := e.Assess(p, h, TPP{Requests: 50, Rejected: 20})
	for i := 0; i < 50; i++ {
		again := e.Assess(p, h, TPP{Requests: 50, Rejected: 20})
		if again.Summary() != first.Summary() || again.Score != first.Score {
			t.Fatalf("run %d differs:\n%s\n%s", i, first.Summary(), again.Summary())
		}
	}
	var order []string
	for _, r := range first.Reasons {
		order = append(order, r.Rule)
	}
	want := []string{RuleAmountZScore, RuleNewPayee, RuleUnusualHour, RuleHighRiskDestination, RuleTPPRejectionRate}
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("reason order %v, want %v", order, want)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	muts := map[string]func(*Config){
		"weight > 1":    func(c *Config) { c.Weights[RuleNewPayee] = 1.5 },
		"weight NaN":    func(c *Config) { c.Weights[RuleNewPayee] = math.NaN() },
		"high action":   func(c *Config) { c.HighAction = Allow },
		"medium action": func(c *Config) { c.MediumAction = "Maybe" },
		"thresholds":    func(c *Config) { c.MediumAt, c.HighAt = 0.8, 0.5 },
		"z ramp":        func(c *Config) { c.ZLow, c.ZHigh = 3, 3 },
		"count ramp":    func(c *Config) { c.CountSoft, c.CountHard = 5, 5 },
		"tpp ramp":      func(c *Config) { c.TPPRejectRateSoft, c.TPPRejectRateHard = 0.5, 0.1 },
		"no location":   func(c *Config) { c.Location = nil },
		"bad sum":       func(c *Config) { c.SumSoft = "5k" },
	}
	for name, mut := range muts {
		cfg := DefaultConfig()
		mut(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(DefaultConfig()); err != nil {
		t.Errorf("default config: %v", err)
	}
}
