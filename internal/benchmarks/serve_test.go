package benchmarks

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
)

// benchmarkServe measures e.ServeHTTP of one GET /hello carrying header,
// in process and without a network: the cost of the router, the
// middleware and the handler, which BenchmarkServeBare isolates.
func benchmarkServe(b *testing.B, e *echo.Echo, header http.Header) {
	req := httptest.NewRequest(http.MethodGet, "/hello", nil)
	req.RemoteAddr = loadClient.IP.String() + ":40000"
	req.Header = header
	w := &discardWriter{h: http.Header{}}
	e.ServeHTTP(w, req)
	require.Equal(b, http.StatusOK, w.status)
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, req)
	}
}

// discardWriter is a reusable http.ResponseWriter that keeps only the
// status, so that the benchmarks measure the server side alone.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }

// BenchmarkServeBare is Echo serving the trivial handler with no
// authentication: the ceiling of BenchmarkServeEchoauth.
func BenchmarkServeBare(b *testing.B) {
	e := echo.New()
	e.GET("/hello", func(c echo.Context) error { return c.String(http.StatusOK, alice.Name) })
	benchmarkServe(b, e, http.Header{})
}

// BenchmarkServeEchoauth is the same handler behind the echoauth
// middleware (encrypted token, bigcache warm, user from token), served
// in process: the middleware's cost is its difference from
// BenchmarkServeBare, and Authenticate's share of it is
// BenchmarkAuthenticateBigcache.
func BenchmarkServeEchoauth(b *testing.B) {
	e, header := jwtauthEcho(b)
	benchmarkServe(b, e, header)
}
