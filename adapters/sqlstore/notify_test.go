package sqlstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/internal/pgtest"
	"github.com/jwtauth/jwtauth/ports"
)

// listen returns a listener on channel of the database at dsn.
func listen(t *testing.T, dsn, channel string) *pq.Listener {
	t.Helper()
	l := pq.NewListener(dsn, 10*time.Millisecond, time.Second, nil)
	t.Cleanup(func() { _ = l.Close() })
	require.NoError(t, l.Listen(channel))
	return l
}

// received collects the keys of the notifications that arrive within wait.
func received(l *pq.Listener, wait time.Duration) (keys []string, payloads []string) {
	timeout := time.After(wait)
	for {
		select {
		case n := <-l.Notify:
			if n == nil {
				continue // reconnected
			}
			payloads = append(payloads, n.Extra)
			keys = append(keys, strings.Split(n.Extra, "\n")...)
		case <-timeout:
			return keys, payloads
		}
	}
}

func TestPostgresNotify(t *testing.T) {
	dsn := pgtest.DSN(t)
	db, err := sqlstore.OpenPostgres(t.Context(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, sqlstore.Migrate(t.Context(), db))
	ctx := t.Context()

	s1, s2 := session("alice", "a"), session("alice", "b")
	st := sqlstore.NewPostgres(db)
	require.NoError(t, st.UpdateUser(ctx, "alice", change(ports.UserChange{Put: []domain.Session{s1, s2}})))

	l := listen(t, dsn, sqlstore.DefaultChannel)
	custom := listen(t, dsn, "custom_channel")

	t.Run("committed change", func(t *testing.T) {
		require.NoError(t, st.UpdateUser(ctx, "alice", change(ports.UserChange{
			NewAccessGeneration: domain.NewGeneration(),
			Revoke:              []string{s1.ID},
		})))
		keys, _ := received(l, 500*time.Millisecond)
		assert.ElementsMatch(t, []string{ports.GenerationKey("alice", domain.Access), ports.SessionKey(s1.ID)}, keys)
	})
	t.Run("failed change", func(t *testing.T) {
		err := st.UpdateUser(ctx, "alice", func(domain.UserAuth) (ports.UserChange, error) {
			return ports.UserChange{Revoke: []string{s2.ID}}, domain.ErrDeviceLimitReached
		})
		require.ErrorIs(t, err, domain.ErrDeviceLimitReached)
		keys, _ := received(l, 300*time.Millisecond)
		assert.Empty(t, keys)
	})
	t.Run("custom channel", func(t *testing.T) {
		st := sqlstore.NewPostgres(db, sqlstore.WithChannel("custom_channel"))
		require.NoError(t, st.UpdateUser(ctx, "alice", change(ports.UserChange{NewRefreshGeneration: domain.NewGeneration()})))
		keys, _ := received(custom, 500*time.Millisecond)
		assert.Equal(t, []string{ports.GenerationKey("alice", domain.Refresh)}, keys)
		keys, _ = received(l, 100*time.Millisecond)
		assert.Empty(t, keys, "nothing on the default channel")
	})
	t.Run("notify off", func(t *testing.T) {
		st := sqlstore.NewPostgres(db, sqlstore.WithChannel(""))
		require.NoError(t, st.UpdateUser(ctx, "alice", change(ports.UserChange{NewRefreshGeneration: domain.NewGeneration()})))
		keys, _ := received(l, 300*time.Millisecond)
		assert.Empty(t, keys)
	})
	t.Run("newline in an id is refused", func(t *testing.T) {
		// The listeners split payloads on "\n": such a key would evict
		// nothing on the other instances.
		err := st.UpdateUser(ctx, "a\nb", change(ports.UserChange{NewAccessGeneration: domain.NewGeneration()}))
		require.ErrorIs(t, err, domain.ErrInvalidArgument)
		gen, err := st.Generation(ctx, "a\nb", domain.Access)
		require.NoError(t, err)
		assert.Empty(t, gen, "rolled back")
		keys, _ := received(l, 300*time.Millisecond)
		assert.Empty(t, keys)
	})
	t.Run("large change is split", func(t *testing.T) {
		const n = 600 // ~21 kB of keys
		var put []domain.Session
		var ids, want []string
		for range n {
			s := session("bob", "d")
			put = append(put, s)
			ids = append(ids, s.ID)
			want = append(want, ports.SessionKey(s.ID))
		}
		require.NoError(t, st.UpdateUser(ctx, "bob", change(ports.UserChange{Put: put})))
		_, _ = received(l, 300*time.Millisecond) // the puts' keys

		require.NoError(t, st.UpdateUser(ctx, "bob", change(ports.UserChange{Revoke: ids})))
		keys, payloads := received(l, time.Second)
		assert.ElementsMatch(t, want, keys)
		assert.GreaterOrEqual(t, len(payloads), 3)
		for _, p := range payloads {
			assert.LessOrEqual(t, len(p), 7900)
		}
		live, err := st.Sessions(ctx, "bob")
		require.NoError(t, err)
		assert.Empty(t, live)
	})
}
