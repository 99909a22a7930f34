package app_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/adapters/jwtcodec"
	"github.com/jwtauth/jwtauth/adapters/memory"
	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// User is the application's user claims type in these tests.
type User struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingStore counts the calls that reach the store.
type countingStore struct {
	ports.Store
	calls atomic.Int64
}

func (s *countingStore) Generation(ctx context.Context, u string, t domain.TokenType) (string, error) {
	s.calls.Add(1)
	return s.Store.Generation(ctx, u, t)
}

func (s *countingStore) Session(ctx context.Context, id string) (domain.Session, error) {
	s.calls.Add(1)
	return s.Store.Session(ctx, id)
}

type fixture struct {
	svc   *app.Service[User]
	store *countingStore
	clock *clock
	users map[string]User
	deps  app.Deps[User]
	cfg   app.Config
}

func key(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

var (
	alice  = domain.ClientInfo{IP: netip.MustParseAddr("203.0.113.7"), DeviceID: "laptop", DeviceName: "Firefox"}
	phone  = domain.ClientInfo{IP: netip.MustParseAddr("203.0.113.7"), DeviceID: "phone", DeviceName: "Safari"}
	tablet = domain.ClientInfo{IP: netip.MustParseAddr("198.51.100.4"), DeviceID: "tablet", DeviceName: "Chrome"}
)

func newFixture(t testing.TB, mutate func(*app.Config)) *fixture {
	t.Helper()
	clk := &clock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	codec, err := jwtcodec.New(jwtcodec.Config{Method: "HS256", Key: key(t), Now: clk.Now})
	require.NoError(t, err)
	cipher, err := jwe.New(jwe.Key{ID: "k1", Secret: key(t)})
	require.NoError(t, err)
	bus := &memory.Bus{}
	f := &fixture{
		store: &countingStore{Store: memory.NewStore(bus)},
		clock: clk,
		users: map[string]User{"alice": {Name: "Alice", Role: "admin"}, "bob": {Name: "Bob", Role: "user"}},
	}
	f.cfg = app.Config{Now: clk.Now}
	if mutate != nil {
		mutate(&f.cfg)
	}
	f.deps = app.Deps[User]{
		Store:  f.store,
		Codec:  codec,
		Cipher: cipher,
		Cache:  &memory.Cache{},
		Bus:    bus,
		Users: ports.UserLoaderFunc[User](func(_ context.Context, id string) (User, error) {
			u, ok := f.users[id]
			if !ok {
				return User{}, domain.ErrRevoked
			}
			return u, nil
		}),
	}
	f.svc, err = app.New(f.cfg, f.deps)
	require.NoError(t, err)
	return f
}

func (f *fixture) login(t testing.TB, user string, c domain.ClientInfo) app.Pair {
	t.Helper()
	p, err := f.svc.Login(context.Background(), user, f.users[user], c)
	require.NoError(t, err)
	require.NotEmpty(t, p.AccessToken)
	require.NotEmpty(t, p.RefreshToken)
	return p
}

func TestLoginAuthenticate(t *testing.T) {
	for _, fromToken := range []bool{false, true} {
		f := newFixture(t, func(c *app.Config) { c.UserFromToken = fromToken })
		ctx := context.Background()
		pair := f.login(t, "alice", alice)
		p, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
		require.NoError(t, err)
		assert.Equal(t, "alice", p.UserID)
		assert.Equal(t, pair.SessionID, p.SessionID)
		assert.Equal(t, User{Name: "Alice", Role: "admin"}, p.User)
		assert.Equal(t, domain.Access, p.Claims.Type)
		assert.Equal(t, f.clock.Now().Add(10*time.Minute), pair.AccessExpiresAt)
		assert.Equal(t, f.clock.Now().Add(720*time.Hour), pair.RefreshExpiresAt)
	}
}

func TestUserFromTokenNeedsNoLoader(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.UserFromToken = true })
	pair := f.login(t, "alice", alice)
	delete(f.users, "alice") // a loader call would now fail
	p, err := f.svc.Authenticate(context.Background(), pair.AccessToken, alice)
	require.NoError(t, err)
	assert.Equal(t, "admin", p.User.Role)
}

func TestWrongTokenTypeBothWays(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	pair := f.login(t, "alice", alice)
	_, err := f.svc.Authenticate(ctx, pair.RefreshToken, alice)
	assert.ErrorIs(t, err, domain.ErrWrongTokenType, "refresh token as access token")
	_, err = f.svc.Refresh(ctx, pair.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrWrongTokenType, "access token as refresh token")
}

