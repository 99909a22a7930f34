package floor_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/floor"
)

// The floor does the real work: it accepts a jwtauth token and refuses
// one with any byte changed.
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
	for i := range len(tok) {
		b := []byte(tok)
		b[i] ^= 1
		require.Error(t, f.Check(string(b)), "byte %d", i)
	}
	other, err := floor.New(encKey, bytes.Repeat([]byte{3}, 32))
	require.NoError(t, err)
	require.Error(t, other.Check(tok), "another signing key")
}
