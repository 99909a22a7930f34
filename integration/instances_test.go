package integration

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/internal/pgtest"
)

// runBinary runs the jwtauth binary with exactly env and returns its
// combined output and exit code.
func runBinary(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	require.NoError(t, err, "%s", out)
	return string(out), 0
}

// keygen returns fresh keys from "jwtauth keygen" as variables.
func keygen(t *testing.T) map[string]string {
	t.Helper()
	out, code := runBinary(t, []string{"PATH=" + os.Getenv("PATH")}, "keygen")
	require.Equal(t, 0, code, out)
	vars := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, line)
		vars[k] = v
	}
	require.Len(t, vars, 2)
	return vars
}

// TestTwoInstances: two servers on one PostgreSQL database, with the cache
// on, behave as one: a token from one is accepted by the other, and a
// revocation on either is seen by both (LISTEN/NOTIFY evicts the cache).
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	env := merge(keygen(t), map[string]string{
		"JWTAUTH_DATABASE_URL": dsn,
		"JWTAUTH_DEMO_USERS":   twoUsers,
	})

	// Migrate first with the CLI; then both start on a ready schema.
	cmdEnv := []string{"PATH=" + os.Getenv("PATH"), "JWTAUTH_DATABASE_URL=" + dsn}
	out, code := runBinary(t, cmdEnv, "migrate")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "migrated schema from version 0 to ")

	a := start(t, env)
	b := start(t, env)
	ca := a.client(t, clientOpts{Device: "d1"})
	cb := b.client(t, clientOpts{Device: "d1"})
	other := a.client(t, clientOpts{Device: "d2"})

	lr := ca.login(t, "alice", "alice-password")
	wantMe(t, ca.me(t, lr.AccessToken), "alice") // cached on a
	wantMe(t, cb.me(t, lr.AccessToken), "alice") // cached on b
	o := other.login(t, "alice", "alice-password")
	wantMe(t, other.me(t, o.AccessToken), "alice")

	// Logout on b: a must refuse at once (b's NOTIFY evicts a's cache).
	require.Equal(t, http.StatusNoContent, cb.do(t, http.MethodPost, "/auth/logout", lr.AccessToken, nil).Status)
	eventually(t, func() bool { return ca.me(t, lr.AccessToken).Status == http.StatusUnauthorized })
	wantError(t, ca.me(t, lr.AccessToken), http.StatusUnauthorized, "token_revoked")
	wantMe(t, other.me(t, o.AccessToken), "alice")

	// Logout all on b, session cached on a meanwhile.
	bob := ca.login(t, "bob", "bob-password")
	wantMe(t, ca.me(t, bob.AccessToken), "bob")
	require.Equal(t, http.StatusNoContent, cb.do(t, http.MethodPost, "/auth/logout/all", bob.AccessToken, nil).Status)
	eventually(t, func() bool { return ca.me(t, bob.AccessToken).Status == http.StatusUnauthorized })
	wantMe(t, other.me(t, o.AccessToken), "alice")

	// Refresh on a, with a token issued by b.
	lb := cb.login(t, "alice", "alice-password")
	r := ca.refresh(t, lb.RefreshToken)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	wantMe(t, cb.me(t, r.Object(t)["access_token"].(string)), "alice")
}

// eventually polls cond for up to 2 s: invalidations travel through
// PostgreSQL, asynchronously.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 2s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