func TestInvalidateRotatesExactlyThatUsersType(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	a := f.login(t, "alice", alice)
	b := f.login(t, "bob", phone)
	// Warm the cache so that invalidation must evict it.
	_, err := f.svc.Authenticate(ctx, a.AccessToken, alice)
	require.NoError(t, err)

	require.NoError(t, f.svc.Invalidate(ctx, "alice", domain.Access))
	_, err = f.svc.Authenticate(ctx, a.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrRevoked, "alice's access token")
	_, err = f.svc.Authenticate(ctx, b.AccessToken, phone)
	assert.NoError(t, err, "bob's access token is untouched")
	typ, err := f.svc.Verify(ctx, a.RefreshToken, alice)
	assert.NoError(t, err, "alice's refresh token is untouched")
	assert.Equal(t, domain.Refresh, typ)

	// Refreshing yields an access token of the new generation.
	fresh, err := f.svc.Refresh(ctx, a.RefreshToken, alice)
	require.NoError(t, err)
	_, err = f.svc.Authenticate(ctx, fresh.AccessToken, alice)
	require.NoError(t, err)

	require.NoError(t, f.svc.Invalidate(ctx, "alice", domain.Refresh))
	_, err = f.svc.Refresh(ctx, a.RefreshToken, alice)
	assert.ErrorIs(t, err, domain.ErrRevoked, "alice's refresh token")
	_, err = f.svc.Authenticate(ctx, fresh.AccessToken, alice)
	assert.NoError(t, err, "rotating refresh leaves access tokens valid")
	_, err = f.svc.Refresh(ctx, b.RefreshToken, phone)
	assert.NoError(t, err, "bob's refresh token is untouched")

	assert.ErrorIs(t, f.svc.Invalidate(ctx, "alice", "id"), domain.ErrInvalidArgument)
	assert.ErrorIs(t, f.svc.Invalidate(ctx, "", domain.Access), domain.ErrInvalidArgument)
}

func TestIPBinding(t *testing.T) {
	sameSubnet := alice
	sameSubnet.IP = netip.MustParseAddr("203.0.113.200")
	otherNet := alice
	otherNet.IP = netip.MustParseAddr("192.0.2.1")
	tests := []struct {
		name    string
		binding domain.IPBinding
		client  domain.ClientInfo
		wantErr error
	}{
		{"strict same ip", domain.IPStrict, alice, nil},
		{"strict same subnet", domain.IPStrict, sameSubnet, domain.ErrClientMismatch},
		{"subnet same subnet", domain.IPSubnet, sameSubnet, nil},
		{"subnet other network", domain.IPSubnet, otherNet, domain.ErrClientMismatch},
		{"off other network", domain.IPOff, otherNet, nil},
		{"default is strict", "", sameSubnet, domain.ErrClientMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *app.Config) { c.IPBinding = tt.binding })
			pair := f.login(t, "alice", alice)
			_, err := f.svc.Authenticate(context.Background(), pair.AccessToken, tt.client)
			if tt.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.wantErr)
			}
		})
	}
}

func TestDeviceBinding(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	pair := f.login(t, "alice", alice)
	thief := alice
	thief.DeviceID = "other-device"
	_, err := f.svc.Authenticate(ctx, pair.AccessToken, thief)
	assert.ErrorIs(t, err, domain.ErrClientMismatch)
	_, err = f.svc.Refresh(ctx, pair.RefreshToken, thief)
	assert.ErrorIs(t, err, domain.ErrClientMismatch)
	_, err = f.svc.Verify(ctx, pair.RefreshToken, thief)
	assert.ErrorIs(t, err, domain.ErrClientMismatch)

	// Refresh tokens are bound to the device, not the IP: a new IP gets a
	// new access token bound to it.
	moved := alice
	moved.IP = netip.MustParseAddr("192.0.2.99")
	fresh, err := f.svc.Refresh(ctx, pair.RefreshToken, moved)
	require.NoError(t, err)
	_, err = f.svc.Authenticate(ctx, fresh.AccessToken, moved)
	assert.NoError(t, err)
}

