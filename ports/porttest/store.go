package porttest

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// NewStore makes a fresh, empty ports.Store for one subtest. The store must
// announce the invalidation keys of every committed change to pub; pub is
// nil in the subtests that do not check announcements, and the store must
// work without one.
type NewStore func(t *testing.T, pub ports.Publisher) ports.Store

// StoreSuite runs the ports.Store contract against the stores newStore
// makes, one fresh store per subtest. Subtests run one after another.
func StoreSuite(t *testing.T, newStore NewStore) {
	t.Helper()
	s := storeSuite{newStore: newStore}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Generation/unknown user has none", s.unknownUser},
		{"UpdateUser/creates generations", s.createsGenerations},
		{"UpdateUser/rotates only the given generation of only that user", s.rotatesGenerations},
		{"UpdateUser/calls fn once", s.callsFnOnce},
		{"UpdateUser/state lists unrevoked sessions, expired included", s.stateSessions},
		{"UpdateUser/fn error writes nothing", s.fnErrorWritesNothing},
		{"Put/round trips every field", s.putRoundTrip},
		{"Put/replaces by id", s.putReplaces},
		{"Put/never revives a revoked session", s.putKeepsRevoked},
		{"Put/never changes a session's DPoP key", s.putKeepsKey},
		{"Revoke/marks revoked", s.revokeMarksRevoked},
		{"Revoke/leaves other users' sessions alone", s.revokeOtherUser},
		{"Session/unknown id is not found", s.sessionNotFound},
		{"Sessions/oldest first", s.sessionsOrdered},
		{"Prune/deletes expired and revoked before the cutoff", s.prune},
		{"Publish/announces committed invalidations", s.publish},
		{"Concurrent/device limit 3 with eviction keeps exactly 3", s.concurrentLimit},
		{"Concurrent/read-modify-write updates serialize", s.concurrentCounter},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

type storeSuite struct{ newStore NewStore }

// base is a fixed instant in a non-UTC zone with nanoseconds, so that
// stores must normalise to UTC and microseconds.
var base = time.Date(2031, 3, 4, 5, 6, 7, 891234567, time.FixedZone("UTC+5:30", 5*3600+1800))

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

var errBoom = errors.New("porttest: boom")

// newSession returns an active session of userID created at created.
func newSession(userID, deviceID string, created time.Time) domain.Session {
	return domain.Session{
		ID:         domain.NewID(),
		UserID:     userID,
		DeviceID:   deviceID,
		DeviceName: "Mozilla/5.0 (" + deviceID + ")",
		IP:         netip.MustParseAddr("198.51.100.23"),
		CreatedAt:  created,
		LastSeenAt: created,
		ExpiresAt:  created.Add(30 * 24 * time.Hour),
	}
}

// apply commits change for userID.
func apply(t *testing.T, s ports.Store, userID string, change ports.UserChange) {
	t.Helper()
	require.NoError(t, s.UpdateUser(t.Context(), userID, func(domain.UserAuth) (ports.UserChange, error) {
		return change, nil
	}))
}

// put stores sessions for userID.
func put(t *testing.T, s ports.Store, userID string, sessions ...domain.Session) {
	t.Helper()
	apply(t, s, userID, ports.UserChange{Put: sessions})
}

// state returns what UpdateUser loads for userID, changing nothing.
func state(t *testing.T, s ports.Store, userID string) domain.UserAuth {
	t.Helper()
	var st domain.UserAuth
	require.NoError(t, s.UpdateUser(t.Context(), userID, func(got domain.UserAuth) (ports.UserChange, error) {
		st = got
		return ports.UserChange{}, nil
	}))
	return st
}

func generations(t *testing.T, s ports.Store, userID string) (access, refresh string) {
	t.Helper()
	var err error
	access, err = s.Generation(t.Context(), userID, domain.Access)
	require.NoError(t, err)
	refresh, err = s.Generation(t.Context(), userID, domain.Refresh)
	require.NoError(t, err)
	return access, refresh
}

func sessionIDs(sessions []domain.Session) []string {
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	return ids
}

func liveIDs(t *testing.T, s ports.Store, userID string) []string {
	t.Helper()
	got, err := s.Sessions(t.Context(), userID)
	require.NoError(t, err)
	return sessionIDs(got)
}

// norm is how a store may return t: UTC, microsecond precision.
func norm(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// assertSession checks that got is want as a store returns it: every
// field equal, times equal at microsecond precision.
func assertSession(t *testing.T, want, got domain.Session) {
	t.Helper()
	times := []struct {
		name      string
		want, got time.Time
	}{
		{"CreatedAt", want.CreatedAt, got.CreatedAt},
		{"LastSeenAt", want.LastSeenAt, got.LastSeenAt},
		{"ExpiresAt", want.ExpiresAt, got.ExpiresAt},
		{"RotatedAt", want.RotatedAt, got.RotatedAt},
		{"RevokedAt", want.RevokedAt, got.RevokedAt},
	}
	for _, tm := range times {
		assert.True(t, norm(tm.want).Equal(norm(tm.got)), "%s: want %v, got %v", tm.name, norm(tm.want), norm(tm.got))
		assert.Equal(t, tm.want.IsZero(), tm.got.IsZero(), "%s zero", tm.name)
	}
	assert.Equal(t, want.IP, got.IP, "IP")
	want.CreatedAt, want.LastSeenAt, want.ExpiresAt, want.RotatedAt, want.RevokedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	got.CreatedAt, got.LastSeenAt, got.ExpiresAt, got.RotatedAt, got.RevokedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	assert.Equal(t, want, got)
}

func (s storeSuite) unknownUser(t *testing.T) {
	st := s.newStore(t, nil)
	for _, typ := range []domain.TokenType{domain.Access, domain.Refresh} {
		gen, err := st.Generation(t.Context(), "nobody", typ)
		require.NoError(t, err)
		assert.Empty(t, gen, "%s generation", typ)
	}
	sessions, err := st.Sessions(t.Context(), "nobody")
	require.NoError(t, err)
	assert.Empty(t, sessions)
}

func (s storeSuite) createsGenerations(t *testing.T) {
	st := s.newStore(t, nil)
	first := state(t, st, "alice")
	assert.Equal(t, "alice", first.UserID)
	assert.Regexp(t, uuidRE, first.AccessGeneration)
	assert.Regexp(t, uuidRE, first.RefreshGeneration)
	assert.NotEqual(t, first.AccessGeneration, first.RefreshGeneration)
	assert.Empty(t, first.Sessions)

	access, refresh := generations(t, st, "alice")
	assert.Equal(t, first.AccessGeneration, access)
	assert.Equal(t, first.RefreshGeneration, refresh)

	second := state(t, st, "alice")
	assert.Equal(t, first.AccessGeneration, second.AccessGeneration, "generations are stable")
	assert.Equal(t, first.RefreshGeneration, second.RefreshGeneration, "generations are stable")

	other := state(t, st, "bob")
	assert.NotEqual(t, first.AccessGeneration, other.AccessGeneration, "each user has its own")
}

func (s storeSuite) rotatesGenerations(t *testing.T) {
	tests := []struct {
		name                   string
		rotateAccess, rotateRe bool
	}{
		{"access", true, false},
		{"refresh", false, true},
		{"both", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.newStore(t, nil)
			before := state(t, st, "alice")
			bob := state(t, st, "bob")

			var change ports.UserChange
			if tt.rotateAccess {
				change.NewAccessGeneration = domain.NewGeneration()
			}
			if tt.rotateRe {
				change.NewRefreshGeneration = domain.NewGeneration()
			}
			apply(t, st, "alice", change)

			wantAccess, wantRefresh := before.AccessGeneration, before.RefreshGeneration
			if tt.rotateAccess {
				wantAccess = change.NewAccessGeneration
			}
			if tt.rotateRe {
				wantRefresh = change.NewRefreshGeneration
			}
			access, refresh := generations(t, st, "alice")
			assert.Equal(t, wantAccess, access, "access")
			assert.Equal(t, wantRefresh, refresh, "refresh")
			after := state(t, st, "alice")
			assert.Equal(t, wantAccess, after.AccessGeneration)
			assert.Equal(t, wantRefresh, after.RefreshGeneration)

			bobAccess, bobRefresh := generations(t, st, "bob")
			assert.Equal(t, bob.AccessGeneration, bobAccess, "another user's access generation")
			assert.Equal(t, bob.RefreshGeneration, bobRefresh, "another user's refresh generation")
		})
	}
}

func (s storeSuite) callsFnOnce(t *testing.T) {
	st := s.newStore(t, nil)
	calls := 0
	require.NoError(t, st.UpdateUser(t.Context(), "alice", func(domain.UserAuth) (ports.UserChange, error) {
		calls++
		return ports.UserChange{Put: []domain.Session{newSession("alice", "d", base)}}, nil
	}))
	assert.Equal(t, 1, calls)
}

func (s storeSuite) stateSessions(t *testing.T) {
	st := s.newStore(t, nil)
	active := newSession("alice", "active", base)
	expired := newSession("alice", "expired", base.Add(-48*time.Hour))
	expired.ExpiresAt = base.Add(-24 * time.Hour)
	revoked := newSession("alice", "revoked", base)
	put(t, st, "alice", active, expired, revoked)
	put(t, st, "bob", newSession("bob", "bob's", base))
	apply(t, st, "alice", ports.UserChange{Revoke: []string{revoked.ID}, RevokedAt: base})

	got := state(t, st, "alice")
	assert.ElementsMatch(t, []string{active.ID, expired.ID}, sessionIDs(got.Sessions))
	for _, sess := range got.Sessions {
		want := active
		if sess.ID == expired.ID {
			want = expired
		}
		assertSession(t, want, sess)
	}
}

func (s storeSuite) fnErrorWritesNothing(t *testing.T) {
	spy := &PublisherSpy{}
	st := s.newStore(t, spy)
	existing := newSession("alice", "phone", base)
	put(t, st, "alice", existing)
	before := state(t, st, "alice")
	spy.Reset()

	fresh := newSession("alice", "laptop", base.Add(time.Minute))
	err := st.UpdateUser(t.Context(), "alice", func(domain.UserAuth) (ports.UserChange, error) {
		return ports.UserChange{
			NewAccessGeneration:  domain.NewGeneration(),
			NewRefreshGeneration: domain.NewGeneration(),
			Put:                  []domain.Session{fresh},
			Revoke:               []string{existing.ID},
			RevokedAt:            base,
		}, fmt.Errorf("wrapped: %w", errBoom)
	})
	require.ErrorIs(t, err, errBoom)

	access, refresh := generations(t, st, "alice")
	assert.Equal(t, before.AccessGeneration, access)
	assert.Equal(t, before.RefreshGeneration, refresh)
	assert.Equal(t, []string{existing.ID}, liveIDs(t, st, "alice"))
	_, err = st.Session(t.Context(), fresh.ID)
	assert.ErrorIs(t, err, domain.ErrSessionNotFound)
	assert.Empty(t, spy.Keys(), "a failed change announces nothing")

	// A user's very first update writes nothing either, not even the
	// generations.
	err = st.UpdateUser(t.Context(), "carol", func(domain.UserAuth) (ports.UserChange, error) {
		return ports.UserChange{Put: []domain.Session{newSession("carol", "d", base)}}, errBoom
	})
	require.ErrorIs(t, err, errBoom)
	access, refresh = generations(t, st, "carol")
	assert.Empty(t, access)
	assert.Empty(t, refresh)
	assert.Empty(t, liveIDs(t, st, "carol"))
	assert.Empty(t, spy.Keys())
}

func (s storeSuite) putRoundTrip(t *testing.T) {
	rotated := newSession("alice", "ipv6", base.Add(time.Hour))
	rotated.IP = netip.MustParseAddr("2001:db8::7:1")
	rotated.RefreshCounter = 7
	rotated.RotatedAt = base.Add(2*time.Hour + 123456789)
	rotated.LastSeenAt = rotated.RotatedAt

	mapped := newSession("alice", "mapped", base)
	mapped.IP = netip.MustParseAddr("::ffff:192.0.2.1")

	noIP := newSession("alice", "no ip", base)
	noIP.IP = netip.Addr{}
	noIP.DeviceName = "" // empty strings round trip too

	big := newSession("alice", "big counter", base)
	big.RefreshCounter = 1 << 40
	big.RotatedAt = base.In(time.UTC)

	revoked := newSession("alice", "revoked", base)
	revoked.RevokedAt = base.Add(3 * time.Hour)

	bound := newSession("alice", "dpop", base)
	bound.JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

	tests := []struct {
		name string
		sess domain.Session
		live bool
	}{
		{"ipv4, never rotated", newSession("alice", "ipv4", base), true},
		{"ipv6, rotated", rotated, true},
		{"ipv4-mapped ipv6", mapped, true},
		{"invalid ip", noIP, true},
		{"large counter", big, true},
		{"revoked", revoked, false},
		{"DPoP-bound", bound, true},
	}
	st := s.newStore(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put(t, st, "alice", tt.sess)
			got, err := st.Session(t.Context(), tt.sess.ID)
			require.NoError(t, err)
			assertSession(t, tt.sess, got)

			live, err := st.Sessions(t.Context(), "alice")
			require.NoError(t, err)
			i := slices.IndexFunc(live, func(s domain.Session) bool { return s.ID == tt.sess.ID })
			if !tt.live {
				assert.Equal(t, -1, i, "a revoked session is not listed")
				return
			}
			require.NotEqual(t, -1, i, "listed by Sessions")
			assertSession(t, tt.sess, live[i])
		})
	}
}

