package integration

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFreshClone: "jwtauth serve" with no configuration at all (only the
// address and an empty data dir) starts on SQLite with generated keys,
// saved 0600 and reused on the next start, so that tokens survive a
// restart.
func TestFreshClone(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "state")
	env := map[string]string{
		"JWTAUTH_ADDR":     "127.0.0.1:0",
		"JWTAUTH_DATA_DIR": dataDir,
		"HOME":             t.TempDir(),
	}
	s := startRaw(t, env)
	c := s.client(t, clientOpts{})
	r := c.do(t, http.MethodGet, "/healthz", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	lr := c.login(t, "alice", "alice-password")
	wantMe(t, c.me(t, lr.AccessToken), "alice")

	keys := filepath.Join(dataDir, "keys.env")
	fi, err := os.Stat(keys)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(dataDir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	data, err := os.ReadFile(keys)
	require.NoError(t, err)
	assert.Contains(t, string(data), "JWTAUTH_SIGNING_KEY=")
	assert.Contains(t, string(data), "JWTAUTH_ENCRYPTION_KEYS=")
	_, err = os.Stat(filepath.Join(dataDir, "jwtauth.db"))
	assert.NoError(t, err, "the SQLite default lives in the data dir")
	logs := s.Stderr.String()
	assert.Contains(t, logs, "generated development keys")
	for _, line := range strings.Split(string(data), "\n") {
		if _, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			assert.NotContains(t, logs, v, "keys never logged")
		}
	}

	// Restart on the same data dir: same keys, same sessions.
	s.Stop(t)
	s2 := startRaw(t, env)
	c2 := s2.client(t, clientOpts{})
	wantMe(t, c2.me(t, lr.AccessToken), "alice")
	assert.NotContains(t, s2.Stderr.String(), "generated development keys")
	again, err := os.ReadFile(keys)
	require.NoError(t, err)
	assert.Equal(t, data, again)
}

// TestProductionRefusesMissingKeys: in production nothing is generated.
func TestProductionRefusesMissingKeys(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "JWTAUTH_SIGNING_KEY"},
		{map[string]string{"JWTAUTH_SIGNING_KEY": "c2hvcnQ="}, "JWTAUTH_SIGNING_KEY"},
		{map[string]string{"JWTAUTH_ACCESS_TTL": "1 minute"}, "JWTAUTH_ACCESS_TTL"},
	} {
		cmdEnv := []string{"PATH=" + os.Getenv("PATH"), "JWTAUTH_ENV=production", "JWTAUTH_ADDR=127.0.0.1:0", "JWTAUTH_DATA_DIR=" + dataDir}
		for k, v := range tt.env {
			cmdEnv = append(cmdEnv, k+"="+v)
		}
		out, code := runBinary(t, cmdEnv, "serve")
		assert.Equal(t, 2, code, out)
		assert.Contains(t, out, tt.want)
		assert.NotContains(t, out, "c2hvcnQ")
	}
	entries, err := os.ReadDir(dataDir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing generated in production")
}
