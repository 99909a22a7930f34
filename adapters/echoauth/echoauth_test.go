package echoauth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/echoauth"
	"github.com/jwtauth/jwtauth/adapters/internal/web"
	"github.com/jwtauth/jwtauth/adapters/internal/web/webtest"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

func TestNewValidates(t *testing.T) {
	svc := webtest.NewService(t)
	tests := []struct {
		name    string
		cfg     echoauth.Config[webtest.User]
		wantErr error
	}{
		{name: "ok", cfg: echoauth.Config[webtest.User]{Service: svc}},
		{name: "no service", cfg: echoauth.Config[webtest.User]{}, wantErr: domain.ErrInvalidArgument},
		{name: "invalid prefix", cfg: echoauth.Config[webtest.User]{Service: svc, TrustedProxies: []netip.Prefix{{}}}, wantErr: domain.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := echoauth.New(tt.cfg)
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
	lastErr := func() error { mu.Lock(); defer mu.Unlock(); return gotErr }
	auth, err := echoauth.New(echoauth.Config[webtest.User]{
		Service:        webtest.NewService(t),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		DeviceHeader:   "X-Dev",
		Skipper:        func(c echo.Context) bool { return c.Path() == "/public" },
		ErrorHandler: func(c echo.Context, err error) error {
			mu.Lock()
			gotErr = err
			mu.Unlock()
			if errors.Is(err, domain.ErrMissingToken) {
				return echo.NewHTTPError(http.StatusTeapot, "custom")
			}
			return c.String(http.StatusUnauthorized, "custom 401")
		},
		SuccessHandler: func(c echo.Context) { c.Set("seen", true) },
	})
	require.NoError(t, err)
	e := echo.New()
	handler := func(c echo.Context) error {
		p, ok := echoauth.Principal[webtest.User](c)
		seen, _ := c.Get("seen").(bool)
		return c.JSON(http.StatusOK, map[string]any{"ok": ok, "user": p.UserID, "seen": seen})
	}
	e.GET("/private", handler, auth.Middleware())
	e.GET("/public", handler, auth.Middleware())
	e.GET("/client", func(c echo.Context) error {
		ci := auth.Client(c)
		return c.JSON(http.StatusOK, map[string]string{"ip": ci.IP.String(), "device": ci.DeviceID, "name": ci.DeviceName})
	})
	e.POST("/login", func(c echo.Context) error { return auth.Login(c, "id-alice", webtest.User{Name: "alice"}) })
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	res, _ := webtest.Get(t, srv.URL+"/private", nil)
	assert.Equal(t, http.StatusTeapot, res.StatusCode, "ErrorHandler's error goes to Echo")
	assert.ErrorIs(t, lastErr(), domain.ErrMissingToken)

	res, body := webtest.Get(t, srv.URL+"/private", http.Header{"Authorization": {"Bearer garbage"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, "custom 401", body)
	assert.ErrorIs(t, lastErr(), domain.ErrMalformed)

	res, body = webtest.Get(t, srv.URL+"/public", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.JSONEq(t, `{"ok":false,"user":"","seen":false}`, body)

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
	assert.JSONEq(t, `{"ok":true,"user":"id-alice","seen":true}`, body)
}

// A Skipper that skips the auth routes must not let them run without a
// principal.
func TestSkippedAuthRoutesStillRefuse(t *testing.T) {
	auth, err := echoauth.New(echoauth.Config[webtest.User]{
		Service: webtest.NewService(t),
		Skipper: func(echo.Context) bool { return true },
	})
	require.NoError(t, err)
	e := echo.New()
	auth.Mount(e.Group("/auth"))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	res, body := webtest.Get(t, srv.URL+"/auth/sessions", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.True(t, strings.Contains(body, `"invalid_token"`), body)
}

// A principal stored for one user-claims type is not returned for another.
func TestPrincipalTypeMismatch(t *testing.T) {
	e := echo.New()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	_, ok := echoauth.Principal[webtest.User](c)
	assert.False(t, ok)
	c.SetRequest(c.Request().WithContext(web.NewContext(c.Request().Context(), app.Principal[string]{UserID: "x"})))
	_, ok = echoauth.Principal[webtest.User](c)
	assert.False(t, ok)
	p, ok := echoauth.Principal[string](c)
	assert.True(t, ok)
	assert.Equal(t, "x", p.UserID)
}

// WriteJSON writes the adapter's response headers for the application's
// own routes.
func TestWriteJSON(t *testing.T) {
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	require.NoError(t, echoauth.WriteJSON(c, http.StatusCreated, map[string]string{"a": "b"}))
	assert.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
	assert.JSONEq(t, `{"a":"b"}`, rec.Body.String())
}

// A custom ErrorHandler matches the exported sentinels with errors.Is and
// takes status and code from the exported table.
func TestErrorHandlerWithExportedTable(t *testing.T) {
	auth, err := echoauth.New(echoauth.Config[webtest.User]{
		Service: webtest.NewService(t),
		ErrorHandler: func(c echo.Context, err error) error {
			status, code := echoauth.StatusOf(err)
			c.Response().Header().Set("X-Code", code)
			if errors.Is(err, domain.ErrMissingToken) {
				return c.NoContent(status)
			}
			return echoauth.WriteError(c, err)
		},
	})
	require.NoError(t, err)
	e := echo.New()
	auth.Mount(e.Group("/auth"))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)

	res, body := webtest.Get(t, srv.URL+"/auth/sessions", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Equal(t, "invalid_token", res.Header.Get("X-Code"))
	assert.Empty(t, body)
	res, body = webtest.Get(t, srv.URL+"/auth/sessions", http.Header{"Authorization": {"Bearer x"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.JSONEq(t, `{"error":"invalid_token","error_description":"the token is invalid"}`, body)
	status, code := echoauth.StatusOf(echoauth.ErrBodyTooLarge)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.Equal(t, "invalid_request", code)
}
