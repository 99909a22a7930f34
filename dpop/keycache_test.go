package dpop

import (
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyCacheHit: a second proof with the same jwk takes the key from
// the cache, and gets the same thumbprint.
func TestKeyCacheHit(t *testing.T) {
	key := ecKey(t)
	v := newValidator(t, Config{})
	var keys []crypto.PublicKey
	for _, jti := range []string{"a", "b"} {
		h, c := goodParts(t, key)
		c["jti"] = jti
		p, err := v.Validate(mint(t, jwt.SigningMethodES256, key, h, c), "GET", mustURL(t, target), "")
		require.NoError(t, err)
		want, err := Thumbprint(&key.PublicKey)
		require.NoError(t, err)
		assert.Equal(t, want, p.JKT)
		keys = append(keys, p.Key)
	}
	assert.Same(t, keys[0], keys[1], "parsed once")
	assert.Len(t, v.keys.keys, 1)
}

// TestKeyCacheChecksAlgorithm: a cached key is still checked against
// each proof's alg: an EC jwk in an EdDSA proof is refused, before and
// after the jwk was cached by an ES256 proof.
func TestKeyCacheChecksAlgorithm(t *testing.T) {
	ec, ed := ecKey(t), edKey(t)
	v := newValidator(t, Config{})
	mismatched := func(jti string) string {
		h, c := goodParts(t, ec)
		c["jti"] = jti
		return mint(t, jwt.SigningMethodEdDSA, ed, h, c)
	}
	_, err := v.Validate(mismatched("x"), "GET", mustURL(t, target), "")
	require.ErrorIs(t, err, ErrKey)

	h, c := goodParts(t, ec)
	_, err = v.Validate(mint(t, jwt.SigningMethodES256, ec, h, c), "GET", mustURL(t, target), "")
	require.NoError(t, err)
	require.Len(t, v.keys.keys, 1)

	_, err = v.Validate(mismatched("y"), "GET", mustURL(t, target), "")
	assert.ErrorIs(t, err, ErrKey)
	assert.ErrorIs(t, err, ErrInvalidProof)
}

// TestKeyCacheRefusesPrivateKeys: a jwk with private members is refused
// every time, and never cached.
func TestKeyCacheRefusesPrivateKeys(t *testing.T) {
	key := ecKey(t)
	raw, err := json.Marshal(jose.JSONWebKey{Key: key})
	require.NoError(t, err)
	v := newValidator(t, Config{})
	for range 2 {
		_, _, err := v.publicKey(raw, keyFits["ES256"])
		require.ErrorIs(t, err, ErrKey)
	}
	assert.Empty(t, v.keys.keys)
}

func TestKeyCacheBounded(t *testing.T) {
	c := newKeyCache()
	for i := range keyCacheSize + 10 {
		c.put(sha256.Sum256(fmt.Append(nil, i)), parsedKey{jkt: fmt.Sprint(i)})
	}
	assert.Len(t, c.keys, keyCacheSize)
	last, ok := c.get(sha256.Sum256(fmt.Append(nil, keyCacheSize+9)))
	require.True(t, ok, "the newest entry is kept")
	assert.Equal(t, fmt.Sprint(keyCacheSize+9), last.jkt)
	// Putting a key held already evicts nothing.
	c.put(sha256.Sum256(fmt.Append(nil, keyCacheSize+9)), last)
	assert.Len(t, c.keys, keyCacheSize)
}

// TestKeyCacheConcurrent validates proofs of a few keys from many
// goroutines at once (run with -race): every one is accepted with its
// own key's thumbprint.
func TestKeyCacheConcurrent(t *testing.T) {
	const keys, perKey = 4, 16
	v := newValidator(t, Config{})
	var wg sync.WaitGroup
	for k := range keys {
		key := edKey(t)
		want, err := Thumbprint(key.Public())
		require.NoError(t, err)
		for i := range perKey {
			c := map[string]any{"jti": fmt.Sprint(k, "-", i), "htm": "GET", "htu": target, "iat": t0.Unix()}
			proof := mint(t, jwt.SigningMethodEdDSA, key, map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, key.Public())}, c)
			wg.Go(func() {
				p, err := v.Validate(proof, "GET", mustURL(t, target), "")
				if assert.NoError(t, err) {
					assert.Equal(t, want, p.JKT)
				}
			})
		}
	}
	wg.Wait()
	assert.Len(t, v.keys.keys, keys)
}

// FuzzPublicKey: whatever the jwk bytes, a cached answer is the answer a
// fresh Validator gives.
func FuzzPublicKey(f *testing.F) {
	for _, k := range []crypto.PublicKey{&ecKey(f).PublicKey, edKey(f).Public()} {
		raw, err := json.Marshal(jose.JSONWebKey{Key: k})
		require.NoError(f, err)
		f.Add(raw)
	}
	f.Add([]byte(rfc7638Key))
	f.Add([]byte(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}`))
	f.Add([]byte(`{}`))
	shared := newValidator(f, Config{})
	always := func(crypto.PublicKey) bool { return true }
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, want, wantErr := newValidator(t, Config{ReplayCacheSize: 1}).publicKey(raw, always)
		for range 2 {
			_, got, err := shared.publicKey(raw, always)
			require.Equal(t, wantErr == nil, err == nil, "%v / %v", wantErr, err)
			require.Equal(t, want, got)
		}
	})
}