func TestExpiryAndNotBefore(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	pair := f.login(t, "alice", alice)

	f.clock.Add(-time.Minute) // token's nbf and iat are now in the future
	_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrInvalid, "not yet valid")

	f.clock.Add(time.Minute + 9*time.Minute)
	_, err = f.svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err, "valid until exp")

	f.clock.Add(time.Minute + 6*time.Second) // past exp and the 5s leeway
	_, err = f.svc.Authenticate(ctx, pair.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrExpired)

	_, err = f.svc.Refresh(ctx, pair.RefreshToken, alice)
	assert.NoError(t, err, "refresh token lives longer")
}

func TestSessionMaxAgeAndIdleTimeout(t *testing.T) {
	t.Run("max age is not extended by refresh", func(t *testing.T) {
		f := newFixture(t, func(c *app.Config) { c.SessionMaxAge = time.Hour; c.RotateRefresh = true })
		ctx := context.Background()
		pair := f.login(t, "alice", alice)
		f.clock.Add(50 * time.Minute)
		next, err := f.svc.Refresh(ctx, pair.RefreshToken, alice)
		require.NoError(t, err)
		assert.Equal(t, f.clock.Now().Add(10*time.Minute), next.RefreshExpiresAt, "capped at the session's end")
		f.clock.Add(10 * time.Minute)
		_, err = f.svc.Refresh(ctx, next.RefreshToken, alice)
		assert.True(t, errors.Is(err, domain.ErrExpired) || errors.Is(err, domain.ErrRevoked), "got %v", err)
		sessions, err := f.svc.Sessions(ctx, "alice")
		require.NoError(t, err)
		assert.Empty(t, sessions)
	})
	t.Run("idle timeout", func(t *testing.T) {
		f := newFixture(t, func(c *app.Config) { c.IdleTimeout = 30 * time.Minute })
		ctx := context.Background()
		pair := f.login(t, "alice", alice)
		f.clock.Add(29 * time.Minute)
		_, err := f.svc.Refresh(ctx, pair.RefreshToken, alice)
		require.NoError(t, err, "seen within the idle timeout")
		f.clock.Add(29 * time.Minute)
		_, err = f.svc.Refresh(ctx, pair.RefreshToken, alice)
		require.NoError(t, err, "the refresh reset the idle clock")
		f.clock.Add(31 * time.Minute)
		_, err = f.svc.Refresh(ctx, pair.RefreshToken, alice)
		assert.ErrorIs(t, err, domain.ErrExpired)
	})
}

func TestRefreshRotationAndReuse(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.RotateRefresh = true; c.ReuseGrace = 10 * time.Second })
	ctx := context.Background()
	first := f.login(t, "alice", alice)

	second, err := f.svc.Refresh(ctx, first.RefreshToken, alice)
	require.NoError(t, err)
	require.NotEmpty(t, second.RefreshToken, "rotation issues a new refresh token")
	assert.Equal(t, first.SessionID, second.SessionID)

	// A second tab presenting the previous token inside the grace interval.
	f.clock.Add(5 * time.Second)
	tab, err := f.svc.Refresh(ctx, first.RefreshToken, alice)
	require.NoError(t, err, "previous token inside the grace interval")
	require.NotEmpty(t, tab.RefreshToken)

	third, err := f.svc.Refresh(ctx, second.RefreshToken, alice)
	require.NoError(t, err)

	// After the grace interval the old token is reuse: the session dies.
	f.clock.Add(11 * time.Second)
	_, err = f.svc.Refresh(ctx, second.RefreshToken, alice)
	assert.ErrorIs(t, err, domain.ErrRefreshReused)
	_, err = f.svc.Refresh(ctx, third.RefreshToken, alice)
	assert.ErrorIs(t, err, domain.ErrRevoked, "the current token died with the session")
	_, err = f.svc.Authenticate(ctx, third.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrRevoked, "so did the access token")
}

func TestRefreshReuseOfOlderTokenInsideGrace(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.RotateRefresh = true })
	ctx := context.Background()
	first := f.login(t, "alice", alice)
	second, err := f.svc.Refresh(ctx, first.RefreshToken, alice)
	require.NoError(t, err)
	_, err = f.svc.Refresh(ctx, second.RefreshToken, alice)
	require.NoError(t, err)
	// Two rotations behind is reuse even inside the grace interval.
	_, err = f.svc.Refresh(ctx, first.RefreshToken, alice)
	assert.ErrorIs(t, err, domain.ErrRefreshReused)
}

func TestRefreshWithoutRotation(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	pair := f.login(t, "alice", alice)
	for range 3 {
		next, err := f.svc.Refresh(ctx, pair.RefreshToken, alice)
		require.NoError(t, err)
		assert.Empty(t, next.RefreshToken)
		_, err = f.svc.Authenticate(ctx, next.AccessToken, alice)
		require.NoError(t, err)
	}
}

