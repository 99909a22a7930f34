package httpauth

import (
	"net/http"

	"github.com/jwtauth/jwtauth/adapters/internal/web"
	"github.com/jwtauth/jwtauth/app"
)

// BrowserHandler returns the browser group, with its full paths under
// /auth/browser (the refresh cookie's path, so it cannot move): mount it
// with mux.Handle("/auth/browser/", auth.BrowserHandler(login)), beside
// Handler's Bearer group. Its tokens live in HttpOnly cookies and its
// bodies never carry one:
//
//	POST /auth/browser/login         login, which ends with Login      → 200 {"token_type":"cookie","expires_in","refresh_expires_in","session_id"}, cookies set
//	POST /auth/browser/refresh       jwtauth_refresh cookie            → 200 {"expires_in"}, access (and rotated refresh) cookie renewed
//	POST /auth/browser/logout        jwtauth_access cookie (or Bearer) → 204, this session ended, token cookies deleted
//	POST /auth/browser/logout/others                                   → 204, every other session ended
//	POST /auth/browser/logout/all                                      → 204, every session ended, token cookies deleted
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
// 403 cross_origin. Like Handler's, the routes are matched by the last
// path segments, so the group works under every router:
//
//	chi:           r.Mount("/auth/browser", auth.BrowserHandler(login))
//	gorilla/mux:   r.PathPrefix("/auth/browser/").Handler(http.StripPrefix("/auth/browser", auth.BrowserHandler(login)))
//	http.ServeMux: mux.Handle("/auth/browser/", auth.BrowserHandler(login))
//	Echo:          e.Group("/auth/browser").Any("/*", echo.WrapHandler(auth.BrowserHandler(login)))
//
// Unknown paths get a JSON 404 not_found, a known path with another
// method a JSON 405 invalid_request.
func (a *Auth[U]) BrowserHandler(login http.Handler) http.Handler {
	// Routes are matched by the request path's last segments, as in
	// Handler, so the group works wherever a router mounts it.
	return a.checkOrigin(true, router{fail: a.Error, routes: []route{
		{http.MethodPost, []string{"logout", "others"}, plain(a.private(a.h.LogoutOthers).ServeHTTP)},
		{http.MethodPost, []string{"logout", "all"}, plain(a.private(func(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
			return a.h.BrowserLogoutAll(w, r, a.b, p)
		}).ServeHTTP)},
		{http.MethodPost, []string{"login"}, plain(func(w http.ResponseWriter, r *http.Request) {
			login.ServeHTTP(w, r.WithContext(web.WithBrowserLogin(r.Context())))
		})},
		{http.MethodPost, []string{"refresh"}, plain(func(w http.ResponseWriter, r *http.Request) {
			if err := a.h.BrowserRefresh(w, r, a.b); err != nil {
				a.Error(w, r, err)
			}
		})},
		{http.MethodPost, []string{"logout"}, plain(a.private(func(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
			return a.h.BrowserLogout(w, r, a.b, p)
		}).ServeHTTP)},
	}})
}

// CrossOrigin refuses, with 403 cross_origin, an unsafe request (POST,
// PUT, PATCH, DELETE) that carries a jwtauth cookie and comes from another
// origin than the request's own or one of Config.AllowedOrigins, using
// Go's http.CrossOriginProtection (Sec-Fetch-Site, else Origin against
// Host); other requests go to next. Middleware and the routes of Handler
// and BrowserHandler already check; wrap the application's own
// cookie-carrying routes outside Middleware with it.
func (a *Auth[U]) CrossOrigin(next http.Handler) http.Handler { return a.checkOrigin(false, next) }

// checkOrigin is CrossOrigin, checking every request when always is true.
func (a *Auth[U]) checkOrigin(always bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.b.CheckOrigin(r, always); err != nil {
			a.Error(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}
