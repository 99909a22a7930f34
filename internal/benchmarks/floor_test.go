package benchmarks

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
)

// BenchmarkFloor is the work no implementation of Authenticate can skip
// for a jwtauth access token: base64url-decoding the five parts of the
// JWE, AES-256-GCM open of the inner JWS, base64url-decoding its claims
// and signature, and HMAC-SHA256 over its signing input. It runs on a
// real token issued by the same assembly as BenchmarkAuthenticateBigcache,
// in the same package, so the ratio of the two comes from one run. The
// AES-GCM and HMAC objects are built once, as a tuned implementation
// would, and the buffers are reused: it allocates once per call (the
// AAD's conversion to bytes).
func BenchmarkFloor(b *testing.B) {
	signKey, encKey := randomKey(b), randomKey(b)
	codec, cph := newCryptoWith(b, signKey, encKey)
	svc, err := app.New(app.Config{UserFromToken: true},
		app.Deps[User]{Store: memoryBackend(b).store, Codec: codec, Cipher: cph})
	require.NoError(b, err)
	pair, err := svc.Login(context.Background(), "alice", alice, laptop)
	require.NoError(b, err)
	token := pair.AccessToken

	block, err := aes.NewCipher(encKey)
	require.NoError(b, err)
	gcm, err := cipher.NewGCM(block)
	require.NoError(b, err)
	mac := hmac.New(sha256.New, signKey)
	f := newFloor(gcm, mac)
	require.NoError(b, f.check(token), "the floor must accept a real token")

	b.ReportAllocs()
	b.SetBytes(int64(len(token)))
	for b.Loop() {
		if err := f.check(token); err != nil {
			b.Fatal(err)
		}
	}
}

// floor holds what the unavoidable work needs, built once.
type floor struct {
	gcm                          cipher.AEAD
	mac                          hash.Hash
	buf, plain, claims, sig, sum []byte
}

func newFloor(gcm cipher.AEAD, mac hash.Hash) *floor {
	return &floor{gcm: gcm, mac: mac,
		buf: make([]byte, 4096), plain: make([]byte, 4096), claims: make([]byte, 4096),
		sig: make([]byte, 64), sum: make([]byte, 0, sha256.Size)}
}

var (
	errFloorShape = errors.New("not a five-part JWE around a three-part JWS")
	errFloorMAC   = errors.New("signature mismatch")
)

// check decrypts and verifies token, failing on any mismatch.
func (f *floor) check(token string) error {
	enc := base64.RawURLEncoding
	var parts [5]string
	rest := token
	for i := range 4 {
		var ok bool
		if parts[i], rest, ok = strings.Cut(rest, "."); !ok {
			return errFloorShape
		}
	}
	parts[4] = rest
	// The protected header is decoded (a real implementation reads alg,
	// enc and kid from it) and used as the AAD in its encoded form.
	hdr, err := enc.AppendDecode(f.buf[:0], []byte(parts[0]))
	if err != nil {
		return err
	}
	iv, err := enc.AppendDecode(hdr[len(hdr):], []byte(parts[2]))
	if err != nil {
		return err
	}
	ct, err := enc.AppendDecode(iv[len(iv):], []byte(parts[3]))
	if err != nil {
		return err
	}
	tag, err := enc.AppendDecode(ct[len(ct):], []byte(parts[4]))
	if err != nil {
		return err
	}
	sealed := ct[:len(ct)+len(tag)] // ct and tag are adjacent in buf
	jws, err := f.gcm.Open(f.plain[:0], iv, sealed, []byte(parts[0]))
	if err != nil {
		return err
	}
	dot1 := bytes.IndexByte(jws, '.')
	dot2 := bytes.LastIndexByte(jws, '.')
	if dot1 < 0 || dot2 <= dot1 {
		return errFloorShape
	}
	if _, err := enc.AppendDecode(f.claims[:0], jws[dot1+1:dot2]); err != nil {
		return err
	}
	sig, err := enc.AppendDecode(f.sig[:0], jws[dot2+1:])
	if err != nil {
		return err
	}
	f.mac.Reset()
	_, _ = f.mac.Write(jws[:dot2])
	if !hmac.Equal(f.mac.Sum(f.sum[:0]), sig) {
		return errFloorMAC
	}
	return nil
}
