package benchmarks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/httpauth"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/dpop"
)

// dpopHost and dpopPath are where the benchmark's requests go; htu is
// http://dpopHost/dpopPath.
const (
	dpopHost = "api.example.com"
	dpopPath = "/v1/me"
)

// BenchmarkMiddlewareDPoP measures one authenticated request through
// httpauth's Middleware (httptest request and recorder, the memory store
// with a warm bigcache, as BenchmarkAuthenticateBigcache), the same
// DPoP-enabled Auth in every case:
//
//   - Bearer: an unbound token, "Authorization: Bearer", no proof;
//   - DPoP-ES256, DPoP-EdDSA: a token bound to the key, "Authorization:
//     DPoP" with a fresh proof per request (htm, htu, iat, jti, ath), all
//     signed before the timer starts;
//   - signature-ES256, signature-EdDSA: golang-jwt's verification of one
//     such proof's signature alone, the floor no validator can skip.
//
// DPoP-x minus Bearer minus signature-x is what the rest of the proof
// check costs (parsing, the key and its thumbprint, htu, ath, the replay
// cache, the longer bound token), and what the signature check loses
// outside a tight loop. interleaved compares the five by CPU time, which
// the machine's other loads disturb much less than wall-clock time.
//
//	go test -run '^$' -bench '^BenchmarkMiddlewareDPoP$' -benchmem -benchtime 2000x -count 6 ./internal/benchmarks/
func BenchmarkMiddlewareDPoP(b *testing.B) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(b, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err)
	keys := []struct {
		name   string
		key    crypto.Signer
		method jwt.SigningMethod
	}{
		{"ES256", ec, jwt.SigningMethodES256},
		{"EdDSA", ed, jwt.SigningMethodEdDSA},
	}

	b.Run("Bearer", func(b *testing.B) {
		mw, svc := dpopMiddleware(b, 0)
		r := dpopRequest("Bearer " + login(b, svc))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			serveOK(b, mw, r)
		}
	})
	for _, k := range keys {
		b.Run("DPoP-"+k.name, func(b *testing.B) {
			mw, r, proofs := boundClient(b, k.key, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				r.Header["Dpop"] = proofs[i : i+1 : i+1]
				serveOK(b, mw, r)
			}
		})
		b.Run("signature-"+k.name, func(b *testing.B) {
			verify := signatureCheck(b, k.key, k.method)
			b.ReportAllocs()
			for b.Loop() {
				verify()
			}
		})
	}
	// interleaved serves b.N requests of each case (b.N signature checks)
	// in rounds of 50, taking the cases in turn, and reports the CPU time
	// (user and system, of the whole process: GC included) each took per
	// request, and the ratios: on a shared machine, whose other loads
	// make wall-clock times swing, what a same-run comparison can still
	// see. Its ns/op is the wall time of all five cases together.
	b.Run("interleaved", func(b *testing.B) {
		const round = 50
		rounds := max(1, b.N/round)
		mw, svc := dpopMiddleware(b, 0)
		bearer := dpopRequest("Bearer " + login(b, svc))
		type bound struct {
			mw     http.Handler
			r      *http.Request
			proofs []string
			verify func()
		}
		var cases []bound
		for _, k := range keys {
			mw, r, proofs := boundClient(b, k.key, rounds*round)
			cases = append(cases, bound{mw, r, proofs, signatureCheck(b, k.key, k.method)})
		}
		cpu := make([]time.Duration, 1+2*len(cases))
		timeRound := func(i int, f func(j int)) {
			start := cpuTime(b)
			for j := range round {
				f(j)
			}
			cpu[i] += cpuTime(b) - start
		}
		b.ResetTimer()
		for n := range rounds {
			timeRound(0, func(int) { serveOK(b, mw, bearer) })
			for c, bc := range cases {
				timeRound(1+2*c, func(j int) {
					bc.r.Header["Dpop"] = bc.proofs[n*round+j : n*round+j+1 : n*round+j+1]
					serveOK(b, bc.mw, bc.r)
				})
				timeRound(2+2*c, func(int) { bc.verify() })
			}
		}
		perOp := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(rounds*round) }
		b.ReportMetric(perOp(cpu[0]), "Bearer-cpu-ns/op")
		for c, k := range keys {
			b.ReportMetric(perOp(cpu[1+2*c]), k.name+"-cpu-ns/op")
			b.ReportMetric(perOp(cpu[2+2*c]), k.name+"-sig-cpu-ns/op")
			b.ReportMetric(float64(cpu[1+2*c])/float64(cpu[0]), k.name+"/Bearer")
			b.ReportMetric(perOp(cpu[1+2*c]-cpu[0]-cpu[2+2*c]), k.name+"-rest-cpu-ns/op")
		}
	})
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// boundClient returns a DPoP-enabled Middleware, a request of alice on
// laptop with "Authorization: DPoP" and a token bound to key, and n
// distinct proofs for it by key (its replay cache holds n).
func boundClient(tb testing.TB, key crypto.Signer, n int) (http.Handler, *http.Request, []string) {
	tb.Helper()
	tr, err := dpop.NewTransport(key, nil)
	require.NoError(tb, err)
	mw, svc := dpopMiddleware(tb, n)
	tok := boundLogin(tb, svc, tr.JKT())
	proofs := make([]string, n)
	for i := range proofs {
		proofs[i], err = tr.Proof(http.MethodGet, "http://"+dpopHost+dpopPath, tok, "")
		require.NoError(tb, err)
	}
	return mw, dpopRequest("DPoP " + tok), proofs
}

