package domain_test

import (
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
)

func TestIPBindingAllows(t *testing.T) {
	a := netip.MustParseAddr
	tests := []struct {
		name          string
		binding       domain.IPBinding
		bound, actual netip.Addr
		want          bool
	}{
		{"strict same", domain.IPStrict, a("203.0.113.7"), a("203.0.113.7"), true},
		{"strict other", domain.IPStrict, a("203.0.113.7"), a("203.0.113.8"), false},
		{"strict v4-mapped v6 equals v4", domain.IPStrict, a("203.0.113.7"), a("::ffff:203.0.113.7"), true},
		{"strict invalid actual", domain.IPStrict, a("203.0.113.7"), netip.Addr{}, false},
		{"strict invalid bound", domain.IPStrict, netip.Addr{}, a("203.0.113.7"), false},
		{"subnet same /24", domain.IPSubnet, a("203.0.113.7"), a("203.0.113.250"), true},
		{"subnet other /24", domain.IPSubnet, a("203.0.113.7"), a("203.0.114.7"), false},
		{"subnet same /64", domain.IPSubnet, a("2001:db8:1:2::1"), a("2001:db8:1:2:ffff::9"), true},
		{"subnet other /64", domain.IPSubnet, a("2001:db8:1:2::1"), a("2001:db8:1:3::1"), false},
		{"subnet family change", domain.IPSubnet, a("203.0.113.7"), a("2001:db8::1"), false},
		{"off anything", domain.IPOff, a("203.0.113.7"), a("198.51.100.1"), true},
		{"off invalid", domain.IPOff, netip.Addr{}, netip.Addr{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.binding.Allows(tt.bound, tt.actual))
		})
	}
}

func TestParsers(t *testing.T) {
	_, err := domain.ParseIPBinding("loose")
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	_, err = domain.ParseLimitAction("kick")
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	_, err = domain.ParseTokenType("id")
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	typ, err := domain.ParseTokenType("refresh")
	require.NoError(t, err)
	assert.Equal(t, domain.Refresh, typ)
}

func TestSessionActive(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := domain.Session{CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(time.Hour)}
	assert.True(t, s.Active(t0.Add(59*time.Minute), 0))
	assert.False(t, s.Active(t0.Add(time.Hour), 0), "absolute expiry")
	assert.True(t, s.Active(t0.Add(9*time.Minute), 10*time.Minute))
	assert.False(t, s.Active(t0.Add(10*time.Minute), 10*time.Minute), "idle timeout")
	s.RevokedAt = t0
	assert.False(t, s.Active(t0, 0), "revoked")
}