func (s storeSuite) putReplaces(t *testing.T) {
	st := s.newStore(t, nil)
	orig := newSession("alice", "phone", base)
	put(t, st, "alice", orig)

	next := orig
	next.DeviceName = "Mozilla/5.0 (updated)"
	next.IP = netip.MustParseAddr("2001:db8::2")
	next.LastSeenAt = base.Add(time.Hour)
	next.RefreshCounter = 3
	next.RotatedAt = base.Add(time.Hour)
	put(t, st, "alice", next)

	got, err := st.Session(t.Context(), orig.ID)
	require.NoError(t, err)
	assertSession(t, next, got)
	live, err := st.Sessions(t.Context(), "alice")
	require.NoError(t, err)
	require.Len(t, live, 1, "replaced, not added")
	assertSession(t, next, live[0])
}

// putKeepsRevoked: a Put built from a read made before a revocation, and
// written after it, replaces the other fields but leaves it revoked.
func (s storeSuite) putKeepsRevoked(t *testing.T) {
	st := s.newStore(t, nil)
	sess := newSession("alice", "phone", base)
	put(t, st, "alice", sess)
	at := base.Add(time.Hour)
	apply(t, st, "alice", ports.UserChange{Revoke: []string{sess.ID}, RevokedAt: at})

	stale := sess
	stale.RefreshCounter = 9
	put(t, st, "alice", stale)
	got, err := st.Session(t.Context(), sess.ID)
	require.NoError(t, err)
	want := stale
	want.RevokedAt = at
	assertSession(t, want, got) // still revoked, other fields replaced
	assert.Empty(t, liveIDs(t, st, "alice"))
}

