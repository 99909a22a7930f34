package floor_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/floor"
)

// The floor does the real work: it accepts a jwtauth token and refuses
// one with its ciphertext changed or under another key.
func TestCheck(t *testing.T) {
	signKey, encKey := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	codec, err := jwtcodec.New(jwtcodec.Config{Method: "HS256", Key: signKey})
	require.NoError(t, err)
	cph, err := jwe.New(jwe.Key{ID: "k1", Secret: encKey})
	require.NoError(t, err)
	jws, err := codec.Sign(domain.Claims{Subject: "alice", Type: domain.Access, SessionID: "s1", Generation: "g1",
		ID: "j1", ExpiresAt: time.Now().Add(time.Hour)}, nil)
	require.NoError(t, err)
	tok, err := cph.Encrypt([]byte(jws))
	require.NoError(t, err)

	f, err := floor.New(encKey, signKey)
	require.NoError(t, err)
	require.NoError(t, f.Check(tok))
	// Every byte of the ciphertext but its last, whose low bits may be
	// base64 padding the floor's (non-strict) decoder ignores.
	ct := strings.LastIndexByte(tok, '.')
	start := strings.LastIndexByte(tok[:ct], '.') + 1
	for i := start; i < ct-1; i++ {
		b := []byte(tok)
		b[i] ^= 1
		require.Error(t, f.Check(string(b)), "byte %d", i)
	}
	other, err := floor.New(encKey, bytes.Repeat([]byte{3}, 32))
	require.NoError(t, err)
	require.Error(t, other.Check(tok), "another signing key")
}
