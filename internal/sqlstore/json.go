package sqlstore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/obank/obank/ob"
)

// The private types below are the stored JSON shape of the nested parts of
// the bank's records. They are separate from the ob types on purpose: the
// domain has no JSON tags, and renaming a Go field there must not silently
// change (or break reading) what is already in a database. Short keys keep
// the 150,000-row demo history small. Slices deliberately have no omitempty
// so that nil and empty round-trip as they were written.

type addressJSON struct {
	AddressType        string   `json:"type,omitempty"`
	Department         string   `json:"dept,omitempty"`
	SubDepartment      string   `json:"subDept,omitempty"`
	StreetName         string   `json:"street,omitempty"`
	BuildingNumber     string   `json:"building,omitempty"`
	PostCode           string   `json:"postCode,omitempty"`
	TownName           string   `json:"town,omitempty"`
	CountrySubDivision string   `json:"subDivision,omitempty"`
	Country            string   `json:"country,omitempty"`
	AddressLines       []string `json:"lines"`
}

func toAddressJSON(a *ob.PostalAddress) *addressJSON {
	if a == nil {
		return nil
	}
	return &addressJSON{
		AddressType: a.AddressType, Department: a.Department, SubDepartment: a.SubDepartment,
		StreetName: a.StreetName, BuildingNumber: a.BuildingNumber, PostCode: a.PostCode,
		TownName: a.TownName, CountrySubDivision: a.CountrySubDivision, Country: a.Country,
		AddressLines: a.AddressLines,
	}
}

func (a *addressJSON) domain() *ob.PostalAddress {
	if a == nil {
		return nil
	}
	return &ob.PostalAddress{
		AddressType: a.AddressType, Department: a.Department, SubDepartment: a.SubDepartment,
		StreetName: a.StreetName, BuildingNumber: a.BuildingNumber, PostCode: a.PostCode,
		TownName: a.TownName, CountrySubDivision: a.CountrySubDivision, Country: a.Country,
		AddressLines: a.AddressLines,
	}
}

type agentJSON struct {
	SchemeName     string       `json:"scheme,omitempty"`
	Identification string       `json:"id,omitempty"`
	Name           string       `json:"name,omitempty"`
	PostalAddress  *addressJSON `json:"address,omitempty"`
}

func toAgentJSON(a *ob.Agent) *agentJSON {
	if a == nil {
		return nil
	}
	return &agentJSON{a.SchemeName, a.Identification, a.Name, toAddressJSON(a.PostalAddress)}
}

func (a *agentJSON) domain() *ob.Agent {
	if a == nil {
		return nil
	}
	return &ob.Agent{SchemeName: a.SchemeName, Identification: a.Identification, Name: a.Name, PostalAddress: a.PostalAddress.domain()}
}

type accountIDJSON struct {
	SchemeName              string `json:"scheme,omitempty"`
	Identification          string `json:"id,omitempty"`
	Name                    string `json:"name,omitempty"`
	SecondaryIdentification string `json:"secondary,omitempty"`
}

func toAccountIDJSON(a *ob.AccountIdentification) *accountIDJSON {
	if a == nil {
		return nil
	}
	return &accountIDJSON{a.SchemeName, a.Identification, a.Name, a.SecondaryIdentification}
}

func (a *accountIDJSON) domain() *ob.AccountIdentification {
	if a == nil {
		return nil
	}
	return &ob.AccountIdentification{SchemeName: a.SchemeName, Identification: a.Identification, Name: a.Name, SecondaryIdentification: a.SecondaryIdentification}
}

func toAccountIDsJSON(ids []ob.AccountIdentification) []accountIDJSON {
	if ids == nil {
		return nil
	}
	out := make([]accountIDJSON, len(ids))
	for i := range ids {
		out[i] = *toAccountIDJSON(&ids[i])
	}
	return out
}

func accountIDsDomain(ids []accountIDJSON) []ob.AccountIdentification {
	if ids == nil {
		return nil
	}
	out := make([]ob.AccountIdentification, len(ids))
	for i := range ids {
		out[i] = *ids[i].domain()
	}
	return out
}

