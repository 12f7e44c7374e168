package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/obank/obank/ob"
	"github.com/obank/obank/payments"
)

// The payment-initiation wire shapes (payment-initiation-openapi.yaml) and
// their converters to and from the typed Initiations of package payments.
// The same Initiation shapes serve requests and responses: a response
// echoes the Initiation the consent stored. Dates are strings on the wire
// (a request may omit the zone, read as UTC; a response always carries
// it).

// obPaymentConsentRequest is OBWriteDomesticConsent4,
// OBWriteDomesticScheduledConsent4 and OBWriteDomesticStandingOrderConsent5:
// the Initiation is decoded per kind, strictly, after the envelope.
type obPaymentConsentRequest struct {
	Data *struct {
		Permission        *string             `json:"Permission"`
		ReadRefundAccount *string             `json:"ReadRefundAccount"`
		Initiation        json.RawMessage     `json:"Initiation"`
		Authorisation     *obAuthorisationReq `json:"Authorisation"`
		// SCASupportData is accepted and not kept: the bank applies no SCA
		// exemption.
		SCASupportData json.RawMessage `json:"SCASupportData"`
	} `json:"Data"`
	Risk json.RawMessage `json:"Risk"`
}

type obAuthorisationReq struct {
	AuthorisationType  *string `json:"AuthorisationType"`
	CompletionDateTime *string `json:"CompletionDateTime"`
}

// obPaymentOrderRequest is OBWriteDomestic2, OBWriteDomesticScheduled2 and
// OBWriteDomesticStandingOrder3.
type obPaymentOrderRequest struct {
	Data *struct {
		ConsentId  *string         `json:"ConsentId"`
		Initiation json.RawMessage `json:"Initiation"`
	} `json:"Data"`
	Risk json.RawMessage `json:"Risk"`
}

// obPaymentConsentResponse is OBWriteDomesticConsentResponse5,
// OBWriteDomesticScheduledConsentResponse5 and
// OBWriteDomesticStandingOrderConsentResponse6.
type obPaymentConsentResponse struct {
	Data  obPaymentConsentData `json:"Data"`
	Risk  json.RawMessage      `json:"Risk"`
	Links obLinks              `json:"Links"`
	Meta  obMeta               `json:"Meta"`
}

type obPaymentConsentData struct {
	ConsentId                 string           `json:"ConsentId"`
	CreationDateTime          string           `json:"CreationDateTime"`
	Status                    string           `json:"Status"`
	StatusUpdateDateTime      string           `json:"StatusUpdateDateTime"`
	Permission                string           `json:"Permission,omitempty"`
	ReadRefundAccount         string           `json:"ReadRefundAccount,omitempty"`
	ExpectedExecutionDateTime string           `json:"ExpectedExecutionDateTime,omitempty"`
	Charges                   []obCharge       `json:"Charges"`
	Initiation                any              `json:"Initiation"`
	Authorisation             *obAuthorisation `json:"Authorisation,omitempty"`
}

type obAuthorisation struct {
	AuthorisationType  string `json:"AuthorisationType"`
	CompletionDateTime string `json:"CompletionDateTime,omitempty"`
}

// obCharge is a Charges item. The bank charges nothing, so Charges is
// always [].
type obCharge struct {
	ChargeBearer string   `json:"ChargeBearer"`
	Type         string   `json:"Type"`
	Amount       obAmount `json:"Amount"`
}

// obPaymentOrderResponse is OBWriteDomesticResponse5,
// OBWriteDomesticScheduledResponse5 and
// OBWriteDomesticStandingOrderResponse6; exactly one of the three id
// fields is set.
type obPaymentOrderResponse struct {
	Data  obPaymentOrderData `json:"Data"`
	Links obLinks            `json:"Links"`
	Meta  obMeta             `json:"Meta"`
}

type obPaymentOrderData struct {
	DomesticPaymentId          string     `json:"DomesticPaymentId,omitempty"`
	DomesticScheduledPaymentId string     `json:"DomesticScheduledPaymentId,omitempty"`
	DomesticStandingOrderId    string     `json:"DomesticStandingOrderId,omitempty"`
	ConsentId                  string     `json:"ConsentId"`
	CreationDateTime           string     `json:"CreationDateTime"`
	Status                     string     `json:"Status"`
	StatusUpdateDateTime       string     `json:"StatusUpdateDateTime"`
	ExpectedExecutionDateTime  string     `json:"ExpectedExecutionDateTime,omitempty"`
	ExpectedSettlementDateTime string     `json:"ExpectedSettlementDateTime,omitempty"`
	Charges                    []obCharge `json:"Charges"`
	Initiation                 any        `json:"Initiation"`
}

