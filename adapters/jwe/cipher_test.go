package jwe_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/domain"
)

// plaintext stands in for a signed JWT.
var plaintext = []byte("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJ0eXAiOiJhY2Nlc3MifQ.c2lnbmF0dXJl")

// secret returns a deterministic 32-byte secret.
func secret(seed byte) []byte {
	s := make([]byte, jwe.KeySize)
	for i := range s {
		s[i] = seed + byte(i)
	}
	return s
}

func newCipher(tb testing.TB, keys ...jwe.Key) *jwe.Cipher {
	tb.Helper()
	c, err := jwe.New(keys...)
	require.NoError(tb, err)
	return c
}

func encrypt(tb testing.TB, c *jwe.Cipher, pt []byte) string {
	tb.Helper()
	tok, err := c.Encrypt(pt)
	require.NoError(tb, err)
	return tok
}

// sealWithHeader builds a dir/A256GCM compact JWE by hand with any
// protected header JSON and an all-zero IV (deterministic; tests only).
func sealWithHeader(tb testing.TB, key []byte, header string, pt []byte) string {
	tb.Helper()
	block, err := aes.NewCipher(key)
	require.NoError(tb, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(tb, err)
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(header))
	iv := make([]byte, aead.NonceSize())
	sealed := aead.Seal(nil, iv, pt, []byte(h))
	n := len(sealed) - aead.Overhead()
	return h + ".." + enc.EncodeToString(iv) + "." + enc.EncodeToString(sealed[:n]) + "." + enc.EncodeToString(sealed[n:])
}

func assertRejected(t *testing.T, err error) {
	t.Helper()
	assert.True(t, errors.Is(err, domain.ErrMalformed) || errors.Is(err, domain.ErrInvalid),
		"want ErrMalformed or ErrInvalid, got %v", err)
}

func TestRoundTrip(t *testing.T) {
	c := newCipher(t, jwe.Key{ID: "k1", Secret: secret(1)})
	tests := []struct {
		name string
		pt   []byte
	}{
		{name: "jwt", pt: plaintext},
		{name: "empty", pt: []byte{}},
		{name: "binary", pt: []byte{0, 0xff, 0xfe, '.', '\n'}},
		{name: "large", pt: bytes.Repeat([]byte("a"), 12000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := encrypt(t, c, tt.pt)
			got, err := c.Decrypt(tok)
			require.NoError(t, err)
			assert.Equal(t, tt.pt, got)
		})
	}
}

func TestEncryptFormat(t *testing.T) {
	c := newCipher(t, jwe.Key{ID: "k-1.a_B", Secret: secret(1)})
	tok := encrypt(t, c, plaintext)
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 5)
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	assert.Equal(t, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k-1.a_B"}`, string(header))
	assert.Empty(t, parts[1], "encrypted key")
	assert.Len(t, parts[2], 16, "96-bit IV")
	assert.Len(t, parts[4], 22, "128-bit tag")
	assert.NotEqual(t, tok, encrypt(t, c, plaintext), "fresh IV per token")
}

func TestEncryptTooLarge(t *testing.T) {
	c := newCipher(t, jwe.Key{ID: "k1", Secret: secret(1)})
	_, err := c.Encrypt(make([]byte, jwe.MaxTokenSize))
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
}

