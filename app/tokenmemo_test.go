package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// countingCipher counts decryptions. It has no AppendDecrypt, so every
// token the Service decodes goes through Decrypt.
type countingCipher struct {
	ports.Cipher
	decrypts atomic.Int64
}

func (c *countingCipher) Decrypt(token string) ([]byte, error) {
	c.decrypts.Add(1)
	return c.Cipher.Decrypt(token)
}

// memoFixture is newFixture whose cipher counts decryptions.
func memoFixture(t *testing.T, mutate func(*app.Config)) (*fixture, *countingCipher) {
	t.Helper()
	f := newFixture(t, mutate)
	cc := &countingCipher{Cipher: f.deps.Cipher}
	f.deps.Cipher = cc
	var err error
	f.svc, err = app.New(f.cfg, f.deps)
	require.NoError(t, err)
	return f, cc
}

func TestTokenMemoSkipsDecodingARepeatedToken(t *testing.T) {
	f, cc := memoFixture(t, nil)
	ctx := context.Background()
	tok := f.login(t, "alice", alice).AccessToken
	for range 5 {
		p, err := f.svc.Authenticate(ctx, tok, alice)
		require.NoError(t, err)
		assert.Equal(t, "alice", p.UserID)
		assert.Equal(t, User{Name: "Alice", Role: "admin"}, p.User)
	}
	assert.EqualValues(t, 1, cc.decrypts.Load(), "decoded once, then remembered")

	off, offCC := memoFixture(t, func(c *app.Config) { c.TokenMemo = -1 })
	tok = off.login(t, "alice", alice).AccessToken
	for range 5 {
		_, err := off.svc.Authenticate(ctx, tok, alice)
		require.NoError(t, err)
	}
	assert.EqualValues(t, 5, offCC.decrypts.Load(), "TokenMemo < 0 turns it off")
}

// A remembered token is checked like any other on every request: what
// the memo skips is only what cannot change.
func TestTokenMemoHitIsCheckedEveryTime(t *testing.T) {
	ctx := context.Background()
	remembered := func(t *testing.T) (*fixture, app.Pair) {
		f, cc := memoFixture(t, nil)
		pair := f.login(t, "alice", alice)
		_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
		require.NoError(t, err)
		require.EqualValues(t, 1, cc.decrypts.Load())
		return f, pair
	}
	t.Run("expiry", func(t *testing.T) {
		f, pair := remembered(t)
		f.clock.Add(pair.AccessExpiresAt.Sub(f.clock.Now()))
		_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
		assert.ErrorIs(t, err, domain.ErrExpired, "exactly at exp")
	})
	t.Run("other IP", func(t *testing.T) {
		f, pair := remembered(t)
		_, err := f.svc.Authenticate(ctx, pair.AccessToken, tablet)
		assert.ErrorIs(t, err, domain.ErrClientMismatch)
	})
	t.Run("other device", func(t *testing.T) {
		f, pair := remembered(t)
		_, err := f.svc.Authenticate(ctx, pair.AccessToken, phone)
		assert.ErrorIs(t, err, domain.ErrClientMismatch)
	})
	t.Run("logout", func(t *testing.T) {
		f, pair := remembered(t)
		require.NoError(t, f.svc.Logout(ctx, pair.SessionID))
		_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
		assert.ErrorIs(t, err, domain.ErrRevoked)
	})
	t.Run("generation rotated", func(t *testing.T) {
		f, pair := remembered(t)
		require.NoError(t, f.svc.Invalidate(ctx, "alice", domain.Access))
		_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
		assert.ErrorIs(t, err, domain.ErrRevoked)
	})
	t.Run("every tampered byte", func(t *testing.T) {
		f, pair := remembered(t)
		tok := pair.AccessToken
		for i := range len(tok) {
			b := []byte(tok)
			b[i] ^= 1
			_, err := f.svc.Authenticate(ctx, string(b), alice)
			require.Error(t, err, "byte %d", i)
			require.True(t, errorsIsAny(err, domain.ErrMalformed, domain.ErrInvalid), "byte %d: %v", i, err)
		}
		for _, bad := range []string{tok[:len(tok)-1], tok + "A", tok + tok} {
			_, err := f.svc.Authenticate(ctx, bad, alice)
			require.Error(t, err)
		}
	})
	t.Run("refresh token never served", func(t *testing.T) {
		f, pair := remembered(t)
		_, err := f.svc.Authenticate(ctx, pair.RefreshToken, alice)
		assert.ErrorIs(t, err, domain.ErrWrongTokenType)
	})
}

// A token the memo refused by the clock is decoded again, so the codec's
// own rules (its leeway on nbf and iat) decide.
func TestTokenMemoLeavesTheLeewayToTheCodec(t *testing.T) {
	f, cc := memoFixture(t, nil)
	ctx := context.Background()
	tok := f.login(t, "alice", alice).AccessToken
	_, err := f.svc.Authenticate(ctx, tok, alice)
	require.NoError(t, err)
	f.clock.Add(-time.Second) // before iat and nbf, within the codec's leeway
	_, err = f.svc.Authenticate(ctx, tok, alice)
	require.NoError(t, err)
	assert.EqualValues(t, 2, cc.decrypts.Load(), "decoded again, and accepted by the codec")
}

// Many goroutines authenticating more tokens than the memo has slots:
// slots are replaced under their feet, and every answer is still the
// token's own principal.
func TestTokenMemoConcurrentSlotReplacement(t *testing.T) {
	f, _ := memoFixture(t, func(c *app.Config) { c.TokenMemo = 3 })
	ctx := context.Background()
	const users = 12
	toks := make([]string, users)
	for i := range users {
		id := fmt.Sprintf("user%02d", i)
		f.users[id] = User{Name: id}
		pair, err := f.svc.Login(ctx, id, f.users[id], alice)
		require.NoError(t, err)
		toks[i] = pair.AccessToken
	}
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for g := range 16 {
		wg.Go(func() {
			for n := range 300 {
				i := (g + n) % users
				p, err := f.svc.Authenticate(ctx, toks[i], alice)
				if err != nil || p.UserID != fmt.Sprintf("user%02d", i) || p.User.Name != p.UserID {
					wrong.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, wrong.Load())
}

// With user claims taken from the token, only plain-data claims are
// remembered: others could be changed by one principal's holder under
// another's feet.
func TestTokenMemoSharesNothingMutable(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.UserFromToken = true; c.Audience = []string{"api"} })
	ctx := context.Background()
	tok := f.login(t, "alice", alice).AccessToken
	p1, err := f.svc.Authenticate(ctx, tok, alice)
	require.NoError(t, err)
	p1.Claims.Audience[0] = "mutated"
	p2, err := f.svc.Authenticate(ctx, tok, alice)
	require.NoError(t, err)
	assert.Equal(t, []string{"api"}, p2.Claims.Audience)
	p2.Claims.Audience[0] = "mutated"
	p3, err := f.svc.Authenticate(ctx, tok, alice)
	require.NoError(t, err)
	assert.Equal(t, []string{"api"}, p3.Claims.Audience)
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
