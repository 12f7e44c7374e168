// Package risk scores a payment consent or payment for fraud: a small,
// deterministic rule engine whose every point of score comes with a named,
// explainable reason an operator can read.
//
// # Rules
//
// Each rule i yields a score sᵢ in [0,1] from evidence, and has a weight wᵢ
// in [0,1] (Config.Weights). A rule without evidence (too little history, a
// TPP with no recorded requests, ...) yields no reason at all; a reason is
// produced only when sᵢ > 0.
//
//   - amount-zscore: z = (amount − mean) / sd over the customer's past
//     payments in the same currency (at least MinHistory of them). s = 0 at
//     z ≤ ZLow, 1 at z ≥ ZHigh, linear between. Only amounts above the usual
//     score. The sum of the past amounts is exact (big integers of minor
//     units) and the mean shown in the reason is exact money rounded half-even
//     to minor units; z itself is a float64: it is a statistic, never money,
//     never posted. sd is floored at max(SDFloorFraction·mean, 1 minor unit)
//     so a customer who always pays exactly 10.00 is not flagged at infinity
//     for 10.01.
//   - new-payee: the creditor was never paid before and is not a known payee
//     (s = 1). Without any history (no past payment and no known payee) there
//     is no evidence either way and no reason.
//   - velocity-count / velocity-sum: payments in the sliding Window before
//     the payment, plus this one; count ramps from CountSoft (0) to CountHard
//     (1), the same-currency sum from SumSoft to SumHard. With no other
//     payment in the window there is no velocity evidence (a lone large
//     payment is the z-score's and the per-payment limit's business).
//   - unusual-hour: the payment's time in the customer's location (or
//     Config.Location) falls in [NightStart, NightEnd) (wrapping midnight): s = 1.
//   - high-risk-destination: the creditor's country (IBAN prefix, or BIC
//     characters 5-6) is in HighRiskCountries, or its sort code starts with
//     one of HighRiskSortCodePrefixes: s = 1.
//   - tpp-rejection-rate: the TPP's share of rejected requests in its recent
//     window, once it has at least TPPMinRequests; ramps from
//     TPPRejectRateSoft (0) to TPPRejectRateHard (1).
//
// # Combination
//
// score = 1 − Πᵢ(1 − wᵢ·sᵢ), in [0,1] by construction (a noisy-OR: each
// rule independently "explains" part of the risk, several weak signals add
// up, one strong signal dominates, and nothing exceeds 1). It is rounded to
// 4 decimal places so that stored scores are stable. Level is LOW below
// MediumAt, MEDIUM below HighAt, HIGH above; Decision is Allow for LOW,
// MediumAction for MEDIUM (default Allow) and HighAction for HIGH (Reject or
// StepUp). A step-up is only possible while the customer is on the consent
// page; at payment submission the caller should treat StepUp as Reject
// unless the consent was already stepped up.
package risk

import (
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/obank/obank/ob"
)

// Rule names.
const (
	RuleAmountZScore        = "amount-zscore"
	RuleNewPayee            = "new-payee"
	RuleVelocityCount       = "velocity-count"
	RuleVelocitySum         = "velocity-sum"
	RuleUnusualHour         = "unusual-hour"
	RuleHighRiskDestination = "high-risk-destination"
	RuleTPPRejectionRate    = "tpp-rejection-rate"
)

// Rules lists every rule in evaluation (and reason) order.
var Rules = []string{RuleAmountZScore, RuleNewPayee, RuleVelocityCount, RuleVelocitySum,
	RuleUnusualHour, RuleHighRiskDestination, RuleTPPRejectionRate}

// Level is the banded score.
type Level string

const (
	Low    Level = "LOW"
	Medium Level = "MEDIUM"
	High   Level = "HIGH"
)

// Decision is what the caller does with the payment.
type Decision string

const (
	Allow  Decision = "Allow"
	StepUp Decision = "StepUp" // the customer re-authenticates on the consent page
	Reject Decision = "Reject"
)

// Payment is what is being scored.
type Payment struct {
	Amount ob.Money
	// CreditorScheme and CreditorIdentification name the payee
	// (UK.OBIE.IBAN / UK.OBIE.SortCodeAccountNumber).
	CreditorScheme         string
	CreditorIdentification string
	// CreditorBIC is optional.
	CreditorBIC string
	At          time.Time
	// Location is the customer's time zone; nil uses Config.Location.
	Location *time.Location
}

