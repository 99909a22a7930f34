package httpauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/jwtauth/jwtauth/adapters/httpauth"
	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// Account is the application's user claims.
type Account struct {
	Name string `json:"name"`
}

// Example embeds the adapter in a standard library ServeMux: the auth
// routes under /auth/ with http.StripPrefix, the application's own login
// route calling Login after its password check, and Middleware around the
// application's routes. The same calls work with chi (r.Mount, r.Use) and
// gorilla/mux (PathPrefix(...).Handler, Use).
func Example() {
	// The service: memory store, cache and bus; keys from your config.
	key := bytes.Repeat([]byte{7}, 32)
	codec, _ := jwtcodec.New(jwtcodec.Config{Method: "HS256", Key: key})
	cipher, _ := jwe.New(jwe.Key{ID: "k1", Secret: key})
	bus := &memory.Bus{}
	svc, err := app.New(app.Config{}, app.Deps[Account]{
		Store: memory.NewStore(bus), Codec: codec, Cipher: cipher, Cache: &memory.Cache{}, Bus: bus,
		Users: ports.UserLoaderFunc[Account](func(_ context.Context, id string) (Account, error) {
			return Account{Name: strings.TrimPrefix(id, "user-")}, nil
		}),
	})
	if err != nil {
		panic(err)
	}

	auth, err := httpauth.New(httpauth.Config[Account]{Service: svc})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", auth.Handler()))
	mux.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Username, Password string }
		if err := httpauth.DecodeJSON(w, r, &body); err != nil {
			auth.Error(w, r, err)
			return
		}
		if body.Username != "alice" || body.Password != "secret" { // your check
			auth.Error(w, r, domain.ErrInvalidCredentials)
			return
		}
		auth.Login(w, r, "user-alice", Account{Name: "alice"})
	})
	mux.Handle("GET /me", auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := httpauth.FromContext[Account](r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"id": p.UserID, "username": p.User.Name})
	})))

	srv := httptest.NewServer(mux)
	defer srv.Close()

	// A client logs in, calls /me, logs out and tries again.
	res, _ := http.Post(srv.URL+"/auth/login", "application/json", strings.NewReader(`{"username":"alice","password":"secret"}`))
	var login struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	_ = json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	fmt.Println("login:", res.StatusCode, login.TokenType, login.ExpiresIn)

	call := func(method, path string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+login.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %s: %d %s", method, path, res.StatusCode, body.String())))
	}
	call(http.MethodGet, "/me")
	call(http.MethodPost, "/auth/logout")
	call(http.MethodGet, "/me")

	// Output:
	// login: 200 Bearer 600
	// GET /me: 200 {"id":"user-alice","username":"alice"}
	// POST /auth/logout: 204
	// GET /me: 401 {"error":"token_revoked","error_description":"the token has been revoked"}
}

// StatusOf gives a custom ErrorHandler the status and code of the shared
// error table; errors.Is tells the sentinels apart.
func ExampleStatusOf() {
	for _, err := range []error{
		fmt.Errorf("refresh: %w", domain.ErrExpired),
		domain.ErrMissingToken,
		httpauth.ErrBodyTooLarge,
		errors.New("database exploded"),
	} {
		status, code := httpauth.StatusOf(err)
		fmt.Println(status, code, errors.Is(err, domain.ErrMissingToken))
	}
	// Output:
	// 401 token_expired false
	// 401 invalid_token true
	// 413 invalid_request false
	// 503 unavailable false
}
