package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/obank/obank/events"
	"github.com/obank/obank/internal/cli"
	"github.com/obank/obank/jws"
	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
	"github.com/obank/obank/payments/risk"
)

// paymentsConfig is the payment-initiation policy of serve.
type paymentsConfig struct {
	maxAmount         string
	currencies        string
	riskHighAction    string
	riskThresholds    string
	riskCountries     string
	schedulerInterval time.Duration
	trustAnchor       string
	chapsCutoff       string
	bacsCutoff        string
}

func (c *paymentsConfig) flags(fs *cli.FlagSet) {
	fs.String(&c.maxAmount, "max-payment", "50000", "maximum amount of one payment, in the payment's currency")
	fs.String(&c.currencies, "payment-currencies", "GBP,EUR,USD", "comma-separated currencies payments may be made in")
	fs.String(&c.riskHighAction, "risk-high-action", "step-up", "what a HIGH fraud score does: step-up (the customer re-authenticates on the\nconsent page) or reject")
	fs.String(&c.riskThresholds, "risk-thresholds", "0.4,0.7", "fraud scores (0-1) from which a payment is MEDIUM and HIGH risk")
	fs.String(&c.riskCountries, "risk-high-countries", "", "comma-separated ISO 3166 country codes whose creditor accounts are high-risk\ndestinations (by IBAN or BIC)")
	fs.Duration(&c.schedulerInterval, "scheduler-interval", payments.DefaultRunInterval, "how often due scheduled payments and standing orders are executed (0 disables)")
	fs.String(&c.trustAnchor, "jws-trust-anchor", jws.TrustAnchorOB, "the tan claim of the bank's response signatures")
	fs.String(&c.chapsCutoff, "chaps-cutoff", "16:00", "London time of day after which a CHAPS payment to another bank settles the next working\nday (when CHAPS opens, 06:00)")
	fs.String(&c.bacsCutoff, "bacs-cutoff", "17:00", "London time of day after which a Bacs payment is submitted the next working day (it\nsettles two working days after submission)")
}