// PayeeKey is the key of a payee in History: scheme and upper-cased
// identification (payments.Account.PayeeKey produces the same).
func PayeeKey(scheme, identification string) string {
	switch scheme {
	case "IBAN":
		scheme = ob.SchemeIBAN
	case "SortCodeAccountNumber":
		scheme = ob.SchemeSortCodeAccountNumber
	}
	return scheme + ":" + strings.ToUpper(identification)
}

// PastPayment is one of the customer's earlier outgoing payments (debits).
type PastPayment struct {
	Amount ob.Money // magnitude; the sign is ignored
	At     time.Time
	Payee  string // PayeeKey, "" if unknown (card, cash)
}

// History is the customer's past the store provides (it will implement
// HistorySource later). Payments should cover at least Config.Window and
// ideally a few months.
type History struct {
	Payments    []PastPayment
	KnownPayees map[string]bool // saved beneficiaries, by PayeeKey
}

// TPP is the initiating TPP's recent behaviour (over a window the store
// chooses, e.g. 24 h).
type TPP struct {
	Requests int // payment consents and payments it submitted
	Rejected int // of which were refused (validation, fraud, customer rejection)
}

// Config holds the thresholds. Start from DefaultConfig.
type Config struct {
	Weights map[string]float64 // per rule, in [0,1]; a missing rule weighs 0

	MinHistory      int     // past same-currency payments needed for a z-score
	ZLow, ZHigh     float64 // z-score ramp
	SDFloorFraction float64 // sd floor as a fraction of the mean

	Window               time.Duration
	CountSoft, CountHard int
	SumSoft, SumHard     string // decimal amounts, applied in the payment currency

	Location             *time.Location
	NightStart, NightEnd int // hours, [start, end), wrapping midnight

	HighRiskCountries        []string // ISO 3166 alpha-2
	HighRiskSortCodePrefixes []string

	TPPMinRequests                       int
	TPPRejectRateSoft, TPPRejectRateHard float64

	MediumAt, HighAt float64
	MediumAction     Decision
	HighAction       Decision
}

// DefaultConfig is a documented, conservative starting point.
func DefaultConfig() Config {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		loc = time.UTC
	}
	return Config{
		Weights: map[string]float64{
			RuleAmountZScore: 0.6, RuleNewPayee: 0.3, RuleVelocityCount: 0.5, RuleVelocitySum: 0.5,
			RuleUnusualHour: 0.2, RuleHighRiskDestination: 0.7, RuleTPPRejectionRate: 0.4,
		},
		MinHistory: 5, ZLow: 2, ZHigh: 6, SDFloorFraction: 0.1,
		Window: 24 * time.Hour, CountSoft: 5, CountHard: 20, SumSoft: "5000", SumHard: "25000",
		Location: loc, NightStart: 0, NightEnd: 6,
		TPPMinRequests: 20, TPPRejectRateSoft: 0.2, TPPRejectRateHard: 0.6,
		MediumAt: 0.4, HighAt: 0.7, MediumAction: Allow, HighAction: Reject,
	}
}

// Reason is one rule's contribution.
type Reason struct {
	Rule   string  `json:"Rule"`
	Score  float64 `json:"Score"`  // the rule's own score sᵢ, in (0,1]
	Weight float64 `json:"Weight"` // wᵢ
	Detail string  `json:"Detail"`
}

// Assessment is the engine's answer, stored with the consent or payment.
type Assessment struct {
	Score    float64  `json:"Score"`
	Level    Level    `json:"Level"`
	Decision Decision `json:"Decision"`
	Reasons  []Reason `json:"Reasons"`
}

// Summary is a one-line explanation for a rejection message or log.
func (a Assessment) Summary() string {
	parts := make([]string, len(a.Reasons))
	for i, r := range a.Reasons {
		parts[i] = r.Detail
	}
	s := fmt.Sprintf("risk %s (%.2f)", a.Level, a.Score)
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, "; ")
	}
	return s
}

// Engine scores payments with a fixed configuration. It has no state and
// is safe for concurrent use.
type Engine struct {
	cfg Config
}

