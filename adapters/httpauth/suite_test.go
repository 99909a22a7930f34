package httpauth_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/httpauth"
	"github.com/jwtauth/jwtauth/adapters/internal/web/webtest"
)

func TestContract(t *testing.T) {
	webtest.Run(t, webtest.MemoryBackend, driver)
}

// driver embeds httpauth in a standard library ServeMux the way the
// package doc shows.
func driver(t *testing.T, env webtest.Env) http.Handler {
	auth, err := httpauth.New(httpauth.Config[webtest.User]{Service: env.Service, TrustedProxies: env.TrustedProxies,
		DPoP: env.DPoP.Validator, DPoPRequired: env.DPoP.Required})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", auth.Handler()))
	login := loginHandler(auth)
	mux.Handle("POST "+webtest.LoginPath, login)
	// The browser group beside it, with the same login handler.
	mux.Handle("/auth/browser/", auth.BrowserHandler(login))
	mux.Handle("GET "+webtest.MePath, auth.Middleware(http.HandlerFunc(meHandler)))
	return mux
}

// loginHandler is the application's login handler of the contract suite.
func loginHandler(auth *httpauth.Auth[webtest.User]) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req webtest.LoginRequest
		if err := httpauth.DecodeJSON(w, r, &req); err != nil {
			auth.Error(w, r, err)
			return
		}
		id, user, err := webtest.CheckLogin(req)
		if err != nil {
			auth.Error(w, r, err)
			return
		}
		auth.Login(w, r, id, user)
	}
}

// meHandler is the application's protected route of the contract suite.
func meHandler(w http.ResponseWriter, r *http.Request) {
	p, ok := httpauth.FromContext[webtest.User](r.Context())
	if !ok {
		w.WriteHeader(http.StatusInternalServerError) // fails the suite
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(webtest.NewMe(p, true))
}
