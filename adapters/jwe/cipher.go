package jwe

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

var _ ports.Cipher = (*Cipher)(nil)

// MaxTokenSize is the largest token Decrypt accepts and Encrypt produces,
// in bytes.
const MaxTokenSize = domain.MaxTokenLen

const (
	ivSize  = 12 // 96-bit GCM nonce
	tagSize = 16 // 128-bit GCM tag
)

// b64 is the JWE segment encoding. Strict decoding rejects non-zero padding
// bits, so that every segment has exactly one accepted spelling.
var b64 = base64.RawURLEncoding.Strict()

// Cipher encrypts and decrypts tokens with a key ring. It is safe for
// concurrent use.
//
// Each token gets a random 96-bit IV, so a key should encrypt well under
// 2^32 tokens (NIST SP 800-38D) before a new key is prepended.
type Cipher struct {
	keys []ringKey // keys[0] encrypts
}

type ringKey struct {
	id     string
	header string // base64url of the protected header this key writes
	aad    []byte // header as bytes: the additional authenticated data
	aead   cipher.AEAD
}

// New returns a Cipher over keys: the first key encrypts, all decrypt. It
// returns an error wrapping domain.ErrInvalidArgument for an empty ring, an
// id that is empty, longer than 64 characters, outside [A-Za-z0-9._-] or
// duplicated, or a secret that is not KeySize bytes. Errors never contain
// key material.
func New(keys ...Key) (*Cipher, error) {
	if err := validate(keys); err != nil {
		return nil, err
	}
	c := &Cipher{keys: make([]ringKey, len(keys))}
	for i, k := range keys {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("%w: jwe: key %q: %v", domain.ErrInvalidArgument, k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("%w: jwe: key %q: %v", domain.ErrInvalidArgument, k.ID, err)
		}
		header := b64.EncodeToString([]byte(`{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"` + k.ID + `"}`))
		c.keys[i] = ringKey{id: k.ID, header: header, aad: []byte(header), aead: aead}
	}
	return c, nil
}

// Encrypt returns the compact JWE of plaintext under the first key:
// header..iv.ciphertext.tag. It returns an error wrapping
// domain.ErrInvalidArgument when the token would exceed MaxTokenSize.
func (c *Cipher) Encrypt(plaintext []byte) (string, error) {
	k := &c.keys[0]
	size := len(k.header) + 2 + b64.EncodedLen(ivSize) + 1 + b64.EncodedLen(len(plaintext)) + 1 + b64.EncodedLen(tagSize)
	if size > MaxTokenSize {
		return "", fmt.Errorf("%w: jwe: plaintext of %d bytes makes a token larger than %d bytes",
			domain.ErrInvalidArgument, len(plaintext), MaxTokenSize)
	}
	// buf holds the IV followed by the sealed ciphertext and tag.
	buf := make([]byte, ivSize, ivSize+len(plaintext)+tagSize)
	_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go 1.24+).
	sealed := k.aead.Seal(buf[ivSize:], buf[:ivSize], plaintext, k.aad)
	ct, tag := sealed[:len(plaintext)], sealed[len(plaintext):]

	out := make([]byte, 0, size)
	out = append(out, k.header...)
	out = append(out, '.', '.')
	out = b64.AppendEncode(out, buf[:ivSize])
	out = append(out, '.')
	out = b64.AppendEncode(out, ct)
	out = append(out, '.')
	out = b64.AppendEncode(out, tag)
	return string(out), nil
}

var (
	errTooLarge  = fmt.Errorf("%w: jwe: token larger than %d bytes", domain.ErrMalformed, MaxTokenSize)
	errParts     = fmt.Errorf("%w: jwe: want five dot-separated parts", domain.ErrMalformed)
	errKeyPart   = fmt.Errorf("%w: jwe: encrypted key must be empty for alg dir", domain.ErrMalformed)
	errBase64    = fmt.Errorf("%w: jwe: bad base64url segment", domain.ErrMalformed)
	errIVTag     = fmt.Errorf("%w: jwe: want a 96-bit IV and a 128-bit tag", domain.ErrMalformed)
	errHeader    = fmt.Errorf("%w: jwe: unsupported header (want alg dir, enc A256GCM, cty JWT, no zip or crit)", domain.ErrInvalid)
	errUnknownID = fmt.Errorf("%w: jwe: unknown key id", domain.ErrInvalid)
	errDecrypt   = fmt.Errorf("%w: jwe: decryption failed", domain.ErrInvalid)
)

