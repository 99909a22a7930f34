// Package npmtest installs npm packages for interop tests: once per
// package and version, cached in the temporary directory.
package npmtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// DPoPVersion is the version of panva's npm package "dpop" the interop
// tests make proofs with.
const DPoPVersion = "2.1.2"

// Install returns a directory holding node_modules/<pkg>, installing
// pkg@version there the first time (elsewhere, then renamed into place,
// so concurrent runs never see half an install). Without node or npm the
// test skips, except under CI=true where it fails.
func Install(t *testing.T, pkg, version string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI=true: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	dir := filepath.Join(os.TempDir(), "jwtauth-npm-"+pkg+"-"+version)
	installed := filepath.Join(dir, "node_modules", pkg, "package.json")
	if _, err := os.Stat(installed); err == nil {
		return dir
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "jwtauth-npm-install-")
	require.NoError(t, err)
	defer func() { _ = os.RemoveAll(tmp) }()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	// #nosec G204 -- the package and version are the tests' own constants
	cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", tmp, "--no-audit", "--no-fund", "--loglevel=error", pkg+"@"+version)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "npm install %s@%s: %s", pkg, version, out)
	if err := os.Rename(tmp, dir); err != nil {
		// Another run installed it meanwhile; use that one.
		_, statErr := os.Stat(installed)
		require.NoError(t, statErr, "rename: %v", err)
	}
	return dir
}
