package jwtauthtest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/httpauth"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/dpop"
	"github.com/jwtauth/jwtauth/jwtauthtest"
)

type user struct {
	Name string `json:"name"`
}

// app is a small application under test: its own login route and one
// protected route.
func newApp(t *testing.T, kit *jwtauthtest.Kit[user]) *httptest.Server {
	auth, err := httpauth.New(httpauth.Config[user]{Service: kit.Service})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Handler())
	mux.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Username string }
		if err := httpauth.DecodeJSON(w, r, &body); err != nil {
			auth.Error(w, r, err)
			return
		}
		auth.Login(w, r, "id-"+body.Username, user{Name: body.Username})
	})
	mux.Handle("GET /me", auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpauth.FromContext[user](r.Context())
		_ = json.NewEncoder(w).Encode(p.User)
	})))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	jwtauthtest.Authorize(req, token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	return res.StatusCode
}

func TestKitTokensWorkOverHTTP(t *testing.T) {
	cfg := jwtauthtest.Config(t)
	cfg.UserFromToken = true
	kit := jwtauthtest.New[user](t, cfg, nil)
	srv := newApp(t, kit)

	pair := kit.Login(t, "id-alice", user{Name: "alice"})
	assert.Equal(t, http.StatusOK, get(t, srv.URL+"/me", pair.AccessToken))

	lr := jwtauthtest.PostLogin(t, srv.URL+"/auth/login", map[string]string{"username": "bob"})
	assert.Equal(t, "Bearer", lr.TokenType)
	assert.Equal(t, int64(600), lr.ExpiresIn)
	assert.Equal(t, http.StatusOK, get(t, srv.URL+"/me", lr.AccessToken))

	// The settable clock drives expiry: no sleeping.
	kit.Clock.Advance(cfg.AccessTTL + time.Minute)
	assert.Equal(t, http.StatusUnauthorized, get(t, srv.URL+"/me", lr.AccessToken))
	_, err := kit.Service.Authenticate(context.Background(), pair.AccessToken, jwtauthtest.Client)
	require.ErrorIs(t, err, domain.ErrExpired)
	refreshed, err := kit.Service.Refresh(context.Background(), pair.RefreshToken, jwtauthtest.Client)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, get(t, srv.URL+"/me", refreshed.AccessToken))

	require.NoError(t, kit.Service.LogoutAll(context.Background(), "id-alice"))
	assert.Equal(t, http.StatusUnauthorized, get(t, srv.URL+"/me", refreshed.AccessToken))
	sessions, err := kit.Store.Sessions(context.Background(), "id-bob")
	require.NoError(t, err)
	assert.Len(t, sessions, 1)
}

func TestKitWithoutEncryptionOrCache(t *testing.T) {
	cfg := jwtauthtest.Config(t)
	cfg.Encrypt, cfg.Cache = false, false
	kit := jwtauthtest.New[user](t, cfg, nil)
	pair := kit.Login(t, "u", user{})
	_, err := kit.Service.Authenticate(context.Background(), pair.AccessToken, jwtauthtest.Client)
	require.NoError(t, err)
}

func TestClockConcurrent(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	c := jwtauthtest.NewClock(start)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			c.Advance(time.Second)
			_ = c.Now()
		})
	}
	wg.Wait()
	assert.Equal(t, start.Add(50*time.Second), c.Now())
	c.Set(start)
	assert.Equal(t, start, c.Now())
}

// TestKitDPoPTokensWorkOverHTTP: LoginDPoP's tokens work through its
// Transport against an application with DPoP on, and not as Bearer.
func TestKitDPoPTokensWorkOverHTTP(t *testing.T) {
	kit := jwtauthtest.New[user](t, jwtauthtest.Config(t), nil)
	proofs, err := dpop.New(dpop.Config{})
	require.NoError(t, err)
	auth, err := httpauth.New(httpauth.Config[user]{Service: kit.Service, DPoP: proofs})
	require.NoError(t, err)
	srv := httptest.NewServer(auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpauth.FromContext[user](r.Context())
		_, _ = w.Write([]byte(p.Claims.JKT))
	})))
	t.Cleanup(srv.Close)

	pair, tr := kit.LoginDPoP(t, "id-alice", user{Name: "alice"})
	assert.Equal(t, tr.JKT(), pair.JKT)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/me", nil)
	require.NoError(t, err)
	jwtauthtest.AuthorizeDPoP(req, pair.AccessToken)
	res, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
	assert.Equal(t, tr.JKT(), string(body))

	assert.Equal(t, http.StatusUnauthorized, get(t, srv.URL+"/me", pair.AccessToken), "a bound token as Bearer")
}
