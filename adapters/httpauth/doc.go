// Package httpauth is jwtauth's net/http adapter: a
// func(http.Handler) http.Handler middleware that authenticates encrypted,
// device-bound bearer access tokens, an http.Handler serving the auth
// routes of the reference HTTP contract (refresh, verify, logout, logout
// all, logout others, list and revoke sessions), and a Login helper for
// the application's own login handler. It works with the standard
// library's ServeMux, chi and gorilla/mux alike.
//
// Embedding, in short:
//
//	auth, err := httpauth.New(httpauth.Config[User]{Service: svc})
//	mux := http.NewServeMux()
//	mux.Handle("/auth/", auth.Handler())
//	mux.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
//		// decode with httpauth.DecodeJSON, check the password, then:
//		auth.Login(w, r, userID, user)
//	})
//	mux.Handle("GET /me", auth.Middleware(me))
//	// in me: p, ok := httpauth.FromContext[User](r.Context())
//
// Handler matches its routes by the last segments of the request path, so
// it can be mounted at any prefix by any router, stripped or not:
//
//	chi:           r.Mount("/auth", auth.Handler())
//	gorilla/mux:   r.PathPrefix("/auth/").Handler(http.StripPrefix("/auth", auth.Handler()))
//	http.ServeMux: mux.Handle("/auth/", auth.Handler())
//	Echo group:    e.Group("/auth").Any("/*", echo.WrapHandler(auth.Handler()))
//
// Browser apps mount the browser group beside it, with the same login
// handler (see docs/browser.md):
//
//	mux.Handle("/auth/browser/", auth.BrowserHandler(login)) // tokens in HttpOnly cookies
//
// It matches its routes by path tail too, so every router above can mount
// it at /auth/browser (see BrowserHandler).
//
// The middleware then also takes the access token from the jwtauth_access
// cookie when a request has no Authorization header, and refuses (403
// cross_origin) a cross-origin unsafe request that carries a jwtauth
// cookie, with Go's http.CrossOriginProtection.
//
// The client the tokens are bound to is the TCP peer, or, behind proxies
// listed in Config.TrustedProxies only, the X-Forwarded-For address left of
// them; the device is the X-Device-ID header, else the jwtauth_device
// cookie a browser login sets, else a hash of the User-Agent.
//
// Errors are answered as {"error":"<code>","error_description":"<text>"}
// through one table shared with the Echo adapter: invalid_token,
// token_expired, token_revoked, wrong_token_type, client_mismatch,
// refresh_reused, invalid_credentials (401, with WWW-Authenticate),
// device_limit_reached and cross_origin (403), not_found (404, also for unknown routes),
// invalid_request (400; 405 for a route's path with another method; 413
// for a body over 64 KiB), unsupported_media_type (415: the JSON
// endpoints take application/json only) and unavailable (503, with Retry-After; also every unexpected
// error: the adapter fails closed and never answers 500). A request
// without a token is domain.ErrMissingToken. A custom Config.ErrorHandler
// gets the error itself (match it with errors.Is), StatusOf gives its
// status and code, and WriteError writes the default answer.
package httpauth
