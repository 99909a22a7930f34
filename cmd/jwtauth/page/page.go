// Package page is the reference server's account page: one HTML page, a
// stylesheet and one script, embedded in the binary (no build step, no
// framework). The page signs in through the browser route group, lists the
// user's devices and offers the three logouts and per-device revocation.
package page

import (
	"embed"
	"net/http"
)

//go:embed assets
var assets embed.FS

// CSP is the Content-Security-Policy of every page response: scripts and
// styles from this origin only, no inline script, no plugins, no framing.
const CSP = "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"

// Paths are the paths Handler serves: mount exactly these (GET), so that
// other paths get the server's own 404.
var Paths = []string{"/", "/assets/app.css", "/assets/app.js"}

// Handler serves GET / (the page) and GET /assets/{app.css,app.js}; any
// other path is 404. Every response carries CSP, nosniff and no-referrer.
func Handler() http.Handler {
	mux := http.NewServeMux()
	for pattern, asset := range map[string]struct{ name, ctype string }{
		"GET /{$}":            {"assets/index.html", "text/html; charset=utf-8"},
		"GET /assets/app.css": {"assets/app.css", "text/css; charset=utf-8"},
		"GET /assets/app.js":  {"assets/app.js", "text/javascript; charset=utf-8"},
	} {
		b, err := assets.ReadFile(asset.name)
		if err != nil {
			panic("page: " + err.Error()) // the names are embedded: cannot happen
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			h.Set("Content-Type", asset.ctype)
			h.Set("Content-Security-Policy", CSP)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cache-Control", "no-cache")
			_, _ = w.Write(b)
		})
	}
	return mux
}
