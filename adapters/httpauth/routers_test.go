package httpauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/mux"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/httpauth"
	"github.com/jwtauth/jwtauth/adapters/internal/web/webtest"
)

// Each router mounts Handler at /auth and BrowserHandler at /auth/browser
// the way the package doc shows, and the whole contract suite runs
// through them on a real server.
func TestContractRouters(t *testing.T) {
	routers := map[string]func(auth *httpauth.Auth[webtest.User], login, me http.HandlerFunc) http.Handler{
		"chi Mount": func(auth *httpauth.Auth[webtest.User], login, me http.HandlerFunc) http.Handler {
			r := chi.NewRouter()
			r.Mount("/auth", auth.Handler())
			r.Mount("/auth/browser", auth.BrowserHandler(login))
			r.Post(webtest.LoginPath, login)
			r.With(auth.Middleware).Get(webtest.MePath, me)
			return r
		},
		"gorilla PathPrefix StripPrefix": func(auth *httpauth.Auth[webtest.User], login, me http.HandlerFunc) http.Handler {
			r := mux.NewRouter()
			r.HandleFunc(webtest.LoginPath, login).Methods(http.MethodPost)
			r.Handle(webtest.MePath, auth.Middleware(me)).Methods(http.MethodGet)
			r.PathPrefix("/auth/browser/").Handler(http.StripPrefix("/auth/browser", auth.BrowserHandler(login)))
			r.PathPrefix("/auth/").Handler(http.StripPrefix("/auth", auth.Handler()))
			return r
		},
		"ServeMux without StripPrefix": func(auth *httpauth.Auth[webtest.User], login, me http.HandlerFunc) http.Handler {
			m := http.NewServeMux()
			m.Handle("/auth/", auth.Handler())
			m.Handle("/auth/browser/", auth.BrowserHandler(login))
			m.HandleFunc("POST "+webtest.LoginPath, login)
			m.Handle("GET "+webtest.MePath, auth.Middleware(me))
			return m
		},
		"Echo group": func(auth *httpauth.Auth[webtest.User], login, me http.HandlerFunc) http.Handler {
			e := echo.New()
			g := e.Group("/auth")
			g.POST("/login", echo.WrapHandler(login))
			g.Any("/*", echo.WrapHandler(auth.Handler()))
			e.Group("/auth/browser").Any("/*", echo.WrapHandler(auth.BrowserHandler(login)))
			e.GET(webtest.MePath, echo.WrapHandler(auth.Middleware(me)))
			return e
		},
	}
	for name, mount := range routers {
		t.Run(name, func(t *testing.T) {
			webtest.Run(t, webtest.MemoryBackend, func(t *testing.T, env webtest.Env) http.Handler {
				auth, err := httpauth.New(httpauth.Config[webtest.User]{Service: env.Service, TrustedProxies: env.TrustedProxies, DPoP: env.DPoP.Validator, DPoPRequired: env.DPoP.Required})
				require.NoError(t, err)
				return mount(auth, loginHandler(auth), meHandler)
			})
		})
	}
}

// Unknown paths and methods under each mount get JSON 404 and 405.
func TestRoutersUnknownRoutes(t *testing.T) {
	svc := webtest.NewService(t)
	auth, err := httpauth.New(httpauth.Config[webtest.User]{Service: svc})
	require.NoError(t, err)
	c := chi.NewRouter()
	c.Mount("/api/auth", auth.Handler())
	g := mux.NewRouter()
	g.PathPrefix("/api/auth/").Handler(http.StripPrefix("/api/auth", auth.Handler()))
	for name, h := range map[string]http.Handler{"chi": c, "gorilla": g, "bare": auth.Handler()} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			for _, tt := range []struct {
				method, path string
				status       int
				code, allow  string
			}{
				{http.MethodGet, "/api/auth/sessions", http.StatusUnauthorized, "invalid_token", ""},
				{http.MethodGet, "/api/auth/nope", http.StatusNotFound, "not_found", ""},
				{http.MethodGet, "/api/auth/logout/", http.StatusNotFound, "not_found", ""},
				{http.MethodGet, "/api/auth/refresh", http.StatusMethodNotAllowed, "invalid_request", "POST"},
				{http.MethodPost, "/api/auth/sessions/x", http.StatusMethodNotAllowed, "invalid_request", "DELETE"},
				{http.MethodPost, "/api/auth/sessions/logout", http.StatusMethodNotAllowed, "invalid_request", "DELETE"},
				{http.MethodPost, "/api/auth/browser/logout", http.StatusNotFound, "not_found", ""},
				{http.MethodPost, "/api/auth/browser/logout/all", http.StatusNotFound, "not_found", ""},
			} {
				req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
				require.NoError(t, err)
				res, err := srv.Client().Do(req)
				require.NoError(t, err)
				var body map[string]string
				require.NoError(t, json.NewDecoder(res.Body).Decode(&body), "%s %s", tt.method, tt.path)
				_ = res.Body.Close()
				assert.Equal(t, tt.status, res.StatusCode, "%s %s", tt.method, tt.path)
				assert.Equal(t, tt.code, body["error"], "%s %s", tt.method, tt.path)
				assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
				assert.Equal(t, tt.allow, res.Header.Get("Allow"), "%s %s", tt.method, tt.path)
			}
		})
	}
}