type moneyJSON struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"ccy"`
}

func toMoneyJSON(m *ob.Money) *moneyJSON {
	if m == nil {
		return nil
	}
	return &moneyJSON{m.Minor, m.Currency}
}

func (m *moneyJSON) domain() *ob.Money {
	if m == nil {
		return nil
	}
	return &ob.Money{Minor: m.Minor, Currency: m.Currency}
}

type creditLineJSON struct {
	Included bool       `json:"included"`
	Type     string     `json:"type,omitempty"`
	Amount   *moneyJSON `json:"amount,omitempty"`
}

func toCreditLinesJSON(cls []ob.CreditLine) []creditLineJSON {
	if cls == nil {
		return nil
	}
	out := make([]creditLineJSON, len(cls))
	for i, c := range cls {
		out[i] = creditLineJSON{c.Included, c.Type, toMoneyJSON(c.Amount)}
	}
	return out
}

func creditLinesDomain(cls []creditLineJSON) []ob.CreditLine {
	if cls == nil {
		return nil
	}
	out := make([]ob.CreditLine, len(cls))
	for i, c := range cls {
		out[i] = ob.CreditLine{Included: c.Included, Type: c.Type, Amount: c.Amount.domain()}
	}
	return out
}

// statementDetailJSON holds a statement's lists.
type statementDetailJSON struct {
	Descriptions []string            `json:"descriptions"`
	Amounts      []statementAmtJSON  `json:"amounts"`
	Fees         []statementChgJSON  `json:"fees"`
	Interest     []statementChgJSON  `json:"interest"`
	DateTimes    []statementTimeJSON `json:"dateTimes"`
	Rates        []statementValJSON  `json:"rates"`
	Values       []statementValJSON  `json:"values"`
}

type statementAmtJSON struct {
	Type   string    `json:"type"`
	Amount moneyJSON `json:"amount"`
}

type statementChgJSON struct {
	Description string    `json:"description,omitempty"`
	Type        string    `json:"type,omitempty"`
	Rate        string    `json:"rate,omitempty"`
	RateType    string    `json:"rateType,omitempty"`
	Frequency   string    `json:"frequency,omitempty"`
	Amount      moneyJSON `json:"amount"`
}

type statementTimeJSON struct {
	Type   string `json:"type"`
	Micros int64  `json:"us"` // unix microseconds, like the time columns
}

type statementValJSON struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// mapSlice converts a slice element-wise, keeping nil as nil.
func mapSlice[S, T any](in []S, f func(S) T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func toStatementDetailJSON(s *ob.Statement) statementDetailJSON {
	chg := func(c ob.StatementCharge) statementChgJSON {
		return statementChgJSON{c.Description, c.Type, c.Rate, c.RateType, c.Frequency, moneyJSON{c.Amount.Minor, c.Amount.Currency}}
	}
	val := func(v ob.StatementValue) statementValJSON { return statementValJSON{v.Type, v.Value} }
	return statementDetailJSON{
		Descriptions: s.Descriptions,
		Amounts: mapSlice(s.Amounts, func(a ob.StatementAmount) statementAmtJSON {
			return statementAmtJSON{a.Type, moneyJSON{a.Amount.Minor, a.Amount.Currency}}
		}),
		Fees:     mapSlice(s.Fees, chg),
		Interest: mapSlice(s.Interest, chg),
		DateTimes: mapSlice(s.DateTimes, func(d ob.StatementDateTime) statementTimeJSON {
			return statementTimeJSON{d.Type, micros(d.DateTime)}
		}),
		Rates:  mapSlice(s.Rates, val),
		Values: mapSlice(s.Values, val),
	}
}

func (d *statementDetailJSON) apply(s *ob.Statement) {
	chg := func(c statementChgJSON) ob.StatementCharge {
		return ob.StatementCharge{Description: c.Description, Type: c.Type, Rate: c.Rate, RateType: c.RateType,
			Frequency: c.Frequency, Amount: ob.Money{Minor: c.Amount.Minor, Currency: c.Amount.Currency}}
	}
	val := func(v statementValJSON) ob.StatementValue { return ob.StatementValue{Type: v.Type, Value: v.Value} }
	s.Descriptions = d.Descriptions
	s.Amounts = mapSlice(d.Amounts, func(a statementAmtJSON) ob.StatementAmount {
		return ob.StatementAmount{Type: a.Type, Amount: ob.Money{Minor: a.Amount.Minor, Currency: a.Amount.Currency}}
	})
	s.Fees = mapSlice(d.Fees, chg)
	s.Interest = mapSlice(d.Interest, chg)
	s.DateTimes = mapSlice(d.DateTimes, func(t statementTimeJSON) ob.StatementDateTime {
		return ob.StatementDateTime{Type: t.Type, DateTime: fromMicros(t.Micros)}
	})
	s.Rates = mapSlice(d.Rates, val)
	s.Values = mapSlice(d.Values, val)
}

// jsonEnc encodes values for JSON columns and keeps the first error, so a
// loop building many rows checks once per row instead of once per column.
type jsonEnc struct{ err error }

// col returns v as JSON text, or nil (SQL NULL) when v is a nil pointer or
// slice.
func (e *jsonEnc) col(v any) any {
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Slice) && rv.IsNil() {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("encode %T: %w", v, err)
		}
		return nil
	}
	return string(b)
}

// decodeCol decodes a nullable JSON column into dst, leaving it zero for NULL.
func decodeCol(col sql.NullString, dst any) error {
	if !col.Valid {
		return nil
	}
	if err := json.Unmarshal([]byte(col.String), dst); err != nil {
		return fmt.Errorf("decode %T: %w", dst, err)
	}
	return nil
}
