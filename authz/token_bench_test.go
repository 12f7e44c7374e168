package authz

// Token endpoint benchmarks over loopback TLS with keep-alive, for the
// side-by-side comparison with other authorization servers. Client-side
// work (signing assertions: ~1 ms of PS256 each) is done before the timer
// starts, so the figures are the server's cost plus the HTTP round trip.
//
//	go test ./authz -run '^$' -bench 'Token|Exchange' -benchtime 3s -p 1

import (
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/obank/obank/oauth"
)

// benchForms pre-builds n token request forms.
func benchForms(n int, build func() url.Values) []url.Values {
	forms := make([]url.Values, n)
	for i := range forms {
		forms[i] = build()
	}
	return forms
}

// runTokenBench posts forms[i] for i < b.N, sequentially or from
// GOMAXPROCS goroutines, failing on any non-200, and reports ops/s.
func runTokenBench(b *testing.B, h *harness, tpp *testTPP, forms []url.Values, parallel bool) {
	target := h.MTLS.URL + PathToken
	post := func(f url.Values) {
		resp, err := tpp.HTTP.PostForm(target, f)
		if err != nil {
			b.Fatal(err)
		}
		r := readResult(b, resp)
		if r.Status != 200 {
			b.Fatalf("token: %d %s", r.Status, r.Body)
		}
	}
	post(forms[len(forms)-1]) // warm the connection and the caches
	forms = forms[:len(forms)-1]
	b.ResetTimer()
	if parallel {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				post(forms[next.Add(1)-1])
			}
		})
	} else {
		for i := 0; i < b.N; i++ {
			post(forms[i])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkTokenClientCredentials(b *testing.B) {
	for _, bc := range []struct {
		name     string
		method   string
		parallel bool
	}{
		{"private_key_jwt", oauth.AuthPrivateKeyJWT, false},
		{"private_key_jwt/parallel", oauth.AuthPrivateKeyJWT, true},
		{"tls_client_auth", oauth.AuthTLSClientAuth, false},
		{"tls_client_auth/parallel", oauth.AuthTLSClientAuth, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b)
			tpp := h.newTPP(tppOptions{Method: bc.method})
			forms := benchForms(b.N+1, func() url.Values {
				f := h.clientAuth(tpp)
				f.Set("grant_type", "client_credentials")
				f.Set("scope", "accounts")
				return f
			})
			runTokenBench(b, h, tpp, forms, bc.parallel)
		})
	}
}

func BenchmarkAuthorizationCodeExchange(b *testing.B) {
	for _, bc := range []struct {
		name     string
		parallel bool
	}{
		{"private_key_jwt", false},
		{"private_key_jwt/parallel", true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := newHarness(b)
			tpp := h.newTPP(tppOptions{})
			intent := h.grantFor(tpp)
			forms := benchForms(b.N+1, func() url.Values {
				f := h.clientAuth(tpp)
				for k, v := range exchangeForm(h.newCode(tpp, intent, nil)) {
					f[k] = v
				}
				return f
			})
			runTokenBench(b, h, tpp, forms, bc.parallel)
		})
	}
}