// New returns an engine, checking the configuration.
func New(cfg Config) (*Engine, error) {
	for rule, w := range cfg.Weights {
		if w < 0 || w > 1 || math.IsNaN(w) {
			return nil, fmt.Errorf("risk: weight of %s is %v, not in [0,1]", rule, w)
		}
	}
	switch {
	case cfg.HighAction != Reject && cfg.HighAction != StepUp:
		return nil, fmt.Errorf("risk: HighAction must be Reject or StepUp, not %q", cfg.HighAction)
	case cfg.MediumAction != Allow && cfg.MediumAction != StepUp && cfg.MediumAction != Reject:
		return nil, fmt.Errorf("risk: MediumAction %q is not a decision", cfg.MediumAction)
	case !(0 < cfg.MediumAt && cfg.MediumAt <= cfg.HighAt && cfg.HighAt <= 1):
		return nil, fmt.Errorf("risk: thresholds must satisfy 0 < MediumAt <= HighAt <= 1")
	case cfg.ZHigh <= cfg.ZLow, cfg.CountHard <= cfg.CountSoft, cfg.TPPRejectRateHard <= cfg.TPPRejectRateSoft:
		return nil, fmt.Errorf("risk: each ramp's hard threshold must exceed its soft one")
	case cfg.Location == nil:
		return nil, fmt.Errorf("risk: Location is required")
	}
	for _, s := range []string{cfg.SumSoft, cfg.SumHard} {
		if _, err := ob.ParseAmount(s, "GBP"); err != nil {
			return nil, fmt.Errorf("risk: velocity sum threshold: %w", err)
		}
	}
	return &Engine{cfg: cfg}, nil
}

// Assess scores a payment.
func (e *Engine) Assess(p Payment, h History, t TPP) Assessment {
	var reasons []Reason
	add := func(rule string, s float64, detail string) {
		w := e.cfg.Weights[rule]
		if s <= 0 || w <= 0 {
			return
		}
		reasons = append(reasons, Reason{Rule: rule, Score: round4(min(s, 1)), Weight: w, Detail: detail})
	}
	e.amountZScore(p, h, add)
	e.newPayee(p, h, add)
	e.velocity(p, h, add)
	e.unusualHour(p, add)
	e.destination(p, add)
	e.tpp(t, add)

	prod := 1.0
	for _, r := range reasons {
		prod *= 1 - r.Weight*r.Score
	}
	a := Assessment{Score: round4(1 - prod), Reasons: reasons}
	if a.Reasons == nil {
		a.Reasons = []Reason{}
	}
	switch {
	case a.Score >= e.cfg.HighAt:
		a.Level, a.Decision = High, e.cfg.HighAction
	case a.Score >= e.cfg.MediumAt:
		a.Level, a.Decision = Medium, e.cfg.MediumAction
	default:
		a.Level, a.Decision = Low, Allow
	}
	return a
}

type adder func(rule string, s float64, detail string)

func (e *Engine) amountZScore(p Payment, h History, add adder) {
	var amounts []int64
	for _, pp := range h.Payments {
		if pp.Amount.Currency == p.Amount.Currency {
			amounts = append(amounts, pp.Amount.Abs().Minor)
		}
	}
	n := len(amounts)
	if n == 0 || n < e.cfg.MinHistory {
		return
	}
	sum := new(big.Int)
	for _, a := range amounts {
		sum.Add(sum, big.NewInt(a))
	}
	meanRat := new(big.Rat).SetFrac(sum, big.NewInt(int64(n)))
	mean, _ := meanRat.Float64()
	var ss float64
	for _, a := range amounts {
		d := float64(a) - mean
		ss += d * d
	}
	sd := math.Sqrt(ss / float64(n)) // population sd: the history is the whole population we know
	sd = max(sd, e.cfg.SDFloorFraction*mean, 1)
	amt := float64(p.Amount.Abs().Minor)
	z := (amt - mean) / sd
	if z <= e.cfg.ZLow {
		return
	}
	s := (z - e.cfg.ZLow) / (e.cfg.ZHigh - e.cfg.ZLow)
	meanMoney := ob.Money{Minor: roundHalfEven(meanRat), Currency: p.Amount.Currency}
	add(RuleAmountZScore, s, fmt.Sprintf("amount %s is %.1f standard deviations above the customer's mean of %s over %d payments",
		p.Amount.Abs(), z, meanMoney, n))
}

func roundHalfEven(r *big.Rat) int64 {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int)) // r ≥ 0 here
	twice := new(big.Int).Mul(m, big.NewInt(2))
	switch twice.Cmp(r.Denom()) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q.Int64()
}

func (e *Engine) newPayee(p Payment, h History, add adder) {
	if len(h.Payments) == 0 && len(h.KnownPayees) == 0 {
		return // no evidence either way
	}
	key := PayeeKey(p.CreditorScheme, p.CreditorIdentification)
	if h.KnownPayees[key] {
		return
	}
	others := map[string]bool{}
	for _, pp := range h.Payments {
		if pp.Payee == key {
			return
		}
		if pp.Payee != "" {
			others[pp.Payee] = true
		}
	}
	for k := range h.KnownPayees {
		others[k] = true
	}
	add(RuleNewPayee, 1, fmt.Sprintf("first payment to %s; the customer has paid or saved %d other payees", key, len(others)))
}

