package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/internal/pgtest"
)

// binary is the jwtauth binary TestMain builds.
var binary string

// buildFlags are the flags of that build; race_test.go adds -race.
var buildFlags []string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jwtauth-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "jwtauth")
	args := append([]string{"build"}, buildFlags...)
	args = append(args, "-o", binary, "./cmd/jwtauth")
	build := exec.Command("go", args...)
	build.Dir = ".."
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "integration: building cmd/jwtauth:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// backend is a store the server runs on.
type backend struct {
	name string
	// env returns the variables selecting it (a fresh database each call).
	env func(t *testing.T) map[string]string
}

var backends = []backend{
	{"sqlite", func(*testing.T) map[string]string { return nil }},
	{"postgres", func(t *testing.T) map[string]string {
		return map[string]string{"JWTAUTH_DATABASE_URL": pgtest.DSN(t)}
	}},
}

// eachBackend runs fn as a parallel subtest per backend; env selects it.
func eachBackend(t *testing.T, fn func(t *testing.T, env map[string]string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.env(t))
		})
	}
}

// merge returns the union of maps, later ones winning.
func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}

// instance is one running "jwtauth serve" process.
type instance struct {
	URL     string // http://127.0.0.1:port
	Port    string
	DataDir string
	Stderr  *syncBuffer

	cmd      *exec.Cmd
	exited   chan struct{}
	exitErr  error
	stopOnce sync.Once

	mu     sync.Mutex
	tokens []string // every token the server issued, never to be logged
}

// start runs the server with the test defaults (loopback port 0, test
// environment, its own data dir), env added on top, and stops it when the
// test ends.
func start(t *testing.T, env map[string]string) *instance {
	t.Helper()
	base := map[string]string{
		"JWTAUTH_ADDR":     "127.0.0.1:0",
		"JWTAUTH_ENV":      "test",
		"JWTAUTH_DATA_DIR": t.TempDir(),
	}
	return startRaw(t, merge(base, env))
}

// startRaw runs the server with exactly env, plus PATH and HOME.
func startRaw(t *testing.T, env map[string]string) *instance {
	t.Helper()
	s := &instance{DataDir: env["JWTAUTH_DATA_DIR"], Stderr: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(binary, "serve")
	// A race-enabled binary otherwise sleeps 1 s at exit.
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GORACE=atexit_sleep_ms=0"}
	if _, ok := env["HOME"]; !ok {
		s.cmd.Env = append(s.cmd.Env, "HOME="+t.TempDir())
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		s.cmd.Env = append(s.cmd.Env, k+"="+env[k])
	}
	s.cmd.Stderr = s.Stderr
	stdout, err := s.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, s.cmd.Start())
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.Stop(t) })

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				lines <- addr
			}
		}
	}()
	select {
	case addr := <-lines:
		s.URL = strings.TrimSpace(addr)
	case <-s.exited:
		t.Fatalf("jwtauth serve exited before listening: %v\n%s", s.exitErr, s.Stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("jwtauth serve did not listen within 60s\n%s", s.Stderr.String())
	}
	_, s.Port, err = net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	require.NoError(t, err)
	return s
}

// Stop ends the server with SIGTERM and checks that it shut down cleanly
// (exit 0) without a panic and without logging any token it issued.
func (s *instance) Stop(t *testing.T) {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
			t.Errorf("jwtauth serve did not stop within 20s of SIGTERM")
		}
		logs := s.Stderr.String()
		assert.NoError(t, s.exitErr, "clean shutdown\n%s", logs)
		assert.NotContains(t, logs, "panic")
		assert.NotContains(t, logs, "DATA RACE")
		assert.NotContains(t, logs, "level=ERROR", "no unexpected error")
		assert.NotContains(t, logs, `"level":"ERROR"`, "no unexpected error")
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, tok := range s.tokens {
			if !assert.NotContains(t, logs, tok[len(tok)-24:], "a token was logged") {
				break
			}
		}
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
}

func (s *instance) remember(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tok := range tokens {
		if len(tok) >= 24 {
			s.tokens = append(s.tokens, tok)
		}
	}
}

// client talks to an instance as one device from one local address.
type client struct {
	s      *instance
	hc     *http.Client
	from   string // local IP the client dials from ("" default)
	device string // X-Device-ID ("" none)
	ua     string // User-Agent
	xff    string // X-Forwarded-For ("" none)
}

// clientOpts configure a client.
type clientOpts struct {
	From   string // local address to dial from, e.g. "127.0.0.2"
	Device string
	UA     string
	XFF    string
}

// client returns a client; its idle connections close with the test.
func (s *instance) client(t *testing.T, o clientOpts) *client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if o.From != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(o.From)}
	}
	tr := &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	if o.UA == "" {
		o.UA = "itest/1.0"
	}
	return &client{s: s, hc: &http.Client{Transport: tr, Timeout: 15 * time.Second},
		from: o.From, device: o.Device, ua: o.UA, xff: o.XFF}
}

