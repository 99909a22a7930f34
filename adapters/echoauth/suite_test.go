package echoauth_test

import (
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/echoauth"
	"github.com/jwtauth/jwtauth/adapters/internal/web/webtest"
)

func TestContract(t *testing.T) {
	webtest.Run(t, webtest.MemoryBackend, driver)
}

// driver embeds echoauth in an Echo application the way the package doc
// shows.
func driver(t *testing.T, env webtest.Env) http.Handler {
	auth, err := echoauth.New(echoauth.Config[webtest.User]{Service: env.Service, TrustedProxies: env.TrustedProxies,
		DPoP: env.DPoP.Validator, DPoPRequired: env.DPoP.Required})
	require.NoError(t, err)
	e := echo.New()
	g := e.Group("/auth")
	auth.Mount(g)
	login := func(c echo.Context) error {
		var req webtest.LoginRequest
		if err := echoauth.DecodeJSON(c, &req); err != nil {
			return auth.Error(c, err)
		}
		id, user, err := webtest.CheckLogin(req)
		if err != nil {
			return auth.Error(c, err)
		}
		return auth.Login(c, id, user)
	}
	g.POST("/login", login)
	// The browser group beside it, with the same login handler.
	auth.MountBrowser(e, login)
	e.GET(webtest.MePath, func(c echo.Context) error {
		p, ok := echoauth.Principal[webtest.User](c)
		if !ok {
			return c.NoContent(http.StatusInternalServerError) // fails the suite
		}
		fromCtx, inCtx := echoauth.FromContext[webtest.User](c.Request().Context())
		return c.JSON(http.StatusOK, webtest.NewMe(p, inCtx && fromCtx.SessionID == p.SessionID))
	}, auth.Middleware())
	return e
}