func TestKeyRotation(t *testing.T) {
	k1 := jwe.Key{ID: "k1", Secret: secret(1)}
	k2 := jwe.Key{ID: "k2", Secret: secret(2)}
	old := newCipher(t, k1)
	rotated := newCipher(t, k2, k1)
	oldToken := encrypt(t, old, plaintext)
	newToken := encrypt(t, rotated, plaintext)

	got, err := rotated.Decrypt(oldToken)
	require.NoError(t, err)
	assert.Equal(t, plaintext, got)

	parsed, err := jose.ParseEncryptedCompact(newToken, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	require.NoError(t, err)
	assert.Equal(t, "k2", parsed.Header.KeyID, "first key encrypts")

	_, err = old.Decrypt(newToken)
	assert.ErrorIs(t, err, domain.ErrInvalid, "unknown kid")
}

func TestDecryptRejects(t *testing.T) {
	key := secret(1)
	c := newCipher(t, jwe.Key{ID: "k1", Secret: key})
	valid := encrypt(t, c, plaintext)
	parts := strings.Split(valid, ".")
	join := func(p ...string) string { return strings.Join(p, ".") }
	const good = `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1"}`
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{name: "valid", token: valid},
		{name: "hand-built header in another order", token: sealWithHeader(t, key, `{"kid":"k1","cty":"JWT","enc":"A256GCM","alg":"dir"}`, plaintext)},
		{name: "cty lower case", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A256GCM","cty":"jwt","kid":"k1"}`, plaintext)},
		{name: "extra typ", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1","typ":"JWE"}`, plaintext)},

		{name: "alg A256KW", token: sealWithHeader(t, key, `{"alg":"A256KW","enc":"A256GCM","cty":"JWT","kid":"k1"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "alg none", token: sealWithHeader(t, key, `{"alg":"none","enc":"A256GCM","cty":"JWT","kid":"k1"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "alg upper case", token: sealWithHeader(t, key, `{"alg":"DIR","enc":"A256GCM","cty":"JWT","kid":"k1"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "alg missing", token: sealWithHeader(t, key, `{"enc":"A256GCM","cty":"JWT","kid":"k1"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "enc A128GCM", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A128GCM","cty":"JWT","kid":"k1"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "enc A256CBC-HS512", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A256CBC-HS512","cty":"JWT","kid":"k1"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "cty missing", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A256GCM","kid":"k1"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "cty other", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A256GCM","cty":"json","kid":"k1"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "zip", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1","zip":"DEF"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "crit", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1","crit":["exp"],"exp":1}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "kid unknown", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k9"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "kid missing", token: sealWithHeader(t, key, `{"alg":"dir","enc":"A256GCM","cty":"JWT"}`, plaintext), wantErr: domain.ErrInvalid},
		{name: "right kid, other key", token: sealWithHeader(t, secret(2), good, plaintext), wantErr: domain.ErrInvalid},
		{name: "header not JSON", token: sealWithHeader(t, key, `{"alg":"dir"`, plaintext), wantErr: domain.ErrMalformed},
		{name: "header JSON string", token: sealWithHeader(t, key, `"dir"`, plaintext), wantErr: domain.ErrMalformed},

		{name: "non-empty encrypted key", token: join(parts[0], "AAAA", parts[2], parts[3], parts[4]), wantErr: domain.ErrMalformed},
		{name: "short IV", token: join(parts[0], "", parts[2][:11], parts[3], parts[4]), wantErr: domain.ErrMalformed},
		{name: "long IV", token: join(parts[0], "", parts[2]+"AAAA", parts[3], parts[4]), wantErr: domain.ErrMalformed},
		{name: "short tag", token: join(parts[0], "", parts[2], parts[3], parts[4][:19]), wantErr: domain.ErrMalformed},
		{name: "no tag", token: join(parts[0], "", parts[2], parts[3], ""), wantErr: domain.ErrMalformed},
		{name: "tag moved into ciphertext", token: join(parts[0], "", parts[2], parts[3]+parts[4], ""), wantErr: domain.ErrMalformed},
		{name: "newline in ciphertext", token: join(parts[0], "", parts[2], parts[3][:8]+"\n"+parts[3][8:], parts[4]), wantErr: domain.ErrMalformed},
		{name: "padded ciphertext", token: join(parts[0], "", parts[2], parts[3]+"==", parts[4]), wantErr: domain.ErrMalformed},
		{name: "standard base64 alphabet", token: join(parts[0], "", parts[2], parts[3]+"+/", parts[4]), wantErr: domain.ErrMalformed},
		{name: "swapped ciphertext", token: join(parts[0], "", parts[2], strings.Split(encrypt(t, c, plaintext), ".")[3], parts[4]), wantErr: domain.ErrInvalid},
		{name: "four parts", token: join(parts[0], parts[2], parts[3], parts[4]), wantErr: domain.ErrMalformed},
		{name: "six parts", token: valid + ".", wantErr: domain.ErrMalformed},
		{name: "empty", token: "", wantErr: domain.ErrMalformed},
		{name: "dots only", token: "....", wantErr: domain.ErrMalformed},
		{name: "plain JWS", token: string(plaintext), wantErr: domain.ErrMalformed},
		{name: "non-UTF-8 garbage", token: "\xff\xfe\x00..\xc3\x28\xa0\xa1.\x80.\xbf", wantErr: domain.ErrMalformed},
		{name: "non-UTF-8 in every part", token: "\xff..\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff.\xff.\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", wantErr: domain.ErrMalformed},
		{name: "too large", token: valid + strings.Repeat("A", jwe.MaxTokenSize), wantErr: domain.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Decrypt(tt.token)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, plaintext, got)
				return
			}
			assert.ErrorIs(t, err, tt.wantErr)
			assert.Nil(t, got)
		})
	}
}

// encoding/base64 skips CR and LF; a token must still have one spelling,
// whatever its segments' lengths modulo 4 (plaintexts of 1 to 4 bytes
// give all four), with the character anywhere.
func TestDecryptRefusesSkippedCharacters(t *testing.T) {
	c := newCipher(t, jwe.Key{ID: "k1", Secret: secret(1)})
	for n := 1; n <= 4; n++ {
		tok := encrypt(t, c, []byte(strings.Repeat("x", n)))
		for i := 0; i <= len(tok); i++ {
			for _, ch := range "\r\n" {
				_, err := c.Decrypt(tok[:i] + string(ch) + tok[i:])
				require.ErrorIs(t, err, domain.ErrMalformed, "%q at %d of a %d-byte plaintext's token", ch, i, n)
			}
		}
	}
}

func TestTamperedTokenRejected(t *testing.T) {
	c := newCipher(t, jwe.Key{ID: "k1", Secret: secret(1)})
	tok := encrypt(t, c, plaintext)

	t.Run("every bit flipped", func(t *testing.T) {
		for i := range len(tok) {
			for bit := range 8 {
				bad := []byte(tok)
				bad[i] ^= 1 << bit
				_, err := c.Decrypt(string(bad))
				assertRejected(t, err)
			}
		}
	})
	t.Run("every byte replaced", func(t *testing.T) {
		for i := range len(tok) {
			for _, r := range []byte("A_-.\n\x00\xff") {
				if tok[i] == r {
					continue
				}
				bad := []byte(tok)
				bad[i] = r
				_, err := c.Decrypt(string(bad))
				assertRejected(t, err)
			}
		}
	})
	t.Run("every truncation", func(t *testing.T) {
		for n := range len(tok) {
			_, err := c.Decrypt(tok[:n])
			assertRejected(t, err)
		}
	})
}

func TestInteropGoJose(t *testing.T) {
	key := secret(7)
	c := newCipher(t, jwe.Key{ID: "k1", Secret: key})

	t.Run("go-jose decrypts ours", func(t *testing.T) {
		obj, err := jose.ParseEncryptedCompact(encrypt(t, c, plaintext),
			[]jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
		require.NoError(t, err)
		got, err := obj.Decrypt(key)
		require.NoError(t, err)
		assert.Equal(t, plaintext, got)
		assert.Equal(t, "k1", obj.Header.KeyID)
		assert.Equal(t, "JWT", obj.Header.ExtraHeaders[jose.HeaderContentType])
	})

	t.Run("we decrypt go-jose's", func(t *testing.T) {
		enc, err := jose.NewEncrypter(jose.A256GCM,
			jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: "k1"},
			(&jose.EncrypterOptions{}).WithContentType("JWT"))
		require.NoError(t, err)
		obj, err := enc.Encrypt(plaintext)
		require.NoError(t, err)
		tok, err := obj.CompactSerialize()
		require.NoError(t, err)

		got, err := c.Decrypt(tok)
		require.NoError(t, err)
		assert.Equal(t, plaintext, got)
	})

	t.Run("go-jose token without cty rejected", func(t *testing.T) {
		enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: "k1"}, nil)
		require.NoError(t, err)
		obj, err := enc.Encrypt(plaintext)
		require.NoError(t, err)
		tok, err := obj.CompactSerialize()
		require.NoError(t, err)

		_, err = c.Decrypt(tok)
		assert.ErrorIs(t, err, domain.ErrInvalid)
	})
}

func FuzzDecrypt(f *testing.F) {
	key := secret(1)
	c := newCipher(f, jwe.Key{ID: "k1", Secret: key})
	// Fuzzing runs this in several processes, so the valid tokens must be
	// deterministic: sealWithHeader uses a fixed IV. The first has exactly
	// the header Encrypt writes.
	valid := map[string]bool{
		sealWithHeader(f, key, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1"}`, plaintext): true,
		sealWithHeader(f, key, `{"kid":"k1","cty":"JWT","enc":"A256GCM","alg":"dir"}`, plaintext): true,
	}
	for tok := range valid {
		f.Add(tok)
		f.Add(tok[:len(tok)-3])
		f.Add(strings.Replace(tok, "..", ".AAAA.", 1))
	}
	f.Add(sealWithHeader(f, key, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"k1","zip":"DEF"}`, plaintext))
	f.Add(sealWithHeader(f, key, `{"alg":"dir","enc":"A256GCM","cty":"JWT","kid":"nope"}`, plaintext))
	f.Add("....")
	f.Add("\xff\xfe..\xc3\x28..")
	f.Fuzz(func(t *testing.T, tok string) {
		got, err := c.Decrypt(tok)
		// AppendDecrypt gives the same answer after a prefix, with and
		// without room for it in the buffer.
		for _, buf := range [][]byte{[]byte("prefix"), append(make([]byte, 0, 4096), "prefix"...)} {
			appended, aerr := c.AppendDecrypt(buf, tok)
			assert.Equal(t, err, aerr)
			if aerr == nil {
				assert.Equal(t, append([]byte("prefix"), got...), appended)
			} else {
				assert.Nil(t, appended)
			}
		}
		if err == nil {
			assert.True(t, valid[tok], "only an untampered token may decrypt")
			assert.Equal(t, plaintext, got)
			return
		}
		assert.Nil(t, got)
		assertRejected(t, err)
	})
}

func BenchmarkDecrypt(b *testing.B) {
	c := newCipher(b, jwe.Key{ID: "k1", Secret: secret(1)})
	tok := encrypt(b, c, bytes.Repeat([]byte("x"), 400))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decrypt(tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendDecrypt decrypts into a reused buffer, as Authenticate
// does: no allocation.
func BenchmarkAppendDecrypt(b *testing.B) {
	c := newCipher(b, jwe.Key{ID: "k1", Secret: secret(1)})
	tok := encrypt(b, c, bytes.Repeat([]byte("x"), 400))
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = c.AppendDecrypt(buf[:0], tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncrypt(b *testing.B) {
	c := newCipher(b, jwe.Key{ID: "k1", Secret: secret(1)})
	pt := bytes.Repeat([]byte("x"), 400)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encrypt(pt); err != nil {
			b.Fatal(err)
		}
	}
}
