package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// WithTimeout bounds every call, waiting for a pooled connection
// included, and a change whose deadline passes inside its transaction is
// rolled back: nothing commits after the caller was answered.
func TestWithTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	eachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t)
		db.SetMaxOpenConns(1)
		st := b.newStore(db, sqlstore.WithTimeout(timeout))
		ctx := t.Context()
		gen := domain.NewGeneration()
		require.NoError(t, st.UpdateUser(ctx, "alice", change(ports.UserChange{NewAccessGeneration: gen})))

		held, err := db.Conn(ctx) // the pool's only connection
		require.NoError(t, err)
		calls := map[string]func() error{
			"Generation": func() error { _, err := st.Generation(ctx, "alice", domain.Access); return err },
			"Session":    func() error { _, err := st.Session(ctx, "x"); return err },
			"Sessions":   func() error { _, err := st.Sessions(ctx, "alice"); return err },
			"Prune":      func() error { _, err := st.Prune(ctx, now, time.Time{}); return err },
			"UpdateUser": func() error { return st.UpdateUser(ctx, "alice", change(ports.UserChange{})) },
		}
		for name, call := range calls {
			start := time.Now()
			err := call()
			took := time.Since(start)
			assert.ErrorIs(t, err, domain.ErrUnavailable, name)
			assert.ErrorIs(t, err, context.DeadlineExceeded, name)
			assert.Less(t, took, timeout+time.Second, "%s waited for the pool within its deadline", name)
		}
		require.NoError(t, held.Close())

		// The deadline passes while the change is being made.
		err = st.UpdateUser(ctx, "alice", func(domain.UserAuth) (ports.UserChange, error) {
			time.Sleep(timeout + 100*time.Millisecond)
			return ports.UserChange{NewAccessGeneration: domain.NewGeneration()}, nil
		})
		require.ErrorIs(t, err, domain.ErrUnavailable)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		got, err := st.Generation(ctx, "alice", domain.Access)
		require.NoError(t, err)
		assert.Equal(t, gen, got, "rolled back")
	})
}