func TestRefreshLoadsFreshUserClaims(t *testing.T) {
	f := newFixture(t, func(c *app.Config) { c.UserFromToken = true })
	ctx := context.Background()
	pair := f.login(t, "alice", alice)
	// The seed's story: alice stops being an admin.
	f.users["alice"] = User{Name: "Alice", Role: "user"}
	require.NoError(t, f.svc.Invalidate(ctx, "alice", domain.Access))
	_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
	require.ErrorIs(t, err, domain.ErrRevoked)
	next, err := f.svc.Refresh(ctx, pair.RefreshToken, alice)
	require.NoError(t, err)
	p, err := f.svc.Authenticate(ctx, next.AccessToken, alice)
	require.NoError(t, err)
	assert.Equal(t, "user", p.User.Role)
}

func TestEveryTamperedByteIsRejected(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	tok := f.login(t, "alice", alice).AccessToken
	for i := range len(tok) {
		for _, c := range []byte{'A', '_', '.', 0xff} {
			if tok[i] == c {
				continue
			}
			b := []byte(tok)
			b[i] = c
			_, err := f.svc.Authenticate(ctx, string(b), alice)
			require.Error(t, err, "byte %d set to %q", i, c)
			require.True(t, errors.Is(err, domain.ErrMalformed) || errors.Is(err, domain.ErrInvalid), "byte %d: %v", i, err)
		}
	}
}

func TestUnknownKeyID(t *testing.T) {
	f := newFixture(t, nil)
	pair := f.login(t, "alice", alice)
	other, err := jwe.New(jwe.Key{ID: "k2", Secret: key(t)})
	require.NoError(t, err)
	deps := f.deps
	deps.Cipher = other
	svc, err := app.New(f.cfg, deps)
	require.NoError(t, err)
	_, err = svc.Authenticate(context.Background(), pair.AccessToken, alice)
	assert.ErrorIs(t, err, domain.ErrInvalid)
}

func TestKeyRotationKeepsSessions(t *testing.T) {
	f := newFixture(t, nil)
	old := key(t)
	oldCipher, err := jwe.New(jwe.Key{ID: "old", Secret: old})
	require.NoError(t, err)
	deps := f.deps
	deps.Cipher = oldCipher
	svc, err := app.New(f.cfg, deps)
	require.NoError(t, err)
	pair, err := svc.Login(context.Background(), "alice", f.users["alice"], alice)
	require.NoError(t, err)

	ring, err := jwe.New(jwe.Key{ID: "new", Secret: key(t)}, jwe.Key{ID: "old", Secret: old})
	require.NoError(t, err)
	deps.Cipher = ring
	svc, err = app.New(f.cfg, deps)
	require.NoError(t, err)
	_, err = svc.Authenticate(context.Background(), pair.AccessToken, alice)
	assert.NoError(t, err)
}