// obWriteFundsConfirmationResponse1 answers a payment consent's
// funds-confirmation.
type obWriteFundsConfirmationResponse1 struct {
	Data struct {
		FundsAvailableResult obFundsAvailableResult `json:"FundsAvailableResult"`
	} `json:"Data"`
	Links obLinks `json:"Links"`
	Meta  obMeta  `json:"Meta"`
}

type obFundsAvailableResult struct {
	FundsAvailableDateTime string `json:"FundsAvailableDateTime"`
	FundsAvailable         bool   `json:"FundsAvailable"`
}

// obWritePaymentDetailsResponse1 is payment-details.
type obWritePaymentDetailsResponse1 struct {
	Data struct {
		PaymentStatus []obPaymentStatus `json:"PaymentStatus"`
	} `json:"Data"`
	Links obLinks `json:"Links"`
	Meta  obMeta  `json:"Meta"`
}

type obPaymentStatus struct {
	PaymentTransactionId string           `json:"PaymentTransactionId"`
	Status               string           `json:"Status"`
	StatusUpdateDateTime string           `json:"StatusUpdateDateTime"`
	StatusDetail         *obStatusDetail1 `json:"StatusDetail,omitempty"`
}

type obStatusDetail1 struct {
	Status                  string `json:"Status"`
	StatusReason            string `json:"StatusReason,omitempty"`
	StatusReasonDescription string `json:"StatusReasonDescription,omitempty"`
}

// Initiations.

// obDomesticInitiation is the Initiation of domestic payment consents and
// orders.
type obDomesticInitiation struct {
	InstructionIdentification string                          `json:"InstructionIdentification"`
	EndToEndIdentification    string                          `json:"EndToEndIdentification"`
	LocalInstrument           string                          `json:"LocalInstrument,omitempty"`
	InstructedAmount          obAmount                        `json:"InstructedAmount"`
	DebtorAccount             *payments.Account               `json:"DebtorAccount,omitempty"`
	CreditorAccount           payments.Account                `json:"CreditorAccount"`
	CreditorPostalAddress     *obPostalAddress                `json:"CreditorPostalAddress,omitempty"`
	RemittanceInformation     *payments.RemittanceInformation `json:"RemittanceInformation,omitempty"`
	SupplementaryData         json.RawMessage                 `json:"SupplementaryData,omitempty"`
}

// obScheduledInitiation is the Initiation of domestic scheduled payments.
type obScheduledInitiation struct {
	InstructionIdentification  string                          `json:"InstructionIdentification"`
	EndToEndIdentification     string                          `json:"EndToEndIdentification,omitempty"`
	LocalInstrument            string                          `json:"LocalInstrument,omitempty"`
	RequestedExecutionDateTime string                          `json:"RequestedExecutionDateTime"`
	InstructedAmount           obAmount                        `json:"InstructedAmount"`
	DebtorAccount              *payments.Account               `json:"DebtorAccount,omitempty"`
	CreditorAccount            payments.Account                `json:"CreditorAccount"`
	CreditorPostalAddress      *obPostalAddress                `json:"CreditorPostalAddress,omitempty"`
	RemittanceInformation      *payments.RemittanceInformation `json:"RemittanceInformation,omitempty"`
	SupplementaryData          json.RawMessage                 `json:"SupplementaryData,omitempty"`
}

// obStandingOrderInitiation is the Initiation of domestic standing orders.
type obStandingOrderInitiation struct {
	Frequency                string            `json:"Frequency"`
	Reference                string            `json:"Reference,omitempty"`
	NumberOfPayments         string            `json:"NumberOfPayments,omitempty"`
	FirstPaymentDateTime     string            `json:"FirstPaymentDateTime"`
	RecurringPaymentDateTime string            `json:"RecurringPaymentDateTime,omitempty"`
	FinalPaymentDateTime     string            `json:"FinalPaymentDateTime,omitempty"`
	FirstPaymentAmount       obAmount          `json:"FirstPaymentAmount"`
	RecurringPaymentAmount   *obAmount         `json:"RecurringPaymentAmount,omitempty"`
	FinalPaymentAmount       *obAmount         `json:"FinalPaymentAmount,omitempty"`
	DebtorAccount            *payments.Account `json:"DebtorAccount,omitempty"`
	CreditorAccount          payments.Account  `json:"CreditorAccount"`
	SupplementaryData        json.RawMessage   `json:"SupplementaryData,omitempty"`
}