func TestDevicePolicyDecide(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sess := func(id, dev string, seen int) domain.Session {
		return domain.Session{ID: id, DeviceID: dev, CreatedAt: t0, LastSeenAt: t0.Add(time.Duration(seen) * time.Minute)}
	}
	three := []domain.Session{sess("s1", "d1", 5), sess("s2", "d2", 1), sess("s3", "d3", 9)}
	tests := []struct {
		name    string
		policy  domain.DevicePolicy
		active  []domain.Session
		device  string
		want    domain.LoginDecision
		wantErr error
	}{
		{"no limit", domain.DevicePolicy{}, three, "d4", domain.LoginDecision{}, nil},
		{"under limit", domain.DevicePolicy{Limit: 4}, three, "d4", domain.LoginDecision{}, nil},
		{"evict least recently seen", domain.DevicePolicy{Limit: 3, OnLimit: domain.EvictOldest}, three, "d4",
			domain.LoginDecision{Revoke: []string{"s2"}}, nil},
		{"default action evicts", domain.DevicePolicy{Limit: 3}, three, "d4",
			domain.LoginDecision{Revoke: []string{"s2"}}, nil},
		{"evict down to limit after limit lowered", domain.DevicePolicy{Limit: 1}, three, "d4",
			domain.LoginDecision{Revoke: []string{"s2", "s1", "s3"}}, nil},
		{"reject", domain.DevicePolicy{Limit: 3, OnLimit: domain.Reject}, three, "d4", domain.LoginDecision{}, domain.ErrDeviceLimitReached},
		{"revoke all", domain.DevicePolicy{Limit: 3, OnLimit: domain.RevokeAll}, three, "d4",
			domain.LoginDecision{Revoke: []string{"s1", "s2", "s3"}, RotateGenerations: true}, nil},
		{"same device replaces, no slot taken (reject)", domain.DevicePolicy{Limit: 3, OnLimit: domain.Reject}, three, "d2",
			domain.LoginDecision{Revoke: []string{"s2"}}, nil},
		{"same device replaces, nobody evicted", domain.DevicePolicy{Limit: 3}, three, "d3",
			domain.LoginDecision{Revoke: []string{"s3"}}, nil},
		{"same device replaces, no rotation (revoke_all)", domain.DevicePolicy{Limit: 3, OnLimit: domain.RevokeAll}, three, "d1",
			domain.LoginDecision{Revoke: []string{"s1"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.policy.Decide(tt.active, tt.device)
			if tt.wantErr != nil {
				assert.True(t, errors.Is(err, tt.wantErr), "got %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNewGenerationIsUUIDv4(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		g := domain.NewGeneration()
		require.Regexp(t, re, g)
		require.False(t, seen[g])
		seen[g] = true
	}
	assert.NotEqual(t, domain.NewID(), domain.NewID())
}

func TestTokenCheck(t *testing.T) {
	for _, tt := range []struct {
		tok domain.Token
		ok  bool
	}{
		{"a.b.c", true},
		{domain.Token(strings.Repeat("a", domain.MaxTokenLen)), true},
		{"", false},
		{domain.Token(strings.Repeat("a", domain.MaxTokenLen+1)), false},
		{"a b", false},
		{"a\tb", false},
		{"a\x7fb", false},
		{"a\xffb", false},
	} {
		err := tt.tok.Check()
		if tt.ok != (err == nil) {
			t.Errorf("Check(%.20q) = %v", tt.tok, err)
		}
		if err != nil && !errors.Is(err, domain.ErrMalformed) {
			t.Errorf("Check(%.20q) = %v, want domain.ErrMalformed", tt.tok, err)
		}
	}
}

func TestUserAuthGeneration(t *testing.T) {
	u := domain.UserAuth{AccessGeneration: "a", RefreshGeneration: "r"}
	if u.Generation(domain.Access) != "a" || u.Generation(domain.Refresh) != "r" || u.Generation("x") != "" {
		t.Errorf("Generation: %q %q %q", u.Generation(domain.Access), u.Generation(domain.Refresh), u.Generation("x"))
	}
}

// TestTokenCheckEveryByte puts every byte value at every position of
// tokens of several lengths (the word-at-a-time loop and its tail) and
// next to every other: Check accepts exactly 0x21..0x7e.
func TestTokenCheckEveryByte(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 24, 33} {
		for pos := range n {
			for b := range 256 {
				for _, fill := range []byte{'a', 0x21, 0x7e} {
					tok := []byte(strings.Repeat(string(fill), n))
					tok[pos] = byte(b)
					want := b > 0x20 && b < 0x7f
					if got := domain.Token(tok).Check() == nil; got != want {
						t.Fatalf("Check(%q) ok = %v, want %v", tok, got, want)
					}
				}
			}
		}
	}
	for a := range 256 {
		for b := range 256 {
			tok := []byte("aaaaaaaa")
			tok[3], tok[4] = byte(a), byte(b)
			want := a > 0x20 && a < 0x7f && b > 0x20 && b < 0x7f
			if got := domain.Token(tok).Check() == nil; got != want {
				t.Fatalf("Check(%q) ok = %v, want %v", tok, got, want)
			}
		}
	}
}
