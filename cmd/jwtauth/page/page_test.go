package page

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestPageHeadersAndElements(t *testing.T) {
	for path, ctype := range map[string]string{"/": "text/html", "/assets/app.css": "text/css", "/assets/app.js": "text/javascript"} {
		rec := get(t, path)
		require.Equal(t, http.StatusOK, rec.Code, path)
		assert.Contains(t, rec.Header().Get("Content-Type"), ctype, path)
		assert.Equal(t, "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'", rec.Header().Get("Content-Security-Policy"), path)
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), path)
	}
	html := get(t, "/").Body.String()
	for _, want := range []string{`<form id="login"`, `name="username"`, `name="password"`, `type="submit"`,
		`id="error"`, `id="me"`, `id="sessions"`, `id="logout"`, `id="logout-others"`, `id="logout-all"`} {
		assert.Contains(t, html, want)
	}
	// The CSP forbids inline script and style: the page has none.
	assert.NotRegexp(t, regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), html, "inline script")
	assert.NotRegexp(t, regexp.MustCompile(`\sstyle=|<style|\son[a-z]+=`), html, "inline style or handler")
	assert.Equal(t, 1, len(regexp.MustCompile(`<script `).FindAllString(html, -1)), "one script")
	// The script never touches document.cookie or innerHTML.
	js := get(t, "/assets/app.js").Body.String()
	assert.NotContains(t, js, "document.cookie")
	assert.NotContains(t, js, "innerHTML")
	assert.Equal(t, http.StatusNotFound, get(t, "/assets/index.html").Code)
}
