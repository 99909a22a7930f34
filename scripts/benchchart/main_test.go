package main

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/vg"
)

const sample = `goos: linux
pkg: github.com/jwtauth/jwtauth/internal/benchmarks
BenchmarkBaselineParseWithClaims-2   	  155185	      8000 ns/op	  51.86 MB/s	    3856 B/op	      61 allocs/op
BenchmarkBaselineParseWithClaims-2   	  155185	      9000 ns/op	  51.86 MB/s	    3856 B/op	      61 allocs/op
BenchmarkAuthenticateBigcache-2      	  186813	      4000 ns/op	 109.92 MB/s	    3448 B/op	      35 allocs/op
BenchmarkAuthenticatePostgresCached-2     	  224389	      5000 ns/op	 141.43 MB/s	    3448 B/op	      35 allocs/op
BenchmarkAuthenticatePostgresUncached-2   	    6578	    150000 ns/op	   3.78 MB/s	    5992 B/op	      92 allocs/op
--- BENCH: BenchmarkAuthenticateUncachedScale/users=1000-2
    big_test.go:46: loaded 1000 users in 23ms
BenchmarkLoginPostgres/callers=8-2        	    6201	    405226 ns/op	      2468 logins/s	   26799 B/op	     343 allocs/op
`

func TestParseAndTable(t *testing.T) {
	r, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	v, ok := r.median(keyBaseline, "ns/op")
	require.True(t, ok)
	assert.Equal(t, 8500.0, v, "the median of an even number of samples")
	v, _ = r.median(keyLogin8, "logins/s")
	assert.Equal(t, 2468.0, v)

	var b strings.Builder
	require.NoError(t, writeTable(&b, r))
	assert.Contains(t, b.String(), "| **2.12×** | ≥ 1×, fewer allocs | yes |")
	assert.Contains(t, b.String(), "| **30.00×** | ≥ 20× | yes |")
	assert.Contains(t, b.String(), "2,468 logins/s")
	assert.NotContains(t, b.String(), "UserLoader", "comparisons without data are left out")
}

func TestChart(t *testing.T) {
	r, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, writeChart(&b, r))
	img, err := png.Decode(&b)
	require.NoError(t, err)
	assert.Equal(t, int(width/vg.Inch*dpi), img.Bounds().Dx())

	_, err = parse(strings.NewReader("nothing"))
	require.NoError(t, err)
	assert.Error(t, writeChart(&b, results{}), "nothing to draw")
}
