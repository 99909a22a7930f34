package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers (log output).
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

func mapLookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// environ returns env as os.Environ would.
func environ(env map[string]string) []string {
	var out []string
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// testEnv returns the variables of a test server in its own data dir,
// overridden by extra.
func testEnv(t *testing.T, extra map[string]string) map[string]string {
	env := map[string]string{
		"JWTAUTH_ENV":      "test",
		"JWTAUTH_DATA_DIR": t.TempDir(),
		"JWTAUTH_ADDR":     "127.0.0.1:0",
	}
	maps.Copy(env, extra)
	return env
}

// testConfig loads the configuration of env as serve does (generating
// development keys into the data dir).
func testConfig(t *testing.T, env map[string]string) jwtauth.Config {
	t.Helper()
	cfg, _, err := loadServeConfig(mapLookup(env), func(string) *slog.Logger { return slog.New(slog.DiscardHandler) })
	require.NoError(t, err)
	return cfg
}

// testServer is a reference server serving on a loopback port.
type testServer struct {
	*server
	URL string
	Log *syncBuffer
}

// startServer starts a server for env (see testEnv) and stops it when the
// test ends.
func startServer(t *testing.T, extra map[string]string) *testServer {
	t.Helper()
	cfg := testConfig(t, testEnv(t, extra))
	logs := &syncBuffer{}
	srv, err := newServer(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
		srv.Close(10 * time.Second)
	})
	return &testServer{server: srv, URL: "http://" + ln.Addr().String(), Log: logs}
}

// response is a read HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body %q", r.Body)
	return m
}

// do sends a request with an optional JSON body and bearer token; it
// fails the test on a 500 or on a non-JSON error.
func do(t *testing.T, method, url, token string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.NotEqual(t, http.StatusInternalServerError, res.StatusCode, "never a 500: %s", data)
	if res.StatusCode >= 400 {
		require.Equal(t, "application/json", res.Header.Get("Content-Type"), "errors are JSON: %s", data)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// login logs in and returns the login body.
func login(t *testing.T, base, username, password string) map[string]any {
	t.Helper()
	r := do(t, http.MethodPost, base+"/auth/login", "", map[string]string{"username": username, "password": password})
	require.Equal(t, http.StatusOK, r.Status, "login: %s", r.Body)
	return r.JSON(t)
}
