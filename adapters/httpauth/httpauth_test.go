package httpauth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/httpauth"
	"github.com/jwtauth/jwtauth/adapters/internal/web"
	"github.com/jwtauth/jwtauth/adapters/internal/web/webtest"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

func TestNewValidates(t *testing.T) {
	svc := webtest.NewService(t)
	tests := []struct {
		name    string
		cfg     httpauth.Config[webtest.User]
		wantErr error
	}{
		{name: "ok", cfg: httpauth.Config[webtest.User]{Service: svc}},
		{name: "no service", cfg: httpauth.Config[webtest.User]{}, wantErr: domain.ErrInvalidArgument},
		{name: "invalid prefix", cfg: httpauth.Config[webtest.User]{Service: svc, TrustedProxies: []netip.Prefix{{}}}, wantErr: domain.ErrInvalidArgument},
		{name: "DPoP required without a validator", cfg: httpauth.Config[webtest.User]{Service: svc, DPoPRequired: true}, wantErr: domain.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := httpauth.New(tt.cfg)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, a)
				return
			}
			require.NoError(t, err)
			assert.NotNil(t, a)
		})
	}
}

func TestHooks(t *testing.T) {
	var (
		mu     sync.Mutex
		gotErr error
	)
	auth, err := httpauth.New(httpauth.Config[webtest.User]{
		Service:        webtest.NewService(t),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		DeviceHeader:   "X-Dev",
		Skipper:        func(r *http.Request) bool { return r.URL.Path == "/public" },
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			mu.Lock()
			gotErr = err
			mu.Unlock()
			w.WriteHeader(http.StatusTeapot)
		},
	})
	require.NoError(t, err)
	lastErr := func() error { mu.Lock(); defer mu.Unlock(); return gotErr }
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := httpauth.FromContext[webtest.User](r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": ok, "user": p.UserID})
	})
	mux := http.NewServeMux()
	mux.Handle("GET /private", auth.Middleware(handler))
	mux.Handle("GET /public", auth.Middleware(handler))
	mux.HandleFunc("GET /client", func(w http.ResponseWriter, r *http.Request) {
		ci := auth.Client(r)
		_ = json.NewEncoder(w).Encode(map[string]string{"ip": ci.IP.String(), "device": ci.DeviceID, "name": ci.DeviceName})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		auth.Login(w, r, "id-alice", webtest.User{Name: "alice"})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	res, _ := webtest.Get(t, srv.URL+"/private", nil)
	assert.Equal(t, http.StatusTeapot, res.StatusCode)
	assert.ErrorIs(t, lastErr(), domain.ErrMissingToken)

	res, _ = webtest.Get(t, srv.URL+"/private", http.Header{"Authorization": {"Bearer garbage"}})
	assert.Equal(t, http.StatusTeapot, res.StatusCode)
	assert.True(t, errors.Is(lastErr(), domain.ErrMalformed))

	res, body := webtest.Get(t, srv.URL+"/public", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.JSONEq(t, `{"ok":false,"user":""}`, body)

	res, body = webtest.Get(t, srv.URL+"/client", http.Header{"X-Forwarded-For": {"203.0.113.9"}, "X-Dev": {"dev-1"}, "User-Agent": {"UA/1"}})
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.JSONEq(t, `{"ip":"203.0.113.9","device":"dev-1","name":"UA/1"}`, body)

	loginRes, err := http.Post(srv.URL+"/login", "application/json", nil)
	require.NoError(t, err)
	defer loginRes.Body.Close()
	require.Equal(t, http.StatusOK, loginRes.StatusCode)
	var lr web.LoginResponse
	require.NoError(t, json.NewDecoder(loginRes.Body).Decode(&lr))
	res, body = webtest.Get(t, srv.URL+"/private", http.Header{"Authorization": {"Bearer " + lr.AccessToken}})
	assert.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.JSONEq(t, `{"ok":true,"user":"id-alice"}`, body)
}

// A Skipper that skips the auth routes must not let them run without a
// principal.
func TestSkippedAuthRoutesStillRefuse(t *testing.T) {
	auth, err := httpauth.New(httpauth.Config[webtest.User]{
		Service: webtest.NewService(t),
		Skipper: func(*http.Request) bool { return true },
	})
	require.NoError(t, err)
	srv := httptest.NewServer(auth.Handler())
	t.Cleanup(srv.Close)
	res, body := webtest.Get(t, srv.URL+"/sessions", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.True(t, strings.Contains(body, `"invalid_token"`), body)
}

// The handler mounts under a prefix in a plain ServeMux; unknown routes
// get JSON 404 and 405, never a 500.
func TestHandlerMounting(t *testing.T) {
	auth, err := httpauth.New(httpauth.Config[webtest.User]{Service: webtest.NewService(t)})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/api/v1/auth/", http.StripPrefix("/api/v1/auth", auth.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	res, _ := webtest.Get(t, srv.URL+"/api/v1/auth/sessions", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, _ = webtest.Get(t, srv.URL+"/api/v1/auth/nope", nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = webtest.Get(t, srv.URL+"/api/v1/auth/refresh", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
}

func TestFromContextTypeMismatch(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	_, ok := httpauth.FromContext[webtest.User](r.Context())
	assert.False(t, ok)
	ctx := web.NewContext(r.Context(), app.Principal[string]{UserID: "x"})
	_, ok = httpauth.FromContext[webtest.User](ctx)
	assert.False(t, ok)
	p, ok := httpauth.FromContext[string](ctx)
	assert.True(t, ok)
	assert.Equal(t, "x", p.UserID)
}

// A custom ErrorHandler matches the exported sentinels with errors.Is and
// takes status and code from the exported table.
func TestErrorHandlerWithExportedTable(t *testing.T) {
	var got []error
	var mu sync.Mutex
	auth, err := httpauth.New(httpauth.Config[webtest.User]{
		Service: webtest.NewService(t),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			mu.Lock()
			got = append(got, err)
			mu.Unlock()
			status, code := httpauth.StatusOf(err)
			w.Header().Set("X-Code", code)
			if errors.Is(err, domain.ErrMissingToken) {
				w.WriteHeader(status)
				return
			}
			httpauth.WriteError(w, r, err)
		},
	})
	require.NoError(t, err)
	srv := httptest.NewServer(auth.Handler())
	t.Cleanup(srv.Close)

	res, body := webtest.Get(t, srv.URL+"/sessions", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, "invalid_token", res.Header.Get("X-Code"))
	assert.Empty(t, body)
	res, body = webtest.Get(t, srv.URL+"/nope", nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.JSONEq(t, `{"error":"not_found","error_description":"no such route"}`, body)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2)
	assert.ErrorIs(t, got[0], domain.ErrMissingToken)
	assert.ErrorIs(t, got[1], httpauth.ErrRouteNotFound)
}

func TestStatusOf(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
		code   string
	}{
		{nil, http.StatusOK, ""},
		{domain.ErrMissingToken, http.StatusUnauthorized, "invalid_token"},
		{domain.ErrExpired, http.StatusUnauthorized, "token_expired"},
		{domain.ErrDeviceLimitReached, http.StatusForbidden, "device_limit_reached"},
		{httpauth.ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "invalid_request"},
		{httpauth.ErrMethodNotAllowed, http.StatusMethodNotAllowed, "invalid_request"},
		{errors.New("boom"), http.StatusServiceUnavailable, "unavailable"},
	} {
		status, code := httpauth.StatusOf(tt.err)
		assert.Equal(t, tt.status, status, "%v", tt.err)
		assert.Equal(t, tt.code, code, "%v", tt.err)
	}
}