// timeOfDay parses HH:MM.
func timeOfDay(flag, v string) (time.Duration, error) {
	t, err := time.Parse("15:04", v)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: want HH:MM", flag, v)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// service builds the payment service over store.
func (c *paymentsConfig) service(store payments.Store, events payments.Events, linkBase string, logger *slog.Logger) (*payments.Service, error) {
	limits := payments.DefaultLimits()
	if _, err := ob.ParseAmount(c.maxAmount, "GBP"); err != nil {
		return nil, fmt.Errorf("--max-payment %q: %w", c.maxAmount, err)
	}
	limits.MaxAmount = c.maxAmount
	limits.Currencies = nil
	for _, cur := range strings.Split(c.currencies, ",") {
		cur = strings.TrimSpace(cur)
		if !ob.ValidCurrency(cur) {
			return nil, fmt.Errorf("--payment-currencies: %q is not an ISO 4217 code", cur)
		}
		limits.Currencies = append(limits.Currencies, cur)
	}
	rc := risk.DefaultConfig()
	switch c.riskHighAction {
	case "step-up":
		rc.HighAction = risk.StepUp
	case "reject":
		rc.HighAction = risk.Reject
	default:
		return nil, fmt.Errorf("--risk-high-action %q: step-up or reject", c.riskHighAction)
	}
	medium, high, ok := strings.Cut(c.riskThresholds, ",")
	if !ok {
		return nil, fmt.Errorf("--risk-thresholds %q: want MEDIUM,HIGH such as 0.4,0.7", c.riskThresholds)
	}
	var err error
	if rc.MediumAt, err = strconv.ParseFloat(strings.TrimSpace(medium), 64); err != nil {
		return nil, fmt.Errorf("--risk-thresholds: %w", err)
	}
	if rc.HighAt, err = strconv.ParseFloat(strings.TrimSpace(high), 64); err != nil {
		return nil, fmt.Errorf("--risk-thresholds: %w", err)
	}
	for _, cc := range strings.Split(c.riskCountries, ",") {
		if cc = strings.ToUpper(strings.TrimSpace(cc)); cc != "" {
			rc.HighRiskCountries = append(rc.HighRiskCountries, cc)
		}
	}
	engine, err := risk.New(rc)
	if err != nil {
		return nil, err
	}
	settlement, err := payments.DefaultSettlement()
	if err != nil {
		return nil, err
	}
	if settlement.CHAPSCutoff, err = timeOfDay("chaps-cutoff", c.chapsCutoff); err != nil {
		return nil, err
	}
	if settlement.BACSCutoff, err = timeOfDay("bacs-cutoff", c.bacsCutoff); err != nil {
		return nil, err
	}
	if err := settlement.Validate(); err != nil {
		return nil, fmt.Errorf("--chaps-cutoff, --bacs-cutoff: %w", err)
	}
	return payments.NewService(payments.Config{Store: store, Limits: limits, Risk: engine, Events: events,
		LinkBase: linkBase, Logger: logger, Settlement: &settlement})
}

// responseIssuer is the iss of the bank's signatures: its organisation id at
// the directory, or "obank" for a bank not registered with one (a demo).
func responseIssuer(orgID string) string {
	if orgID == "" {
		return "obank"
	}
	return orgID
}

// runPayment is the operators' view of payment orders: `obank payment show`
// prints an order with its fraud score, the reasons for it and its
// executions; `obank payment run-due` executes the scheduled payments and
// standing orders that are due once (serve does it continuously).
func runPayment(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "run-due") {
		fmt.Fprintln(env.stderr, "Usage: obank payment show --payment ID | obank payment run-due [--data-dir D | --dsn DSN]")
		return errors.New("payment: want the subcommand show or run-due")
	}
	var (
		c                    storeConfig
		pc                   paymentsConfig
		paymentID            string
		issuer, resourceBase string
	)
	fs := cli.NewFlagSet("payment "+args[0], "Show a payment order, or execute the due ones.", env.stderr)
	c.flags(fs)
	if args[0] == "show" {
		fs.String(&paymentID, "payment", "", "the payment order's id (DomesticPaymentId, DomesticScheduledPaymentId, DomesticStandingOrderId)")
	} else {
		pc.flags(fs)
		fs.String(&issuer, "public-url", "", "serve's --public-url (the OAuth issuer): with --mtls-public-url, the executions'\nresource-update events are recorded for subscribed TPPs")
		fs.String(&resourceBase, "mtls-public-url", "", "serve's --mtls-public-url (the resource APIs' base URL)")
	}
	if err := fs.Parse(args[1:], env.getenv); err != nil {
		return err
	}
	store, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer store.Close()
	if args[0] == "run-due" {
		var publisher payments.Events
		if issuer != "" && resourceBase != "" {
			publisher = &events.Publisher{Store: store, Issuer: issuer, BaseURL: resourceBase}
		} else {
			fmt.Fprintln(env.stderr, "obank payment run-due: without --public-url and --mtls-public-url no events are recorded")
		}
		svc, err := pc.service(store, publisher, resourceBase, slog.New(slog.NewTextHandler(env.stderr, nil)))
		if err != nil {
			return err
		}
		n, err := svc.RunDue(ctx, 10000)
		fmt.Fprintf(env.stdout, "%d payment orders executed\n", n)
		return err
	}
	if paymentID == "" {
		return errors.New("--payment is required")
	}
	p, err := store.Payment(ctx, paymentID)
	if err != nil {
		return fmt.Errorf("payment %s: %w", paymentID, err)
	}
	xs, err := store.Executions(ctx, paymentID)
	if err != nil {
		return err
	}
	out := struct {
		payments.Payment
		Amount     string
		Executions []payments.Execution
	}{p, p.Amount.String(), xs}
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
