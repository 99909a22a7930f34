package main

import (
	"fmt"
	"io"
	"strings"
)

// Benchmark keys, as parse names them.
const (
	keyBaseline     = "internal/benchmarks/BenchmarkBaselineParseWithClaims"
	keyBigcache     = "internal/benchmarks/BenchmarkAuthenticateBigcache"
	keyFloor        = "internal/benchmarks/BenchmarkFloor"
	keyFirstUse     = "internal/benchmarks/BenchmarkAuthenticateFirstUse"
	keyAppBaseline  = "app/BenchmarkBaselineParseWithClaims"
	keyAppAuth      = "app/BenchmarkAuthenticate"
	keyCached       = "internal/benchmarks/BenchmarkAuthenticatePostgresCached"
	keyUncached     = "internal/benchmarks/BenchmarkAuthenticatePostgresUncached"
	keyFromToken    = "internal/benchmarks/BenchmarkAuthenticateUserFromToken"
	keyLoader       = "internal/benchmarks/BenchmarkAuthenticateUserLoaderPostgres"
	keyLogin1       = "internal/benchmarks/BenchmarkLoginPostgres/callers=1"
	keyLogin8       = "internal/benchmarks/BenchmarkLoginPostgres/callers=8"
	keyLogin8OneUse = "internal/benchmarks/BenchmarkLoginPostgres/callers=8,user=1"
	keyScaleSmall   = "internal/benchmarks/BenchmarkAuthenticateUncachedScale/users=1000"
	keyScaleBig     = "internal/benchmarks/BenchmarkAuthenticateUncachedScale/users=1000000"
)

// writeTable prints the markdown ratio table of the comparisons whose
// benchmarks are in r.
func writeTable(w io.Writer, r results) error {
	var b strings.Builder
	b.WriteString("| comparison | baseline | candidate | ratio | target | met |\n")
	b.WriteString("|---|---:|---:|---:|---|:---:|\n")
	row := func(name, base, cand, ratio, target, met string) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", name, base, cand, ratio, target, met)
	}
	// speedup compares two ns/op figures: ratio = baseline / candidate.
	speedup := func(name, base, cand string, target float64, allocs bool) {
		bn, ok1 := r.median(base, "ns/op")
		cn, ok2 := r.median(cand, "ns/op")
		if !ok1 || !ok2 {
			return
		}
		ba, _ := r.median(base, "allocs/op")
		ca, _ := r.median(cand, "allocs/op")
		ratio := bn / cn
		met := ratio >= target
		tgt := fmt.Sprintf("≥ %s×", trim(target))
		if allocs {
			met = met && ca < ba
			tgt += ", fewer allocs"
		}
		row(name, timeAllocs(bn, ba), timeAllocs(cn, ca), fmt.Sprintf("**%.2f×**", ratio), tgt, yes(met))
	}
	speedup("Authenticate (JWE, warm bigcache, user from token) vs golang-jwt ParseWithClaims HS256", keyBaseline, keyBigcache, 1, true)
	speedup("Authenticate with the token memo off (every call decrypts, verifies, decodes) vs ParseWithClaims", keyBaseline, keyFirstUse, 1, true)
	speedup("Authenticate (memory store and cache, app package) vs ParseWithClaims", keyAppBaseline, keyAppAuth, 1, true)
	floor := func(name, key string) {
		fn, ok1 := r.median(keyFloor, "ns/op")
		cn, ok2 := r.median(key, "ns/op")
		if !ok1 || !ok2 {
			return
		}
		fa, _ := r.median(keyFloor, "allocs/op")
		ca, _ := r.median(key, "allocs/op")
		row(name, timeAllocs(fn, fa), timeAllocs(cn, ca), fmt.Sprintf("**%.2f×** the floor", cn/fn),
			"≤ 2× the floor, ≤ 10 allocs", yes(cn/fn <= 2 && ca <= 10))
	}
	floor("Authenticate, token presented again (the token memo's hit), vs the floor measured in the same run (BenchmarkFloor: base64url, AES-256-GCM open, HMAC-SHA256)", keyBigcache)
	floor("Authenticate, token memo off (every call decrypts, verifies and decodes: a token's first use) vs the same floor", keyFirstUse)
	speedup("Cache on vs off: Authenticate on PostgreSQL, warm bigcache vs every call reading PostgreSQL", keyUncached, keyCached, 20, false)
	speedup("User from token vs a UserLoader reading a users table in PostgreSQL (sqlx)", keyLoader, keyFromToken, 20, false)
	login := func(name, key string, target float64) {
		v, ok := r.median(key, "logins/s")
		if !ok {
			return
		}
		tgt, met := "(reported)", "—"
		if target > 0 {
			tgt, met = fmt.Sprintf("≥ %s logins/s", thousands(target)), yes(v >= target)
		}
		row(name, "", thousands(v)+" logins/s", "", tgt, met)
	}
	login("Login on PostgreSQL, 1 caller", keyLogin1, 0)
	login("Login on PostgreSQL, 8 callers, different users", keyLogin8, 1500)
	login("Login on PostgreSQL, 8 callers, one user (serializes)", keyLogin8OneUse, 0)
	if one, ok1 := r.median(keyLogin1, "logins/s"); ok1 {
		if eight, ok2 := r.median(keyLogin8, "logins/s"); ok2 {
			row("Login scaling: 8 callers on different users vs 1 caller", thousands(one)+"/s", thousands(eight)+"/s",
				fmt.Sprintf("**%.2f×**", eight/one), "> 1× (users do not serialize)", yes(eight > one))
		}
	}
	if small, ok1 := r.median(keyScaleSmall, "ns/op"); ok1 {
		if bigger, ok2 := r.median(keyScaleBig, "ns/op"); ok2 {
			row("Uncached Authenticate: 1,000,000 users (2M generations, 1M sessions) vs 1,000 users",
				duration(small), duration(bigger), fmt.Sprintf("**%.2f×** the cost", bigger/small), "≤ 1.3× the cost", yes(bigger/small <= 1.3))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// duration formats nanoseconds for a reader.
func duration(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 100e3:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func timeAllocs(ns, allocs float64) string {
	return fmt.Sprintf("%s, %.0f allocs", duration(ns), allocs)
}

// thousands formats v rounded, with thousands separators.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// trim formats a target without useless decimals.
func trim(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