// with returns a copy of c with other options (same connection pool when
// From is unchanged).
func (c *client) with(o clientOpts) *client {
	cp := *c
	if o.Device != "" {
		cp.device = o.Device
	}
	if o.UA != "" {
		cp.ua = o.UA
	}
	cp.xff = o.XFF
	return &cp
}

// resp is a read response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// Object decodes a JSON object body.
func (r resp) Object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body %q", r.Body)
	return m
}

// Array decodes a JSON array body.
func (r resp) Array(t *testing.T) []map[string]any {
	t.Helper()
	var a []map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &a), "body %q", r.Body)
	return a
}

// do sends a request and checks what every response of the contract must
// satisfy: never a 5xx (so never a 500), JSON with no-store caching
// (errors as {"error","error_description"}), the RFC 6750 challenge on
// every 401, an empty 204.
func (c *client) do(t *testing.T, method, path, token string, body any) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.s.URL+path, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.ua)
	if c.device != "" {
		req.Header.Set("X-Device-ID", c.device)
	}
	if c.xff != "" {
		req.Header.Set("X-Forwarded-For", c.xff)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.hc.Do(req)
	require.NoError(t, err, "%s %s", method, path)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := resp{Status: res.StatusCode, Header: res.Header, Body: data}
	checkResponse(t, method, path, r)
	if r.Status == http.StatusOK {
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			for _, k := range []string{"access_token", "refresh_token"} {
				if s, ok := m[k].(string); ok {
					c.s.remember(s)
				}
			}
		}
	}
	return r
}

func checkResponse(t *testing.T, method, path string, r resp) {
	t.Helper()
	what := fmt.Sprintf("%s %s → %d %s", method, path, r.Status, r.Body)
	require.NotEqual(t, http.StatusInternalServerError, r.Status, "never a 500: %s", what)
	checkContract(t, method, path, r)
	require.Less(t, r.Status, 500, "no 5xx expected: %s", what)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"), what)
	if r.Status == http.StatusNoContent {
		assert.Empty(t, r.Body, what)
		return
	}
	require.Equal(t, "application/json", r.Header.Get("Content-Type"), what)
	require.True(t, json.Valid(r.Body), "JSON body: %s", what)
	if r.Status >= 400 {
		var e map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &e), what)
		code, _ := e["error"].(string)
		assert.NotEmpty(t, code, "error code: %s", what)
		if _, verify := e["valid"]; !verify {
			desc, _ := e["error_description"].(string)
			assert.NotEmpty(t, desc, "error_description: %s", what)
		}
	}
	if r.Status == http.StatusUnauthorized {
		assert.True(t, strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer "), "challenge: %s", what)
	}
}

// loginResp is the 200 body of a login.
type loginResp struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	SessionID        string `json:"session_id"`
}

// login logs in and checks the login body of the contract.
func (c *client) login(t *testing.T, username, password string) loginResp {
	t.Helper()
	r := c.do(t, http.MethodPost, "/auth/login", "", map[string]string{"username": username, "password": password})
	require.Equal(t, http.StatusOK, r.Status, "login %s: %s", username, r.Body)
	assert.ElementsMatch(t, []string{"access_token", "refresh_token", "token_type", "expires_in", "refresh_expires_in", "session_id"},
		slices.Collect(maps.Keys(r.Object(t))))
	var lr loginResp
	require.NoError(t, json.Unmarshal(r.Body, &lr))
	assert.Equal(t, "Bearer", lr.TokenType)
	require.NotEmpty(t, lr.AccessToken)
	require.NotEmpty(t, lr.RefreshToken)
	require.NotEmpty(t, lr.SessionID)
	return lr
}

func (c *client) me(t *testing.T, token string) resp {
	t.Helper()
	return c.do(t, http.MethodGet, "/auth/me", token, nil)
}

func (c *client) refresh(t *testing.T, refreshToken string) resp {
	t.Helper()
	return c.do(t, http.MethodPost, "/auth/refresh", "", map[string]string{"refresh_token": refreshToken})
}

func (c *client) sessions(t *testing.T, token string) []map[string]any {
	t.Helper()
	r := c.do(t, http.MethodGet, "/auth/sessions", token, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.Array(t)
}

// wantError checks an error response's status and code.
func wantError(t *testing.T, r resp, status int, code string) {
	t.Helper()
	require.Equal(t, status, r.Status, "want %d %s, got %s", status, code, r.Body)
	assert.Equal(t, code, r.Object(t)["error"], "%s", r.Body)
}

// wantOK checks a 200 from /auth/me for user.
func wantMe(t *testing.T, r resp, username string) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	m := r.Object(t)
	assert.ElementsMatch(t, []string{"id", "username"}, slices.Collect(maps.Keys(m)))
	assert.Equal(t, username, m["username"])
}