// putKeepsKey: a Put never rebinds a session to another DPoP key, nor
// unbinds it.
func (s storeSuite) putKeepsKey(t *testing.T) {
	st := s.newStore(t, nil)
	sess := newSession("alice", "phone", base)
	sess.JKT = "key-1"
	put(t, st, "alice", sess)
	for _, jkt := range []string{"key-2", ""} {
		next := sess
		next.JKT = jkt
		next.RefreshCounter++
		put(t, st, "alice", next)
		got, err := st.Session(t.Context(), sess.ID)
		require.NoError(t, err)
		want := next
		want.JKT = "key-1"
		assertSession(t, want, got)
		sess = next
	}
}

func (s storeSuite) revokeMarksRevoked(t *testing.T) {
	st := s.newStore(t, nil)
	a := newSession("alice", "a", base)
	b := newSession("alice", "b", base.Add(time.Second))
	c := newSession("alice", "c", base.Add(2*time.Second))
	put(t, st, "alice", a, b, c)

	at := base.Add(time.Hour)
	apply(t, st, "alice", ports.UserChange{Revoke: []string{a.ID}, RevokedAt: at})
	got, err := st.Session(t.Context(), a.ID)
	require.NoError(t, err, "a revoked session is still found")
	want := a
	want.RevokedAt = at
	assertSession(t, want, got)
	assert.Equal(t, []string{b.ID, c.ID}, liveIDs(t, st, "alice"))
	assert.Equal(t, []string{b.ID, c.ID}, sessionIDs(state(t, st, "alice").Sessions))

	// A zero RevokedAt still revokes, at the store's clock.
	apply(t, st, "alice", ports.UserChange{Revoke: []string{b.ID}})
	got, err = st.Session(t.Context(), b.ID)
	require.NoError(t, err)
	assert.False(t, got.RevokedAt.IsZero(), "RevokedAt set")
	assert.Equal(t, []string{c.ID}, liveIDs(t, st, "alice"))
}

