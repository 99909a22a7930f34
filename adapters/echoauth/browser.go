package echoauth

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/jwtauth/jwtauth/adapters/internal/web"
	"github.com/jwtauth/jwtauth/app"
)

// MountBrowser registers the browser group on e, under /auth/browser (the
// refresh cookie's path, so it cannot move), beside the Bearer group of
// Mount. Its tokens live in HttpOnly cookies and its bodies never carry
// one:
//
//	POST /auth/browser/login         login(c), which ends with Login      → 200 {"token_type":"cookie","expires_in","refresh_expires_in","session_id"}, cookies set
//	POST /auth/browser/refresh       jwtauth_refresh cookie               → 200 {"expires_in"}, access (and rotated refresh) cookie renewed
//	POST /auth/browser/logout        jwtauth_access cookie (or Bearer)    → 204, this session ended, token cookies deleted
//	POST /auth/browser/logout/others                                      → 204, every other session ended
//	POST /auth/browser/logout/all                                         → 204, every session ended, token cookies deleted
//
// Cookies (all HttpOnly; SameSite per Config.CookieSameSite; Secure unless
// Config.CookieInsecure): jwtauth_access (Path=/, Max-Age = access TTL),
// jwtauth_refresh (Path=/auth/browser, Max-Age = refresh TTL) and
// jwtauth_device (Path=/, 400 days: a random id set at the first login,
// the device id of requests without a device header).
//
// login is the application's own login handler (the same one it may use
// for the Bearer group): it checks the credentials and calls Login, which
// here sets the cookies. Every request of the group must pass the
// cross-origin check (see CrossOrigin) before anything else runs: else
// 403 cross_origin.
func (a *Auth[U]) MountBrowser(e *echo.Echo, login echo.HandlerFunc) {
	// Route middleware runs first to last: the origin check, then auth.
	check, auth := a.checkOrigin(true), a.Middleware()
	g := e.Group(web.BrowserPath)
	g.POST("/login", func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(web.WithBrowserLogin(r.Context())))
		return login(c)
	}, check)
	g.POST("/refresh", func(c echo.Context) error {
		if err := a.h.BrowserRefresh(c.Response(), c.Request(), a.b); err != nil {
			return a.Error(c, err)
		}
		return nil
	}, check)
	g.POST("/logout", a.private(func(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
		return a.h.BrowserLogout(w, r, a.b, p)
	}), check, auth)
	g.POST("/logout/others", a.private(a.h.LogoutOthers), check, auth)
	g.POST("/logout/all", a.private(func(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
		return a.h.BrowserLogoutAll(w, r, a.b, p)
	}), check, auth)
}

// CrossOrigin returns middleware that refuses, with 403 cross_origin, an
// unsafe request (POST, PUT, PATCH, DELETE) that carries a jwtauth cookie
// and comes from another origin than the request's own or one of
// Config.AllowedOrigins, using Go's http.CrossOriginProtection
// (Sec-Fetch-Site, else Origin against Host). Middleware and the routes
// of Mount and MountBrowser already check; use it for the application's
// own cookie-carrying routes outside Middleware (e.g. e.Use).
func (a *Auth[U]) CrossOrigin() echo.MiddlewareFunc { return a.checkOrigin(false) }

// checkOrigin is CrossOrigin, checking every request when always is true.
func (a *Auth[U]) checkOrigin(always bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := a.b.CheckOrigin(c.Request(), always); err != nil {
				return a.Error(c, err)
			}
			return next(c)
		}
	}
}
