// Package echoauth is jwtauth's Echo v4 adapter: a middleware that
// authenticates encrypted, device-bound bearer access tokens, the auth
// routes of the reference HTTP contract (refresh, verify, logout, logout
// all, logout others, list and revoke sessions), and a Login helper for the
// application's own login handler.
//
// Embedding, in short:
//
//	auth, err := echoauth.New(echoauth.Config[User]{Service: svc})
//	g := e.Group("/auth")
//	auth.Mount(g)
//	g.POST("/login", func(c echo.Context) error {
//		// decode with echoauth.DecodeJSON, check the password, then:
//		return auth.Login(c, userID, user)
//	})
//	e.GET("/me", me, auth.Middleware())
//	// in me: p, ok := echoauth.Principal[User](c)
//
// Browser apps mount the browser group beside it, with the same login
// handler (see docs/browser.md):
//
//	auth.MountBrowser(e, login) // /auth/browser/*, tokens in HttpOnly cookies
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
// Echo's IPExtractor is deliberately not used.
//
// Errors are answered as {"error":"<code>","error_description":"<text>"}
// through one table shared with the net/http adapter: invalid_token,
// token_expired, token_revoked, wrong_token_type, client_mismatch,
// refresh_reused, invalid_credentials (401, with WWW-Authenticate),
// device_limit_reached and cross_origin (403), not_found (404), invalid_request (400; 413
// for a body over 64 KiB), unsupported_media_type (415: the JSON
// endpoints take application/json only) and unavailable (503, with Retry-After; also
// every unexpected error: the adapter fails closed and never answers 500).
// A request without a token is domain.ErrMissingToken. A custom
// Config.ErrorHandler gets the error itself (match it with errors.Is),
// StatusOf gives its status and code, and WriteError writes the default
// answer.
package echoauth
