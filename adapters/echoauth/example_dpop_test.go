package echoauth_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
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
	"github.com/jwtauth/jwtauth/dpop"
	"github.com/jwtauth/jwtauth/ports"
)

// Example_dpop turns on sender-constrained tokens (RFC 9449): a client
// that logs in with a DPoP proof, here made by dpop.Transport, gets tokens
// bound to its key, which work only with a fresh proof by that key.
func Example_dpop() {
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
	proofs, err := dpop.New(dpop.Config{}) // ES256 and EdDSA proofs, 60 s window
	if err != nil {
		panic(err)
	}
	auth, err := echoauth.New(echoauth.Config[Account]{Service: svc, DPoP: proofs})
	if err != nil {
		panic(err)
	}
	e := echo.New()
	e.POST("/auth/login", func(c echo.Context) error {
		return auth.Login(c, "user-alice", Account{Name: "alice"}) // after your password check
	})
	e.GET("/me", func(c echo.Context) error {
		p, _ := echoauth.Principal[Account](c)
		return c.String(http.StatusOK, p.User.Name+", key "+p.Claims.JKT[:8]+"…")
	}, auth.Middleware())
	srv := httptest.NewServer(e)
	defer srv.Close()

	// The client's key never leaves it; the Transport signs every request.
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tr, _ := dpop.NewTransport(clientKey, nil)
	client := &http.Client{Transport: tr}
	res, err := client.Post(srv.URL+"/auth/login", "application/json", strings.NewReader(`{}`))
	if err != nil {
		panic(err)
	}
	var login struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	_ = json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	fmt.Println("login:", res.StatusCode, login.TokenType)

	call := func(c *http.Client, scheme string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/me", nil)
		req.Header.Set("Authorization", scheme+" "+login.AccessToken)
		res, err := c.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		ok := strings.HasPrefix(body.String(), "alice, key "+tr.JKT()[:8])
		fmt.Println(strings.TrimSpace(fmt.Sprintln(scheme, res.StatusCode, ok, res.Header.Get("WWW-Authenticate"))))
	}
	call(client, "DPoP")               // the key holder
	call(http.DefaultClient, "Bearer") // a thief with the token alone

	// Output:
	// login: 200 DPoP
	// DPoP 200 true
	// Bearer 401 false DPoP error="invalid_dpop_proof", error_description="the token is bound to another DPoP key or to none", algs="ES256 EdDSA"
}