func (s storeSuite) revokeOtherUser(t *testing.T) {
	st := s.newStore(t, nil)
	a := newSession("alice", "a", base)
	put(t, st, "alice", a)
	// The store may ignore or refuse the foreign id; it must not revoke it.
	_ = st.UpdateUser(t.Context(), "bob", func(domain.UserAuth) (ports.UserChange, error) {
		return ports.UserChange{Revoke: []string{a.ID}, RevokedAt: base}, nil
	})
	got, err := st.Session(t.Context(), a.ID)
	require.NoError(t, err)
	assertSession(t, a, got)
	assert.Equal(t, []string{a.ID}, liveIDs(t, st, "alice"))
}

func (s storeSuite) sessionNotFound(t *testing.T) {
	st := s.newStore(t, nil)
	put(t, st, "alice", newSession("alice", "a", base))
	_, err := st.Session(t.Context(), "no-such-session")
	assert.ErrorIs(t, err, domain.ErrSessionNotFound)
}

func (s storeSuite) sessionsOrdered(t *testing.T) {
	st := s.newStore(t, nil)
	old := newSession("alice", "old", base)
	mid := newSession("alice", "mid", base.Add(time.Minute))
	young := newSession("alice", "young", base.Add(2*time.Minute))
	put(t, st, "alice", mid, young)
	put(t, st, "alice", old)
	put(t, st, "bob", newSession("bob", "b", base.Add(-time.Hour)))
	assert.Equal(t, []string{old.ID, mid.ID, young.ID}, liveIDs(t, st, "alice"))
}

