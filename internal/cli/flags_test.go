package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseEnvPrecedence(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
		wantDemo bool
		wantN    int
	}{
		{"defaults", nil, nil, "127.0.0.1:8080", true, 50},
		{"env", nil, map[string]string{"OBANK_ADDR": ":9", "OBANK_DEMO": "false", "OBANK_DEMO_CUSTOMERS": "3"}, ":9", false, 3},
		{"flag beats env", []string{"--addr", ":7", "--demo=true"}, map[string]string{"OBANK_ADDR": ":9", "OBANK_DEMO": "false"}, ":7", true, 50},
		{"empty env is unset", nil, map[string]string{"OBANK_ADDR": ""}, "127.0.0.1:8080", true, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr string
			var demo bool
			var n int
			fs := NewFlagSet("serve", "", &bytes.Buffer{})
			fs.String(&addr, "addr", "127.0.0.1:8080", "listen address")
			fs.Bool(&demo, "demo", true, "seed a demo bank")
			fs.Int(&n, "demo-customers", 50, "customers")
			if err := fs.Parse(tt.args, func(k string) string { return tt.env[k] }); err != nil {
				t.Fatal(err)
			}
			if addr != tt.wantAddr || demo != tt.wantDemo || n != tt.wantN {
				t.Errorf("got addr=%q demo=%v n=%d, want %q %v %d", addr, demo, n, tt.wantAddr, tt.wantDemo, tt.wantN)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	var n int
	fs := NewFlagSet("serve", "", &bytes.Buffer{})
	fs.Int(&n, "page-size", 100, "page size")
	if err := fs.Parse(nil, func(string) string { return "many" }); err == nil || !strings.Contains(err.Error(), "OBANK_PAGE_SIZE") {
		t.Errorf("bad env value: err = %v, want one naming OBANK_PAGE_SIZE", err)
	}
	fs = NewFlagSet("serve", "", &bytes.Buffer{})
	fs.Int(&n, "page-size", 100, "page size")
	if err := fs.Parse([]string{"stray"}, nil); err == nil {
		t.Error("stray argument accepted")
	}
}

func TestUsageNamesEnv(t *testing.T) {
	var out bytes.Buffer
	var dir string
	fs := NewFlagSet("serve", "Run the server.", &out)
	fs.String(&dir, "data-dir", "./obank-data", "where the embedded store lives")
	fs.Usage()
	for _, want := range []string{"--data-dir", "OBANK_DATA_DIR", "./obank-data", "Run the server."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
}
