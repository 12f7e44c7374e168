package ob_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImports keeps the domain free of transport and storage: ob must
// not depend, even indirectly, on net/http or database/sql.
func TestDomainImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/obank/obank/ob").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "net/http", "database/sql":
			t.Errorf("package ob depends on %s", dep)
		}
	}
}