func (s storeSuite) prune(t *testing.T) {
	st := s.newStore(t, nil)
	active := newSession("alice", "active", base.Add(-time.Hour))
	expired := newSession("alice", "expired", base.Add(-48*time.Hour))
	expired.ExpiresAt = base.Add(-time.Minute)
	atCutoff := newSession("alice", "expires at the cutoff", base.Add(-time.Hour))
	atCutoff.ExpiresAt = base
	revokedBefore := newSession("alice", "revoked before", base.Add(-time.Hour))
	revokedAfter := newSession("bob", "revoked after", base.Add(-time.Hour))
	put(t, st, "alice", active, expired, atCutoff, revokedBefore)
	put(t, st, "bob", revokedAfter)
	apply(t, st, "alice", ports.UserChange{Revoke: []string{revokedBefore.ID}, RevokedAt: base.Add(-time.Second)})
	apply(t, st, "bob", ports.UserChange{Revoke: []string{revokedAfter.ID}, RevokedAt: base.Add(time.Second)})

	n, err := st.Prune(t.Context(), base, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
	for _, gone := range []domain.Session{expired, revokedBefore} {
		_, err := st.Session(t.Context(), gone.ID)
		assert.ErrorIs(t, err, domain.ErrSessionNotFound, "%s pruned", gone.DeviceID)
	}
	for _, kept := range []domain.Session{active, atCutoff, revokedAfter} {
		_, err := st.Session(t.Context(), kept.ID)
		assert.NoError(t, err, "%s kept", kept.DeviceID)
	}
	assert.ElementsMatch(t, []string{active.ID, atCutoff.ID}, liveIDs(t, st, "alice"))

	n, err = st.Prune(t.Context(), base, time.Time{})
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to prune")

	// Idle pruning: sessions last seen before idleBefore go too.
	idle := newSession("carol", "idle", base.Add(-3*time.Hour))
	seen := newSession("carol", "seen", base.Add(-3*time.Hour))
	seen.LastSeenAt = base.Add(-time.Minute)
	put(t, st, "carol", idle, seen)
	n, err = st.Prune(t.Context(), base, base.Add(-time.Hour))
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "carol's idle session; alice's were seen exactly at the cutoff")
	assert.ElementsMatch(t, []string{seen.ID}, liveIDs(t, st, "carol"))
	assert.ElementsMatch(t, []string{active.ID, atCutoff.ID}, liveIDs(t, st, "alice"))
}

