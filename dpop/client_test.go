package dpop

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dpopServer answers like a DPoP resource server (401 with
// WWW-Authenticate) on /resource and like a token endpoint (400 with a
// JSON error) on /token, handing out a fresh nonce with every answer.
func dpopServer(t *testing.T, v *Validator, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		var token string
		if s, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && s == "DPoP" {
			token = tok
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("DPoP-Nonce", v.Nonce())
		p, err := v.ValidateRequest(r, token)
		switch {
		case err == nil:
			_, _ = fmt.Fprintf(w, "%s %s", p.JKT, body)
		case errors.Is(err, ErrUseNonce) && r.URL.Path == "/token":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"use_dpop_nonce"}`)
		case errors.Is(err, ErrUseNonce):
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, err.Error())
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTransport(t *testing.T) {
	keys := map[string]crypto.Signer{"ES256": ecKey(t), "EdDSA": edKey(t)}
	for alg, key := range keys {
		t.Run(alg, func(t *testing.T) {
			v, err := New(Config{NonceKey: []byte("0123456789abcdef0123456789abcdef")})
			require.NoError(t, err)
			var hits atomic.Int32
			srv := dpopServer(t, v, &hits)
			tr, err := NewTransport(key, nil)
			require.NoError(t, err)
			client := &http.Client{Transport: tr}

			// The first request learns the nonce from a 400 and is sent
			// again, body included.
			resp, err := client.Post(srv.URL+"/token?x=1", "text/plain", strings.NewReader("login"))
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			assert.Equal(t, tr.JKT()+" login", string(body))
			assert.Equal(t, int32(2), hits.Load())

			// Later requests carry the last nonce: one round trip each,
			// with ath for the DPoP access token.
			for i := range 3 {
				req, err := http.NewRequest("GET", srv.URL+"/resource", nil)
				require.NoError(t, err)
				req.Header.Set("Authorization", "DPoP the-access-token")
				resp, err := client.Do(req)
				require.NoError(t, err)
				_ = resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, int32(3+i), hits.Load())
			}
		})
	}
}

func TestTransportRetriesOnce(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("DPoP-Nonce", fmt.Sprint("nonce-", n))
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	tr, err := NewTransport(ecKey(t), nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, int32(2), hits.Load(), "one retry, not a loop")

	// A body that cannot be replayed is not retried.
	hits.Store(0)
	req, err := http.NewRequest("POST", srv.URL, io.NopCloser(strings.NewReader("x")))
	require.NoError(t, err)
	resp, err = (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, int32(1), hits.Load())
}

func TestTransportKeepsUnrelated400Body(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("DPoP-Nonce", "n")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_request"}`)
	}))
	defer srv.Close()
	tr, err := NewTransport(edKey(t), nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.JSONEq(t, `{"error":"invalid_request"}`, string(body))
}

func TestNewTransportKeys(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, err = NewTransport(p384, nil)
	assert.Error(t, err)
	_, err = NewTransport(nil, nil)
	assert.Error(t, err)
}

// TestTransportProofValidates checks Proof's output against Validate
// directly, for every field the validator looks at.
func TestTransportProofValidates(t *testing.T) {
	tr, err := NewTransport(ecKey(t), nil)
	require.NoError(t, err)
	v, err := New(Config{})
	require.NoError(t, err)
	proof, err := tr.Proof("PUT", "https://api.example.com/v1/items/7?q=1#x", "tok", "")
	require.NoError(t, err)
	p, err := v.Validate(proof, "PUT", mustURL(t, "https://api.example.com/v1/items/7"), "tok")
	require.NoError(t, err)
	assert.Equal(t, tr.JKT(), p.JKT)
}

// TestTransportConcurrent sends the first requests of a fresh Transport
// from many goroutines at once to a server that requires nonces: each
// learns the nonce and succeeds with at most one retry.
func TestTransportConcurrent(t *testing.T) {
	const n = 16
	v, err := New(Config{NonceKey: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	var hits atomic.Int32
	srv := dpopServer(t, v, &hits)
	tr, err := NewTransport(edKey(t), nil)
	require.NoError(t, err)
	client := &http.Client{Transport: tr}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, err := http.NewRequest("GET", srv.URL+"/resource", nil)
			if !assert.NoError(t, err) {
				return
			}
			req.Header.Set("Authorization", "DPoP tok")
			resp, err := client.Do(req)
			if !assert.NoError(t, err) {
				return
			}
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(n), ok.Load())
	assert.LessOrEqual(t, hits.Load(), int32(2*n))
}
