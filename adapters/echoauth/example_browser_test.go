package echoauth_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
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

var sessionID = regexp.MustCompile(`"session_id":"[^"]*"`)

// ExampleAuth_MountBrowser mounts the browser group beside the Bearer
// group, with one login handler for both: from the browser group, Login
// sets HttpOnly cookies and the body carries no token.
func ExampleAuth_MountBrowser() {
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
	login := func(c echo.Context) error {
		var body struct{ Username, Password string }
		if err := echoauth.DecodeJSON(c, &body); err != nil {
			return auth.Error(c, err)
		}
		if body.Username != "alice" || body.Password != "secret" { // your check
			return auth.Error(c, domain.ErrInvalidCredentials)
		}
		return auth.Login(c, "user-alice", Account{Name: "alice"})
	}
	e := echo.New()
	g := e.Group("/auth")
	auth.Mount(g)
	g.POST("/login", login)
	auth.MountBrowser(e, login)
	srv := httptest.NewServer(e)
	defer srv.Close()

	post := func(path, origin string, cookies []*http.Cookie) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(`{"username":"alice","password":"secret"}`))
		req.Header.Set("Content-Type", "application/json")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		var body bytes.Buffer
		_, _ = body.ReadFrom(res.Body)
		res.Body.Close()
		out := sessionID.ReplaceAllString(strings.TrimSpace(body.String()), `"session_id":"…"`)
		fmt.Printf("%s: %d %s\n", path, res.StatusCode, out)
		return res
	}
	res := post("/auth/browser/login", "", nil)
	for _, c := range res.Cookies() {
		fmt.Println("cookie:", c.Name, "path", c.Path, "HttpOnly", c.HttpOnly)
	}
	post("/auth/browser/logout", "https://evil.example", res.Cookies())
	post("/auth/browser/logout", "", res.Cookies())

	// Output:
	// /auth/browser/login: 200 {"token_type":"cookie","expires_in":600,"refresh_expires_in":2592000,"session_id":"…"}
	// cookie: jwtauth_device path / HttpOnly true
	// cookie: jwtauth_access path / HttpOnly true
	// cookie: jwtauth_refresh path /auth/browser HttpOnly true
	// /auth/browser/logout: 403 {"error":"cross_origin","error_description":"cross-origin requests are refused"}
	// /auth/browser/logout: 204
}
