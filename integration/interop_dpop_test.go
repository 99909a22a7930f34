package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// npmDPoP is the version of panva's npm package "dpop" the interop test
// uses, as in dpop/interop_test.go (whose npm install it shares).
const npmDPoP = "2.1.2"

// nodeDPoP returns a directory holding node_modules/dpop and the script
// dpop/testdata/server.mjs, installing the package as dpop/interop_test.go
// does: cached in the temporary directory, keyed by version, made
// atomically. Without node or npm the test skips, except under CI=true
// where it fails.
func nodeDPoP(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI=true: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	dir := filepath.Join(os.TempDir(), "jwtauth-npm-dpop-"+npmDPoP)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "dpop", "package.json")); err != nil {
		tmp, err := os.MkdirTemp(os.TempDir(), "jwtauth-npm-dpop-install-")
		require.NoError(t, err)
		defer func() { _ = os.RemoveAll(tmp) }()
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		// #nosec G204 -- fixed arguments
		cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", tmp, "--no-audit", "--no-fund", "--loglevel=error", "dpop@"+npmDPoP)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm install dpop@%s: %s", npmDPoP, out)
		if err := os.Rename(tmp, dir); err != nil {
			// Another run installed it meanwhile; use that one.
			_, statErr := os.Stat(filepath.Join(dir, "node_modules", "dpop", "package.json"))
			require.NoError(t, statErr, "rename: %v", err)
		}
	}
	script, err := os.ReadFile("../dpop/testdata/server.mjs")
	require.NoError(t, err)
	// Each test writes its own copy, so that parallel runs do not race.
	f, err := os.CreateTemp(dir, "server-*.mjs")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.Remove(f.Name()) })
	_, err = f.Write(script)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return f.Name()
}

// npmStep is one request the node script made.
type npmStep struct {
	Step       string   `json:"step"`
	Status     int      `json:"status"`
	TokenType  string   `json:"token_type"`
	Error      string   `json:"error"`
	NonceRetry bool     `json:"nonce_retry"`
	DPoPJKT    []string `json:"dpop_jkt"`
}

// TestDPoPInteropNPM: proofs made by the npm package dpop, sent by node's
// fetch, are accepted end to end by the reference server, ES256 and
// Ed25519, without and with server nonces: login with a proof binds the
// session (token_type DPoP), GET /auth/me with "Authorization: DPoP" and
// a proof with ath, refresh with a proof (rotation on), the refreshed
// tokens, and the session's dpop_jkt is the package's own thumbprint.
func TestDPoPInteropNPM(t *testing.T) {
	t.Parallel()
	script := nodeDPoP(t)
	for _, nonce := range []string{"false", "true"} {
		t.Run("nonce="+nonce, func(t *testing.T) {
			t.Parallel()
			s := start(t, merge(newForger(t).env(), map[string]string{
				"JWTAUTH_DEMO_USERS":     twoUsers,
				"JWTAUTH_DPOP":           "allowed",
				"JWTAUTH_DPOP_NONCE":     nonce,
				"JWTAUTH_ROTATE_REFRESH": "true",
			}))
			for _, alg := range []string{"ES256", "Ed25519"} {
				in, err := json.Marshal(map[string]string{"base": s.URL, "alg": alg, "username": "alice", "password": "alice-password"})
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				// #nosec G204 -- the script is the test's own; the argument is JSON
				cmd := exec.CommandContext(ctx, "node", script, string(in))
				cmd.Dir = filepath.Dir(script)
				out, err := cmd.Output()
				cancel()
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Logf("node stderr: %s", ee.Stderr)
				}
				require.NoError(t, err, "%s", alg)
				var res struct {
					JKT   string    `json:"jkt"`
					Steps []npmStep `json:"steps"`
				}
				require.NoError(t, json.Unmarshal(out, &res), "%s", out)
				require.Len(t, res.Steps, 6, "%s", out)
				for _, st := range res.Steps {
					assert.Equal(t, http.StatusOK, st.Status, "%s %s: %+v", alg, st.Step, st)
					// With nonces on, only the first request lacks one:
					// every token response brings a fresh one.
					assert.Equal(t, nonce == "true" && st.Step == "login", st.NonceRetry, "%s %s: use_dpop_nonce retry", alg, st.Step)
					switch st.Step {
					case "login", "refresh", "refresh again":
						assert.Equal(t, "DPoP", st.TokenType, "%s %s", alg, st.Step)
					case "sessions":
						assert.Equal(t, []string{res.JKT}, st.DPoPJKT, "%s: the session is bound to the npm key", alg)
					}
				}
			}
		})
	}
}
