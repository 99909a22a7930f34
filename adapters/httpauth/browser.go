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
// 403 cross_origin. Unknown paths and methods get http.ServeMux's plain
// 404 and 405.
func (a *Auth[U]) BrowserHandler(login http.Handler) http.Handler {
	p := web.BrowserPath
	mux := http.NewServeMux()
	mux.Handle("POST "+p+"/login", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		login.ServeHTTP(w, r.WithContext(web.WithBrowserLogin(r.Context())))
	}))
	mux.HandleFunc("POST "+p+"/refresh", func(w http.ResponseWriter, r *http.Request) {
		if err := a.h.BrowserRefresh(w, r, a.b); err != nil {
			a.Error(w, r, err)
		}
	})
	mux.Handle("POST "+p+"/logout", a.private(func(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
		return a.h.BrowserLogout(w, r, a.b, p)
	}))
	mux.Handle("POST "+p+"/logout/others", a.private(a.h.LogoutOthers))
	mux.Handle("POST "+p+"/logout/all", a.private(func(w http.ResponseWriter, r *http.Request, p app.Principal[U]) error {
		return a.h.BrowserLogoutAll(w, r, a.b, p)
	}))
	return a.checkOrigin(true, mux)
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
