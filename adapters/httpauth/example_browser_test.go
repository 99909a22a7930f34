package httpauth_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"

	"github.com/jwtauth/jwtauth/adapters/httpauth"
	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

var sessionID = regexp.MustCompile(`"session_id":"[^"]*"`)

// ExampleAuth_BrowserHandler mounts the browser group beside the Bearer
// group, with one login handler for both: from the browser group, Login
// sets HttpOnly cookies and the body carries no token.
func ExampleAuth_BrowserHandler() {
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
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	mux := http.NewServeMux()
	mux.Handle("/auth/", http.StripPrefix("/auth", auth.Handler()))
	mux.Handle("POST /auth/login", login)
	mux.Handle("/auth/browser/", auth.BrowserHandler(login))
	srv := httptest.NewServer(mux)
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
