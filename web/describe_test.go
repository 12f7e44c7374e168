package web

import (
	"testing"

	"github.com/obank/obank/ob"
)

func TestEveryPermissionDescribed(t *testing.T) {
	if len(ob.AllPermissions) != 21 {
		t.Errorf("ob.AllPermissions has %d codes, want the 21 of OBIE v3.1", len(ob.AllPermissions))
	}
	for _, p := range ob.AllPermissions {
		if permissionText[p] == "" {
			t.Errorf("permission %s has no plain-English text", p)
		}
	}
	if len(permissionText) != len(ob.AllPermissions) {
		t.Errorf("permissionText has %d entries, want %d", len(permissionText), len(ob.AllPermissions))
	}
}

func TestMaskAndLogo(t *testing.T) {
	for in, want := range map[string]string{"60837112345678": "•••• 5678", "1234": "1234", "": ""} {
		if got := maskNumber(in); got != want {
			t.Errorf("maskNumber(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"https://tpp.example/logo.png": "https://tpp.example/logo.png",
		"http://tpp.example/logo.png":  "",
		"javascript:alert(1)":          "",
		"data:image/png;base64,AAAA":   "",
		"//tpp.example/logo.png":       "",
	} {
		if got := httpsURL(in); got != want {
			t.Errorf("httpsURL(%q) = %q, want %q", in, got, want)
		}
	}
}
