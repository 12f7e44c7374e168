package oauth_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImports keeps the domain free of transport and storage: oauth must
// not depend, even indirectly, on net/http or database/sql.
func TestDomainImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/obank/obank/oauth").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "net/http", "database/sql":
			t.Errorf("package oauth depends on %s", dep)
		}
	}
}
