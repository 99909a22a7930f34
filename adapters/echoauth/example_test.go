package echoauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/jwtauth/jwtauth/adapters/echoauth"
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

// Example embeds the adapter in an Echo application: the application's
// own login route checks the password and calls Login, Mount adds the
// other auth routes, and Middleware protects the application's routes.
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

	auth, err := echoauth.New(echoauth.Config[Account]{Service: svc})
	if err != nil {
		panic(err)
	}
	e := echo.New()
	g := e.Group("/auth")
	auth.Mount(g)
	g.POST("/login", func(c echo.Context) error {
		var body struct{ Username, Password string }
		if err := echoauth.DecodeJSON(c, &body); err != nil {
			return auth.Error(c, err)
		}
		if body.Username != "alice" || body.Password != "secret" { // your check
			return auth.Error(c, domain.ErrInvalidCredentials)
		}
		return auth.Login(c, "user-alice", Account{Name: "alice"})
	})
	e.GET("/me", func(c echo.Context) error {
		p, _ := echoauth.Principal[Account](c)
		return c.JSON(http.StatusOK, map[string]string{"id": p.UserID, "username": p.User.Name})
	}, auth.Middleware())

	srv := httptest.NewServer(e)
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