func (s storeSuite) publish(t *testing.T) {
	spy := &PublisherSpy{}
	st := s.newStore(t, spy)
	s1 := newSession("alice", "s1", base)
	s2 := newSession("alice", "s2", base.Add(time.Second))
	s3 := newSession("alice", "s3", base.Add(2*time.Second))
	put(t, st, "alice", s1, s2)
	_ = state(t, st, "bob")

	accessKey := ports.GenerationKey("alice", domain.Access)
	refreshKey := ports.GenerationKey("alice", domain.Refresh)
	tests := []struct {
		name string
		user string
		fn   func(domain.UserAuth) (ports.UserChange, error)
		// want are the keys announced; allowed may be announced too.
		want, allowed []string
		wantErr       error
	}{
		{
			name: "nothing changed",
			user: "alice",
			fn:   func(domain.UserAuth) (ports.UserChange, error) { return ports.UserChange{}, nil },
		},
		{
			name: "access generation rotated",
			user: "alice",
			fn: func(domain.UserAuth) (ports.UserChange, error) {
				return ports.UserChange{NewAccessGeneration: domain.NewGeneration()}, nil
			},
			want: []string{accessKey},
		},
		{
			name: "refresh generation rotated",
			user: "alice",
			fn: func(domain.UserAuth) (ports.UserChange, error) {
				return ports.UserChange{NewRefreshGeneration: domain.NewGeneration()}, nil
			},
			want: []string{refreshKey},
		},
		{
			name: "both rotated",
			user: "alice",
			fn: func(domain.UserAuth) (ports.UserChange, error) {
				return ports.UserChange{NewAccessGeneration: domain.NewGeneration(), NewRefreshGeneration: domain.NewGeneration()}, nil
			},
			want: []string{accessKey, refreshKey},
		},
		{
			name: "session revoked",
			user: "alice",
			fn: func(domain.UserAuth) (ports.UserChange, error) {
				return ports.UserChange{Revoke: []string{s1.ID}, RevokedAt: base}, nil
			},
			want: []string{ports.SessionKey(s1.ID)},
		},
		{
			name: "login evicting a session",
			user: "alice",
			fn: func(domain.UserAuth) (ports.UserChange, error) {
				return ports.UserChange{Put: []domain.Session{s3}, Revoke: []string{s2.ID}, RevokedAt: base}, nil
			},
			want:    []string{ports.SessionKey(s2.ID)},
			allowed: []string{ports.SessionKey(s3.ID)},
		},
		{
			name: "fn failed",
			user: "alice",
			fn: func(domain.UserAuth) (ports.UserChange, error) {
				return ports.UserChange{NewAccessGeneration: domain.NewGeneration(), Revoke: []string{s3.ID}}, errBoom
			},
			wantErr: errBoom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy.Reset()
			err := st.UpdateUser(t.Context(), tt.user, tt.fn)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			got := spy.Keys()
			for _, k := range tt.want {
				assert.Contains(t, got, k)
			}
			for _, k := range got {
				assert.True(t, slices.Contains(tt.want, k) || slices.Contains(tt.allowed, k), "unexpected key %q announced", k)
			}
		})
	}
}

func (s storeSuite) concurrentLimit(t *testing.T) {
	const (
		workers = 100
		limit   = 3
	)
	st := s.newStore(t, nil)
	var seq atomic.Int64 // advances once per fn call, in lock order
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			errs <- st.UpdateUser(t.Context(), "alice", func(state domain.UserAuth) (ports.UserChange, error) {
				n := seq.Add(1)
				change := ports.UserChange{Put: []domain.Session{
					newSession("alice", fmt.Sprintf("device-%d", i), base.Add(time.Duration(n)*time.Second)),
				}}
				if len(state.Sessions) >= limit {
					oldest := slices.MinFunc(state.Sessions, func(a, b domain.Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
					change.Revoke = []string{oldest.ID}
					change.RevokedAt = base.Add(time.Duration(n) * time.Second)
				}
				return change, nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	live, err := st.Sessions(t.Context(), "alice")
	require.NoError(t, err)
	require.Len(t, live, limit)
	for i, sess := range live {
		want := base.Add(time.Duration(workers-limit+1+i) * time.Second)
		assert.True(t, norm(want).Equal(norm(sess.CreatedAt)), "the %d newest sessions remain", limit)
	}
}

func (s storeSuite) concurrentCounter(t *testing.T) {
	const workers = 50
	st := s.newStore(t, nil)
	sess := newSession("alice", "phone", base)
	put(t, st, "alice", sess)

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			errs <- st.UpdateUser(t.Context(), "alice", func(state domain.UserAuth) (ports.UserChange, error) {
				i := slices.IndexFunc(state.Sessions, func(s domain.Session) bool { return s.ID == sess.ID })
				if i < 0 {
					return ports.UserChange{}, domain.ErrSessionNotFound
				}
				next := state.Sessions[i]
				next.RefreshCounter++
				next.RotatedAt = base.Add(time.Duration(next.RefreshCounter) * time.Second) // #nosec G115 -- at most 50
				next.LastSeenAt = next.RotatedAt
				return ports.UserChange{Put: []domain.Session{next}}, nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := st.Session(t.Context(), sess.ID)
	require.NoError(t, err)
	assert.Equal(t, uint64(workers), got.RefreshCounter, "every increment survived")
	assert.True(t, norm(base.Add(workers*time.Second)).Equal(norm(got.RotatedAt)))
}
