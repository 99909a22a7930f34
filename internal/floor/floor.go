// Package floor is the work no implementation of Authenticate can skip
// for a jwtauth access token: base64url-decoding the five parts of the
// JWE, AES-256-GCM open of the inner JWS, base64url-decoding its claims
// and signature, and HMAC-SHA256 over its signing input. The benchmarks
// (BenchmarkFloor) and the HTTP load run (scripts/benchhttp's floor
// server) measure jwtauth against it.
package floor

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
)

// Checker holds what the unavoidable work needs, built once, as a tuned
// implementation would: the AES-GCM and HMAC objects and the buffers. It
// allocates once per call (the AAD's conversion to bytes). It is not safe
// for concurrent use.
type Checker struct {
	gcm                          cipher.AEAD
	mac                          hash.Hash
	buf, plain, claims, sig, sum []byte
}

// New returns a Checker for tokens encrypted with encKey (AES-256) around
// a JWS signed with signKey (HS256).
func New(encKey, signKey []byte) (*Checker, error) {
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Checker{gcm: gcm, mac: hmac.New(sha256.New, signKey),
		buf: make([]byte, 4096), plain: make([]byte, 4096), claims: make([]byte, 4096),
		sig: make([]byte, 64), sum: make([]byte, 0, sha256.Size)}, nil
}

var (
	errShape = errors.New("floor: not a five-part JWE around a three-part JWS")
	errMAC   = errors.New("floor: signature mismatch")
)

// Check decrypts and verifies token, failing on any mismatch.
func (f *Checker) Check(token string) error {
	enc := base64.RawURLEncoding
	var parts [5]string
	rest := token
	for i := range 4 {
		var ok bool
		if parts[i], rest, ok = strings.Cut(rest, "."); !ok {
			return errShape
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
		return errShape
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
		return errMAC
	}
	return nil
}