// Decrypt returns the plaintext of a compact JWE. Errors wrap
// domain.ErrMalformed (size over MaxTokenSize, not five parts, non-empty
// encrypted key, bad base64url, bad header JSON, wrong IV or tag length) or
// domain.ErrInvalid (unsupported header, unknown kid, and one opaque error
// for any authentication failure).
func (c *Cipher) Decrypt(token string) ([]byte, error) {
	plaintext, err := c.AppendDecrypt(nil, token)
	if err != nil {
		return nil, err
	}
	return plaintext[:len(plaintext):len(plaintext)], nil
}

// AppendDecrypt is Decrypt appending the plaintext to dst and returning
// the extended slice, so that a caller can decrypt into a buffer it
// reuses. It needs room for the ciphertext, tag and IV (28 bytes more than
// the plaintext) beyond len(dst) and grows dst when it has less; the bytes
// past the returned length are scratch. On error it returns nil.
func (c *Cipher) AppendDecrypt(dst []byte, token string) ([]byte, error) {
	if len(token) > MaxTokenSize {
		return nil, errTooLarge
	}
	var parts [5]string
	rest := token
	for i := range 4 {
		dot := strings.IndexByte(rest, '.')
		if dot < 0 {
			return nil, errParts
		}
		parts[i], rest = rest[:dot], rest[dot+1:]
	}
	if strings.IndexByte(rest, '.') >= 0 {
		return nil, errParts
	}
	header, iv, ct, tag := parts[0], parts[2], parts[3], rest
	if parts[1] != "" {
		return nil, errKeyPart
	}
	if len(iv) != b64.EncodedLen(ivSize) || len(tag) != b64.EncodedLen(tagSize) {
		return nil, errIVTag
	}
	k, aad, err := c.key(header)
	if err != nil {
		return nil, err
	}
	// One buffer holds the ciphertext and tag, opened in place, then the IV.
	n := b64.DecodedLen(len(ct))
	dst = slices.Grow(dst, n+tagSize+ivSize)
	buf := dst[len(dst) : len(dst)+n+tagSize+ivSize]
	if err := decode(buf[:n], ct); err != nil {
		return nil, err
	}
	if err := decode(buf[n:n+tagSize], tag); err != nil {
		return nil, err
	}
	if err := decode(buf[n+tagSize:], iv); err != nil {
		return nil, err
	}
	if _, err := k.aead.Open(buf[:0], buf[n+tagSize:], buf[:n+tagSize], aad); err != nil {
		return nil, errDecrypt
	}
	return dst[:len(dst)+n], nil
}

// key returns the ring key for a protected header and the AAD to open with.
// Headers this package wrote are recognised without decoding them; others
// (for example from another JOSE library) are decoded and checked.
func (c *Cipher) key(header string) (*ringKey, []byte, error) {
	for i := range c.keys {
		if c.keys[i].header == header {
			return &c.keys[i], c.keys[i].aad, nil
		}
	}
	raw := make([]byte, b64.DecodedLen(len(header)))
	if err := decode(raw, header); err != nil {
		return nil, nil, err
	}
	var h struct {
		Alg  string          `json:"alg"`
		Enc  string          `json:"enc"`
		Cty  string          `json:"cty"`
		Kid  string          `json:"kid"`
		Zip  json.RawMessage `json:"zip"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, nil, fmt.Errorf("%w: jwe: header: %v", domain.ErrMalformed, err)
	}
	if h.Alg != "dir" || h.Enc != "A256GCM" || !strings.EqualFold(h.Cty, "JWT") || h.Zip != nil || h.Crit != nil {
		return nil, nil, errHeader
	}
	for i := range c.keys {
		if c.keys[i].id == h.Kid {
			return &c.keys[i], []byte(header), nil
		}
	}
	return nil, nil, errUnknownID
}

// decode decodes the base64url segment src into dst, which must be exactly
// b64.DecodedLen(len(src)) bytes long. Requiring every byte of src to
// count (EncodedLen of what was decoded is len(src)) refuses the CR and
// LF characters that encoding/base64 otherwise skips, so a segment has a
// single spelling: a full length alone lets one CR or LF through a
// segment whose length is a multiple of 4.
func decode(dst []byte, src string) error {
	n, err := b64.Decode(dst, []byte(src))
	if err != nil || n != len(dst) || b64.EncodedLen(n) != len(src) {
		return errBase64
	}
	return nil
}

// String hides the keys, so that a Cipher can be logged.
func (c *Cipher) String() string { return "jwe.Cipher{keys:[redacted]}" }

// GoString hides the keys from %#v too.
func (c *Cipher) GoString() string { return c.String() }