func (e *Engine) velocity(p Payment, h History, add adder) {
	from := p.At.Add(-e.cfg.Window)
	count := 1
	sum := p.Amount.Abs().Minor
	for _, pp := range h.Payments {
		if pp.At.After(from) && !pp.At.After(p.At) {
			count++
			if pp.Amount.Currency == p.Amount.Currency {
				sum += pp.Amount.Abs().Minor
			}
		}
	}
	if count == 1 {
		return // no other payment in the window: velocity is about repetition, a lone large payment is amount-zscore's business
	}
	if count > e.cfg.CountSoft {
		s := float64(count-e.cfg.CountSoft) / float64(e.cfg.CountHard-e.cfg.CountSoft)
		add(RuleVelocityCount, s, fmt.Sprintf("%d payments in the last %s including this one (usual limit %d)", count, e.cfg.Window, e.cfg.CountSoft))
	}
	soft, err1 := ob.ParseAmount(e.cfg.SumSoft, p.Amount.Currency)
	hard, err2 := ob.ParseAmount(e.cfg.SumHard, p.Amount.Currency)
	if err1 != nil || err2 != nil || hard.Minor <= soft.Minor {
		return
	}
	if sum > soft.Minor {
		s := float64(sum-soft.Minor) / float64(hard.Minor-soft.Minor)
		add(RuleVelocitySum, s, fmt.Sprintf("%s paid in the last %s including this payment (threshold %s)",
			ob.Money{Minor: sum, Currency: p.Amount.Currency}, e.cfg.Window, soft))
	}
}

func (e *Engine) unusualHour(p Payment, add adder) {
	loc := p.Location
	if loc == nil {
		loc = e.cfg.Location
	}
	if p.At.IsZero() || e.cfg.NightStart == e.cfg.NightEnd {
		return
	}
	local := p.At.In(loc)
	h := local.Hour()
	var night bool
	if e.cfg.NightStart < e.cfg.NightEnd {
		night = h >= e.cfg.NightStart && h < e.cfg.NightEnd
	} else {
		night = h >= e.cfg.NightStart || h < e.cfg.NightEnd
	}
	if night {
		add(RuleUnusualHour, 1, fmt.Sprintf("initiated at %s customer-local time (night hours %02d:00-%02d:00)",
			local.Format("15:04 MST"), e.cfg.NightStart, e.cfg.NightEnd))
	}
}

// CreditorCountries returns the creditor's countries as its IBAN prefix
// and its BIC's country code say (either may be absent; both are checked,
// so a GB IBAN does not hide a high-risk BIC).
func CreditorCountries(p Payment) []string {
	var cs []string
	if (p.CreditorScheme == ob.SchemeIBAN || p.CreditorScheme == "IBAN") && len(p.CreditorIdentification) >= 2 {
		cs = append(cs, strings.ToUpper(p.CreditorIdentification[:2]))
	}
	if len(p.CreditorBIC) >= 6 {
		cs = append(cs, strings.ToUpper(p.CreditorBIC[4:6]))
	}
	return cs
}

func (e *Engine) destination(p Payment, add adder) {
	for _, c := range CreditorCountries(p) {
		for _, hr := range e.cfg.HighRiskCountries {
			if c == hr {
				add(RuleHighRiskDestination, 1, fmt.Sprintf("creditor account is in %s, a high-risk country", c))
				return
			}
		}
	}
	if p.CreditorScheme == ob.SchemeSortCodeAccountNumber || p.CreditorScheme == "SortCodeAccountNumber" {
		for _, pre := range e.cfg.HighRiskSortCodePrefixes {
			if pre != "" && strings.HasPrefix(p.CreditorIdentification, pre) {
				add(RuleHighRiskDestination, 1, fmt.Sprintf("creditor sort code is in the high-risk range %s", pre))
				return
			}
		}
	}
}

func (e *Engine) tpp(t TPP, add adder) {
	if t.Requests <= 0 || t.Requests < e.cfg.TPPMinRequests {
		return
	}
	rate := float64(t.Rejected) / float64(t.Requests)
	if rate <= e.cfg.TPPRejectRateSoft {
		return
	}
	s := (rate - e.cfg.TPPRejectRateSoft) / (e.cfg.TPPRejectRateHard - e.cfg.TPPRejectRateSoft)
	add(RuleTPPRejectionRate, s, fmt.Sprintf("the TPP had %d of its last %d requests rejected (%.0f%%)", t.Rejected, t.Requests, 100*rate))
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