// postalAddressIn is postalAddress the other way, for an Initiation's
// CreditorPostalAddress.
func postalAddressIn(a *obPostalAddress) *payments.PostalAddress {
	if a == nil {
		return nil
	}
	return &payments.PostalAddress{
		AddressType: a.AddressType, Department: a.Department, SubDepartment: a.SubDepartment,
		StreetName: a.StreetName, BuildingNumber: a.BuildingNumber, PostCode: a.PostCode,
		TownName: a.TownName, CountrySubDivision: a.CountrySubDivision, Country: a.Country,
		AddressLines: a.AddressLine,
	}
}

func amountIn(a obAmount) payments.Amount {
	return payments.Amount{Amount: a.Amount, Currency: a.Currency}
}

func amountInPtr(a *obAmount) *payments.Amount {
	if a == nil {
		return nil
	}
	v := amountIn(*a)
	return &v
}

func amountOut(a payments.Amount) obAmount { return obAmount{Amount: a.Amount, Currency: a.Currency} }

func amountOutPtr(a *payments.Amount) *obAmount {
	if a == nil {
		return nil
	}
	v := amountOut(*a)
	return &v
}

// remittanceOut omits an empty RemittanceInformation (the spec wants unset
// objects omitted, never {}).
func remittanceOut(r *payments.RemittanceInformation) *payments.RemittanceInformation {
	if r == nil || *r == (payments.RemittanceInformation{}) {
		return nil
	}
	return r
}

// noSupplementaryData refuses SupplementaryData with content: the bank
// defines none, and what it does not keep it could neither echo nor match
// against the order. An empty object is accepted.
func noSupplementaryData(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) == nil && len(m) == 0 {
		return nil
	}
	return ob.FieldError(ob.CodeFieldUnexpected, initiationPath+".SupplementaryData",
		"the bank defines no SupplementaryData")
}

const initiationPath = "Data.Initiation"

// wireTime parses an Initiation date-time (absent: zero time, which the
// service reports as missing where it is required).
func wireTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	path := initiationPath + "." + name
	t, err := bodyTime(path, &v)
	if err != nil {
		return time.Time{}, err
	}
	return *t, nil
}

// decodeInitiation decodes raw strictly into v: an unknown member is 400
// UK.OBIE.Field.Unexpected, a wrong type 400 UK.OBIE.Resource.InvalidFormat.
func decodeInitiation(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	switch {
	case err == nil:
		return nil
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return ob.FieldError(ob.CodeFieldUnexpected, initiationPath, "Initiation has an "+strings.TrimPrefix(err.Error(), "json: "))
	}
	return &ob.Error{Code: ob.CodeResourceInvalidFormat, Path: initiationPath,
		Message: "Initiation is not valid for this payment type", Err: fmt.Errorf("decoding Initiation: %w", err)}
}

// parseDomestic decodes a domestic Initiation into payments.Initiation.
func parseDomestic(raw json.RawMessage) (any, error) {
	var w obDomesticInitiation
	if err := decodeInitiation(raw, &w); err != nil {
		return nil, err
	}
	if err := noSupplementaryData(w.SupplementaryData); err != nil {
		return nil, err
	}
	return payments.Initiation{
		InstructionIdentification: w.InstructionIdentification,
		EndToEndIdentification:    w.EndToEndIdentification,
		LocalInstrument:           w.LocalInstrument,
		InstructedAmount:          amountIn(w.InstructedAmount),
		DebtorAccount:             w.DebtorAccount,
		CreditorAccount:           w.CreditorAccount,
		CreditorPostalAddress:     postalAddressIn(w.CreditorPostalAddress),
		RemittanceInformation:     w.RemittanceInformation,
	}, nil
}

// renderDomestic turns a stored payments.Initiation into its wire form.
func renderDomestic(stored json.RawMessage) (any, error) {
	var in payments.Initiation
	if err := json.Unmarshal(stored, &in); err != nil {
		return nil, fmt.Errorf("httpapi: stored domestic Initiation: %w", err)
	}
	return obDomesticInitiation{
		InstructionIdentification: in.InstructionIdentification,
		EndToEndIdentification:    in.EndToEndIdentification,
		LocalInstrument:           in.LocalInstrument,
		InstructedAmount:          amountOut(in.InstructedAmount),
		DebtorAccount:             in.DebtorAccount,
		CreditorAccount:           in.CreditorAccount,
		CreditorPostalAddress:     postalAddress(in.CreditorPostalAddress),
		RemittanceInformation:     remittanceOut(in.RemittanceInformation),
	}, nil
}

