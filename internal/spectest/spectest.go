// Package spectest validates real HTTP exchanges against the embedded OBIE
// OpenAPI files with kin-openapi. The AIS tests use it for every response
// they receive; the PIS and CBPII tests are meant to reuse it.
//
// Two kin-openapi pitfalls are handled here once: the OBIE files use
// ECMAScript regular expressions (lookaheads) that Go's RE2 cannot compile,
// so patterns go through regexp2; and every operation is OAuth2-secured, so
// an AuthenticationFunc must be set or validation fails with
// ErrAuthenticationServiceMissing.
package spectest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/obank/obank/api/obie"
)

// Validator checks responses of one API (one OpenAPI file) served at one
// base URL.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
}

// ecmaRegex compiles OpenAPI "pattern" values the way the spec authors
// meant them: as ECMAScript regular expressions.
func ecmaRegex(expr string) (openapi3.RegexMatcher, error) {
	re, err := regexp2.Compile(expr, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return ecmaMatcher{re}, nil
}

type ecmaMatcher struct{ re *regexp2.Regexp }

func (m ecmaMatcher) MatchString(s string) bool {
	ok, err := m.re.MatchString(s)
	// regexp2 only errors on a match timeout, which is unset here; treat it
	// as a mismatch so validation fails loudly rather than passing.
	return err == nil && ok
}

// New loads the embedded spec file (for example obie.AccountInfo), checks
// that it is a valid document, and points its servers at serverURL (the
// scheme and host of the server under test, such as an httptest.Server URL),
// keeping the spec's own base path (/open-banking/v3.1/aisp for AIS).
func New(spec, serverURL string) (*Validator, error) {
	data, err := obie.Read(spec)
	if err != nil {
		return nil, fmt.Errorf("spectest: reading %s: %w", spec, err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("spectest: loading %s: %w", spec, err)
	}
	ctx := context.Background()
	if err := doc.Validate(ctx, openapi3.SetRegexCompiler(ecmaRegex)); err != nil {
		return nil, fmt.Errorf("spectest: %s is not a valid OpenAPI document: %w", spec, err)
	}
	base := ""
	if len(doc.Servers) > 0 {
		u, err := url.Parse(doc.Servers[0].URL)
		if err != nil {
			return nil, fmt.Errorf("spectest: %s server URL: %w", spec, err)
		}
		base = u.Path
	}
	doc.Servers = openapi3.Servers{{URL: strings.TrimSuffix(serverURL, "/") + base}}
	router, err := legacy.NewRouter(doc, openapi3.SetRegexCompiler(ecmaRegex))
	if err != nil {
		return nil, fmt.Errorf("spectest: router for %s: %w", spec, err)
	}
	return &Validator{
		doc:    doc,
		router: router,
		opts: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			// Fail on a status the operation does not declare: a 404 where
			// the spec says 400 is a bug worth catching.
			IncludeResponseStatus: true,
			MultiError:            true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.SetSchemaRegexCompiler(ecmaRegex),
				// date-time must carry a timezone, amounts must match
				// their patterns: formats are part of the contract.
				openapi3.EnableFormatValidation(),
			},
		},
	}, nil
}

// MustNew is New for tests: it fails tb on error.
func MustNew(tb testing.TB, spec, serverURL string) *Validator {
	tb.Helper()
	v, err := New(spec, serverURL)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// Validate checks one response (status, headers and body) against the
// operation that req routes to. req is the request as sent, with an
// absolute URL. It returns an error describing every violation.
func (v *Validator) Validate(req *http.Request, status int, header http.Header, body []byte) error {
	route, pathParams, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("spectest: %s %s: no operation in the spec: %w", req.Method, req.URL, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams,
			Route:      route,
			Options:    v.opts,
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: v.opts,
	}
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		return fmt.Errorf("spectest: %s %s -> %d does not match the spec: %w", req.Method, req.URL.Path, status, err)
	}
	return nil
}

// Check is Validate for tests: it reports a violation with tb.Errorf and
// includes the body to make the failure readable.
func (v *Validator) Check(tb testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	tb.Helper()
	if err := v.Validate(req, status, header, body); err != nil {
		b := string(body)
		if len(b) > 2000 {
			b = b[:2000] + "..."
		}
		tb.Errorf("%v\nbody: %s", err, b)
	}
}
