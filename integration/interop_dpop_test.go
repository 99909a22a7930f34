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

	"github.com/jwtauth/jwtauth/internal/npmtest"
)

// nodeDPoP returns a directory holding node_modules/dpop (npmtest.Install:
// without node or npm the test skips, except under CI=true) and a copy of
// the script dpop/testdata/server.mjs.
func nodeDPoP(t *testing.T) string {
	t.Helper()
	dir := npmtest.Install(t, "dpop", npmtest.DPoPVersion)
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