// signatureCheck returns golang-jwt's verification of the signature of
// one proof by key: the floor of a proof check.
func signatureCheck(tb testing.TB, key crypto.Signer, method jwt.SigningMethod) func() {
	tb.Helper()
	tr, err := dpop.NewTransport(key, nil)
	require.NoError(tb, err)
	p, err := tr.Proof(http.MethodGet, "http://"+dpopHost+dpopPath, "tok", "")
	require.NoError(tb, err)
	dot := strings.LastIndexByte(p, '.')
	sig, err := jwt.NewParser().DecodeSegment(p[dot+1:])
	require.NoError(tb, err)
	return func() {
		if err := method.Verify(p[:dot], sig, key.Public()); err != nil {
			tb.Fatal(err)
		}
	}
}

// dpopMiddleware returns httpauth's Middleware with DPoP allowed (a
// replay cache for proofs proofs) around a handler that writes nothing,
// and its Service: the memory store with bigcache, as newService.
func dpopMiddleware(tb testing.TB, proofs int) (http.Handler, *app.Service[User]) {
	tb.Helper()
	svc := newService(tb, memoryBackend(tb))
	v, err := dpop.New(dpop.Config{ReplayCacheSize: proofs + 1})
	require.NoError(tb, err)
	auth, err := httpauth.New(httpauth.Config[User]{Service: svc, DPoP: v})
	require.NoError(tb, err)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := httpauth.FromContext[User](r.Context()); !ok {
			w.WriteHeader(http.StatusTeapot)
		}
	})
	return auth.Middleware(next), svc
}

// boundLogin logs alice in on laptop with a session bound to jkt and
// returns her access token after one Authenticate (warming the cache).
func boundLogin(tb testing.TB, svc *app.Service[User], jkt string) string {
	tb.Helper()
	client := laptop
	client.JKT = jkt
	pair, err := svc.Login(context.Background(), "alice", alice, client)
	require.NoError(tb, err)
	_, err = svc.Authenticate(context.Background(), pair.AccessToken, client)
	require.NoError(tb, err)
	return pair.AccessToken
}

// dpopRequest is a server request from laptop to dpopHost/dpopPath with
// the given Authorization header.
func dpopRequest(authorization string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, dpopPath, nil)
	r.Host = dpopHost
	r.RemoteAddr = laptop.IP.String() + ":52100"
	r.Header.Set("X-Device-ID", laptop.DeviceID)
	r.Header.Set("Authorization", authorization)
	return r
}

// serveOK serves r through mw and fails unless the handler saw a
// principal.
func serveOK(b testing.TB, mw http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	mw.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %s", w.Code, w.Body)
	}
}