func TestAlgNoneRejected(t *testing.T) {
	f := newFixture(t, nil)
	deps := f.deps
	deps.Cipher = nil // plain JWS deployments must reject alg none too
	svc, err := app.New(f.cfg, deps)
	require.NoError(t, err)
	pair, err := svc.Login(context.Background(), "alice", f.users["alice"], alice)
	require.NoError(t, err)
	_, err = svc.Authenticate(context.Background(), pair.AccessToken, alice)
	require.NoError(t, err)

	enc := base64.RawURLEncoding
	parts := splitDots(pair.AccessToken)
	require.Len(t, parts, 3)
	for _, alg := range []string{"none", "None", "NONE"} {
		header := enc.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
		for _, sig := range []string{"", parts[2]} {
			forged := header + "." + parts[1] + "." + sig
			_, err = svc.Authenticate(context.Background(), forged, alice)
			assert.ErrorIs(t, err, domain.ErrInvalid, "alg %s sig %q", alg, sig)
		}
	}
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func TestGarbageInput(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	huge := make([]byte, 1<<20)
	for i := range huge {
		huge[i] = 'a'
	}
	inputs := []string{"", ".", "....", "a.b.c.d.e", "\xff\xfe\x00", string(huge), "eyJ.eyJ.eyJ.eyJ.eyJ", "Bearer x"}
	for _, in := range inputs {
		_, err := f.svc.Authenticate(ctx, in, alice)
		assert.True(t, errors.Is(err, domain.ErrMalformed) || errors.Is(err, domain.ErrInvalid), "%.20q: %v", in, err)
		_, err = f.svc.Refresh(ctx, in, alice)
		assert.True(t, errors.Is(err, domain.ErrMalformed) || errors.Is(err, domain.ErrInvalid), "%.20q: %v", in, err)
		_, err = f.svc.Verify(ctx, in, alice)
		assert.True(t, errors.Is(err, domain.ErrMalformed) || errors.Is(err, domain.ErrInvalid), "%.20q: %v", in, err)
	}
	_, err := f.svc.Login(ctx, "", User{}, alice)
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	_, err = f.svc.Login(ctx, "\xff", User{}, alice)
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	_, err = f.svc.Login(ctx, string(huge), User{}, alice)
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	// A newline would split the user's keys on a "\n"-joined bus.
	for _, id := range []string{"al\nice", "alice\x00", "\x7f"} {
		_, err = f.svc.Login(ctx, id, User{}, alice)
		assert.ErrorIs(t, err, domain.ErrInvalidArgument, "%q", id)
		assert.ErrorIs(t, f.svc.LogoutAll(ctx, id), domain.ErrInvalidArgument, "%q", id)
	}
	long := alice
	long.DeviceID = string(huge)
	_, err = f.svc.Login(ctx, "alice", User{}, long)
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	long = alice
	long.DeviceName = string(huge) + "\xff"
	_, err = f.svc.Login(ctx, "alice", User{}, long)
	assert.NoError(t, err, "device names are truncated, not rejected")
}

// TestInvisibleBytesAreMalformed holds decode's shortcut to its promise:
// with jwe it skips domain.Token.Check, so a byte Check refuses, anywhere
// in a real token, must still be refused as malformed, inserted as well
// as replaced. encoding/base64 skips CR and LF, so those are inserted at
// every position of tokens whose segments have every length modulo 4
// (subjects of 1 to 4 bytes): one spelling per token.
func TestInvisibleBytesAreMalformed(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	var refused []byte
	for c := range 256 {
		if domain.Token([]byte{byte(c)}).Check() != nil {
			refused = append(refused, byte(c))
		}
	}
	require.Len(t, refused, 256-94, "Check refuses all but the 94 visible ASCII bytes")
	check := func(bad string, what string) {
		t.Helper()
		_, err := f.svc.Authenticate(ctx, bad, alice)
		require.ErrorIs(t, err, domain.ErrMalformed, what)
		_, err = f.svc.Verify(ctx, bad, alice)
		require.ErrorIs(t, err, domain.ErrMalformed, what)
	}
	for _, user := range []string{"a", "ab", "abc", "abcd"} {
		f.users[user] = User{Name: user}
		tok := f.login(t, user, alice).AccessToken
		for i := 0; i <= len(tok); i++ {
			for _, c := range "\r\n" {
				check(tok[:i]+string(c)+tok[i:], fmt.Sprintf("%q inserted at %d of %s's token", c, i, user))
			}
		}
		for _, i := range []int{0, 10, strings.IndexByte(tok, '.'), len(tok) / 2, len(tok) - 1, len(tok)} {
			for _, c := range refused {
				replaced := []byte(tok)
				if i < len(tok) {
					replaced[i] = c
				} else {
					replaced = append(replaced, c)
				}
				check(string(replaced), fmt.Sprintf("byte %#x at %d", c, i))
				check(tok[:i]+string(c)+tok[i:], fmt.Sprintf("byte %#x inserted at %d", c, i))
			}
		}
	}
}

// RolesUser has a slice: its claims are decoded for every request, never
// shared between principals.
type RolesUser struct {
	Roles []string `json:"roles"`
}

func TestUserFromTokenSharesNothingMutable(t *testing.T) {
	codec, err := jwtcodec.New(jwtcodec.Config{Key: key(t)})
	require.NoError(t, err)
	svc, err := app.New(app.Config{UserFromToken: true}, app.Deps[RolesUser]{Store: memory.NewStore(nil), Codec: codec, Cache: &memory.Cache{}})
	require.NoError(t, err)
	ctx := context.Background()
	pair, err := svc.Login(ctx, "alice", RolesUser{Roles: []string{"admin"}}, alice)
	require.NoError(t, err)
	p1, err := svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err)
	p1.User.Roles[0] = "mutated"
	p2, err := svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err)
	assert.Equal(t, []string{"admin"}, p2.User.Roles)
}
