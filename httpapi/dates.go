package httpapi

import (
	"net/url"
	"regexp"
	"time"

	"github.com/obank/obank/ob"
)

// Query date filters (fromBookingDateTime, toStatementDateTime...) are
// "UTC ISO 8601 date-times" without a timezone; the time part is optional
// (a bare date means 00:00:00), fractional seconds are allowed, and a
// timezone, if sent, must be ignored: "2017-04-05T10:43:07+05:00" is read
// as 10:43:07 UTC.

// queryTimeLayouts are tried in order on the value with any zone removed.
var queryTimeLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// trailingZone matches a zone designator after a time: Z, ±hh, ±hhmm,
// ±hh:mm. A space stands for '+' too: an unencoded "+01:00" in a query
// string arrives as " 01:00".
var trailingZone = regexp.MustCompile(`(?:[Zz]|[+\- ]\d{2}(?::?\d{2})?)$`)

// parseQueryTime parses one query date-time, ignoring any timezone.
func parseQueryTime(s string) (time.Time, bool) {
	if len(s) > len("2006-01-02") {
		// Only strip a zone after the time part: "2017-04-05" ends in
		// "-05", which is a day, not an offset.
		s = trailingZone.ReplaceAllLiteralString(s, "")
	}
	for _, layout := range queryTimeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// dateRange reads an optional from/to pair of query parameters. An
// unparsable value is 400 UK.OBIE.Field.InvalidDate naming the parameter;
// from after to is 400 UK.OBIE.Field.Invalid.
func dateRange(q url.Values, fromName, toName string) (from, to *time.Time, err error) {
	read := func(name string) (*time.Time, error) {
		if !q.Has(name) {
			return nil, nil
		}
		t, ok := parseQueryTime(q.Get(name))
		if !ok {
			return nil, ob.FieldError(ob.CodeFieldInvalidDate, name,
				name+" must be an ISO 8601 date-time such as 2017-04-05T10:43:07 or a date such as 2017-04-05")
		}
		return &t, nil
	}
	if from, err = read(fromName); err != nil {
		return nil, nil, err
	}
	if to, err = read(toName); err != nil {
		return nil, nil, err
	}
	if from != nil && to != nil && from.After(*to) {
		return nil, nil, ob.FieldError(ob.CodeFieldInvalid, fromName, fromName+" is after "+toName)
	}
	return from, to, nil
}

// responseTimeLayout writes date-times in UTC with an explicit zone, as
// OBIE requires of responses; fractional seconds appear only when set.
const responseTimeLayout = "2006-01-02T15:04:05.999999999Z07:00"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(responseTimeLayout)
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}