// parseScheduled decodes a scheduled Initiation into
// payments.ScheduledInitiation.
func parseScheduled(raw json.RawMessage) (any, error) {
	var w obScheduledInitiation
	if err := decodeInitiation(raw, &w); err != nil {
		return nil, err
	}
	if err := noSupplementaryData(w.SupplementaryData); err != nil {
		return nil, err
	}
	at, err := wireTime("RequestedExecutionDateTime", w.RequestedExecutionDateTime)
	if err != nil {
		return nil, err
	}
	return payments.ScheduledInitiation{
		InstructionIdentification:  w.InstructionIdentification,
		EndToEndIdentification:     w.EndToEndIdentification,
		LocalInstrument:            w.LocalInstrument,
		RequestedExecutionDateTime: at,
		InstructedAmount:           amountIn(w.InstructedAmount),
		DebtorAccount:              w.DebtorAccount,
		CreditorAccount:            w.CreditorAccount,
		CreditorPostalAddress:      postalAddressIn(w.CreditorPostalAddress),
		RemittanceInformation:      w.RemittanceInformation,
	}, nil
}

func renderScheduled(stored json.RawMessage) (any, error) {
	var in payments.ScheduledInitiation
	if err := json.Unmarshal(stored, &in); err != nil {
		return nil, fmt.Errorf("httpapi: stored scheduled Initiation: %w", err)
	}
	return obScheduledInitiation{
		InstructionIdentification:  in.InstructionIdentification,
		EndToEndIdentification:     in.EndToEndIdentification,
		LocalInstrument:            in.LocalInstrument,
		RequestedExecutionDateTime: formatTime(in.RequestedExecutionDateTime),
		InstructedAmount:           amountOut(in.InstructedAmount),
		DebtorAccount:              in.DebtorAccount,
		CreditorAccount:            in.CreditorAccount,
		CreditorPostalAddress:      postalAddress(in.CreditorPostalAddress),
		RemittanceInformation:      remittanceOut(in.RemittanceInformation),
	}, nil
}

// parseStandingOrder decodes a standing-order Initiation into
// payments.StandingOrderInitiation.
func parseStandingOrder(raw json.RawMessage) (any, error) {
	var w obStandingOrderInitiation
	if err := decodeInitiation(raw, &w); err != nil {
		return nil, err
	}
	if err := noSupplementaryData(w.SupplementaryData); err != nil {
		return nil, err
	}
	first, err := wireTime("FirstPaymentDateTime", w.FirstPaymentDateTime)
	if err != nil {
		return nil, err
	}
	recurring, err := wireTime("RecurringPaymentDateTime", w.RecurringPaymentDateTime)
	if err != nil {
		return nil, err
	}
	final, err := wireTime("FinalPaymentDateTime", w.FinalPaymentDateTime)
	if err != nil {
		return nil, err
	}
	return payments.StandingOrderInitiation{
		Frequency:                w.Frequency,
		Reference:                w.Reference,
		NumberOfPayments:         w.NumberOfPayments,
		FirstPaymentDateTime:     first,
		RecurringPaymentDateTime: recurring,
		FinalPaymentDateTime:     final,
		FirstPaymentAmount:       amountIn(w.FirstPaymentAmount),
		RecurringPaymentAmount:   amountInPtr(w.RecurringPaymentAmount),
		FinalPaymentAmount:       amountInPtr(w.FinalPaymentAmount),
		DebtorAccount:            w.DebtorAccount,
		CreditorAccount:          w.CreditorAccount,
	}, nil
}

func renderStandingOrder(stored json.RawMessage) (any, error) {
	var in payments.StandingOrderInitiation
	if err := json.Unmarshal(stored, &in); err != nil {
		return nil, fmt.Errorf("httpapi: stored standing-order Initiation: %w", err)
	}
	return obStandingOrderInitiation{
		Frequency:                in.Frequency,
		Reference:                in.Reference,
		NumberOfPayments:         in.NumberOfPayments,
		FirstPaymentDateTime:     formatTime(in.FirstPaymentDateTime),
		RecurringPaymentDateTime: formatTime(in.RecurringPaymentDateTime),
		FinalPaymentDateTime:     formatTime(in.FinalPaymentDateTime),
		FirstPaymentAmount:       amountOut(in.FirstPaymentAmount),
		RecurringPaymentAmount:   amountOutPtr(in.RecurringPaymentAmount),
		FinalPaymentAmount:       amountOutPtr(in.FinalPaymentAmount),
		DebtorAccount:            in.DebtorAccount,
		CreditorAccount:          in.CreditorAccount,
	}, nil
}

// scheduledAt returns a stored scheduled Initiation's execution time.
func scheduledAt(stored json.RawMessage) time.Time {
	var in payments.ScheduledInitiation
	if json.Unmarshal(stored, &in) != nil {
		return time.Time{}
	}
	return in.RequestedExecutionDateTime
}
