package archtest

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/jwtauth/jwtauth"

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	require.NoError(t, err)
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		require.NoError(t, dec.Decode(&p))
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs)
	return pkgs
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

func TestImportRules(t *testing.T) {
	allowed := map[string][]string{
		module + "/domain": {},
		module + "/ports":  {module + "/domain"},
		// app reports through the OpenTelemetry API only, never the SDK.
		module + "/app": {module + "/domain", module + "/ports", "go.opentelemetry.io/otel",
			"go.opentelemetry.io/otel/attribute", "go.opentelemetry.io/otel/codes",
			"go.opentelemetry.io/otel/metric", "go.opentelemetry.io/otel/trace"},
	}
	for _, p := range listPackages(t) {
		for _, imp := range p.Imports {
			if isStd(imp) {
				continue
			}
			if strings.HasPrefix(imp, module+"/") && strings.HasSuffix(imp, "test") && !strings.HasSuffix(p.ImportPath, "test") {
				t.Errorf("%s imports the test-support package %s outside tests", p.ImportPath, imp)
			}
			if allow, ok := allowed[p.ImportPath]; ok {
				assert.Contains(t, allow, imp, "%s must not import %s", p.ImportPath, imp)
				continue
			}
			if adapter, ok := adapterOf(p.ImportPath); ok {
				// Test-support packages (porttest, webtest) are imported by
				// tests only and may assemble real adapters.
				testSupport := strings.HasSuffix(p.ImportPath, "test")
				if other, ok := adapterOf(imp); ok && other != adapter && other != "internal" && !testSupport {
					t.Errorf("adapter %s imports adapter %s", p.ImportPath, imp)
				}
				assert.NotEqual(t, module, imp, "%s must not import the root assembly", p.ImportPath)
			}
		}
	}
}

// adapterOf returns the adapter an import path belongs to.
func adapterOf(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, module+"/adapters/")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, "/")
	return name, true
}
