package integration

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmePrograms returns the README's whole Go programs (```go blocks
// with a main function), keyed by the heading above each.
func readmePrograms(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	progs := map[string]string{}
	heading := ""
	re := regexp.MustCompile("(?ms)^(#+ [^\n]+)$|```go\n(.*?)```")
	for _, m := range re.FindAllStringSubmatch(string(data), -1) {
		if m[1] != "" {
			heading = m[1]
			continue
		}
		if strings.Contains(m[2], "func main()") {
			progs[heading] = m[2]
		}
	}
	return progs
}

// TestReadmeProgramsStart: the README's Echo and net/http programs, built
// as written, start in an empty directory with no configuration but the
// address: development keys are generated once into ./.jwtauth/keys.env,
// the path is logged, and the auth routes answer. In production the same
// programs refuse to start without keys and write nothing.
func TestReadmeProgramsStart(t *testing.T) {
	progs := readmePrograms(t)
	require.Contains(t, progs, "### Echo")
	require.Contains(t, progs, "### net/http")
	for name, src := range progs {
		t.Run(strings.TrimLeft(name, "# "), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o600))
			bin := filepath.Join(dir, "app")
			build := exec.Command("go", "build", "-o", bin, filepath.Join(dir, "main.go"))
			build.Dir = ".."
			out, err := build.CombinedOutput()
			require.NoError(t, err, "%s", out)

			work := t.TempDir()
			addr := freeAddr(t)
			stderr := &syncBuffer{}
			cmd := exec.Command(bin)
			cmd.Dir = work
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "JWTAUTH_ADDR=" + addr}
			cmd.Stderr = stderr
			require.NoError(t, cmd.Start())
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })

			status := 0
			deadline := time.Now().Add(30 * time.Second)
			for status == 0 && time.Now().Before(deadline) {
				select {
				case <-exited:
					t.Fatalf("the program exited: %s", stderr.String())
				case <-time.After(50 * time.Millisecond):
				}
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/auth/sessions", nil)
				require.NoError(t, err)
				if res, err := http.DefaultClient.Do(req); err == nil {
					status = res.StatusCode
					_ = res.Body.Close()
				}
				cancel()
			}
			require.Equal(t, http.StatusUnauthorized, status, "GET /auth/sessions without a token; log:\n%s", stderr.String())
			keys := filepath.Join(work, ".jwtauth", "keys.env")
			fi, err := os.Stat(keys)
			require.NoError(t, err, "keys saved in the data dir")
			assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
			assert.Contains(t, stderr.String(), "generated development keys")
			assert.Contains(t, stderr.String(), filepath.Join(".jwtauth", "keys.env"), "the path is logged")

			prod := exec.Command(bin)
			prod.Dir = t.TempDir()
			prod.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "JWTAUTH_ADDR=" + freeAddr(t), "JWTAUTH_ENV=production"}
			out, err = prod.CombinedOutput()
			require.Error(t, err, "production refuses: %s", out)
			assert.Contains(t, string(out), "JWTAUTH_SIGNING_KEY is required")
			entries, err := os.ReadDir(prod.Dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "nothing generated in production")
		})
	}
}

// freeAddr returns a 127.0.0.1 address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
