package dpop

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/internal/npmtest"
)

// nodeDPoP returns a directory holding node_modules/dpop (npmtest.Install:
// without node or npm the test skips, except under CI=true) and the
// interop script.
func nodeDPoP(t *testing.T) string {
	t.Helper()
	dir := npmtest.Install(t, "dpop", npmtest.DPoPVersion)
	script, err := os.ReadFile("testdata/interop.mjs")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "interop.mjs"), script, 0o600))
	return dir
}

type npmCase struct {
	Alg   string `json:"alg"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	Token string `json:"token,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

type npmProof struct {
	Proof string          `json:"proof"`
	JWK   json.RawMessage `json:"jwk"`
	JKT   string          `json:"jkt"`
}

// TestInteropNPM validates proofs made by the npm package dpop: ES256
// and Ed25519 (npm dpop 2.x names EdDSA proofs by the fully-specified
// algorithm "Ed25519" of RFC 9864: this test is why EdDSA accepts that
// name), with and without ath, with a server nonce; the thumbprint
// agrees with the one that package computes.
func TestInteropNPM(t *testing.T) {
	dir := nodeDPoP(t)
	v, err := New(Config{})
	require.NoError(t, err)
	nv, err := New(Config{NonceKey: []byte("0123456789abcdef0123456789abcdef")})
	require.NoError(t, err)
	nonce := nv.Nonce()
	cases := []npmCase{
		{Alg: "ES256", HTM: "POST", HTU: "http://127.0.0.1:8080/auth/login"},
		{Alg: "ES256", HTM: "GET", HTU: "https://api.example.com/v1/items", Token: "access-token-1"},
		{Alg: "Ed25519", HTM: "POST", HTU: "http://127.0.0.1:8080/auth/refresh"},
		{Alg: "Ed25519", HTM: "DELETE", HTU: "https://api.example.com/v1/items/7", Token: "access-token-2"},
		{Alg: "ES256", HTM: "POST", HTU: "https://api.example.com/auth/login", Nonce: nonce},
	}
	in, err := json.Marshal(cases)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// #nosec G204 -- the script is the test's own; the argument is JSON
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "interop.mjs"), string(in))
	cmd.Dir = dir
	var stderr []byte
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "node: %s", stderr)
	var proofs []npmProof
	require.NoError(t, json.Unmarshal(out, &proofs))
	require.Len(t, proofs, len(cases))

	for i, c := range cases {
		t.Run(c.Alg+" "+c.HTM+" "+c.HTU, func(t *testing.T) {
			p := proofs[i]
			val := v
			if c.Nonce != "" {
				val = nv
			}
			got, err := val.Validate(p.Proof, c.HTM, mustURL(t, c.HTU), c.Token)
			require.NoError(t, err)
			assert.Equal(t, c.Alg, got.Algorithm)
			assert.Equal(t, p.JKT, got.JKT, "thumbprint as the npm package computes it")
			var jwk jose.JSONWebKey
			require.NoError(t, jwk.UnmarshalJSON(p.JWK))
			want, err := Thumbprint(jwk.Key)
			require.NoError(t, err)
			assert.Equal(t, want, got.JKT)

			_, err = val.Validate(p.Proof, c.HTM, mustURL(t, c.HTU), c.Token)
			assert.ErrorIs(t, err, ErrReplay)
		})
	}
	// The nonce-less proofs are refused where nonces are required.
	_, err = nv.Validate(proofs[2].Proof, cases[2].HTM, mustURL(t, cases[2].HTU), "")
	assert.ErrorIs(t, err, ErrUseNonce)
}
