package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

func TestIsUUID(t *testing.T) {
	assert.True(t, isUUID(domain.NewGeneration()))
	assert.True(t, isUUID("6BA7B810-9DAD-11D1-80B4-00C04FD430C8"))
	for _, s := range []string{"", "not-a-uuid", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810x9dad-11d1-80b4-00c04fd430c8", "6ba7b810-9dad-11d1-80b4-00c04fd430cg"} {
		assert.False(t, isUUID(s), s)
	}
}

func TestDBTime(t *testing.T) {
	want := time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)
	tests := []struct {
		name    string
		src     any
		want    time.Time
		wantErr bool
	}{
		{"null", nil, time.Time{}, false},
		{"time", want.In(time.FixedZone("X", 3600)), want, false},
		{"text", timeArg(want), want, false},
		{"bytes", []byte(timeArg(want)), want, false},
		{"sqlite datetime", "2030-01-02 03:04:05.678901", want, false},
		{"empty", "", time.Time{}, false},
		{"garbage", "yesterday", time.Time{}, true},
		{"wrong type", 42, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got dbTime
			err := got.Scan(tt.src)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Time)
		})
	}
	assert.Equal(t, "2030-01-02T03:04:05.678901Z", timeArg(want.Add(999)), "truncated to microseconds, fixed width")
	assert.Nil(t, nullTimeArg(time.Time{}))
}

// TestWriteQueueFairAndBounded: many writers of one user and one writer of
// another at once; no batch holds two updates of one user, the other user
// is in the next batch, an update whose context
// ends while it waits never runs, and no turn is left behind.
func TestWriteQueueFairAndBounded(t *testing.T) {
	gate := make(chan struct{})
	var mu sync.Mutex
	var batches [][]string
	q := newWriteQueue(func(batch []*writeJob) {
		<-gate
		var users []string
		for _, j := range batch {
			if j.state.CompareAndSwap(jobQueued, jobStarted) {
				users = append(users, j.userID)
				j.finish(nil, nil)
			}
		}
		mu.Lock()
		batches = append(batches, users)
		mu.Unlock()
	})
	write := func(ctx context.Context, userID string) error {
		release, err := q.turn(ctx, userID)
		if err != nil {
			return err
		}
		defer release()
		_, err = q.update(ctx, userID, nil)
		return err
	}
	var wg sync.WaitGroup
	for range 51 {
		wg.Go(func() { assert.NoError(t, write(t.Context(), "busy")) })
	}
	queued := func(n int) func() bool {
		return func() bool {
			q.mu.Lock()
			defer q.mu.Unlock()
			return q.users["busy"] != nil && q.users["busy"].refs == 51 && len(q.pending) == n
		}
	}
	// One busy update is in the blocked batch, the others wait for the turn.
	require.Eventually(t, queued(0), 5*time.Second, time.Millisecond)
	wg.Go(func() { assert.NoError(t, write(t.Context(), "other")) })
	require.Eventually(t, queued(1), 5*time.Second, time.Millisecond)

	ctx, cancel := context.WithCancel(t.Context())
	abandoned := make(chan error, 1)
	go func() { abandoned <- write(ctx, "gone") }()
	require.Eventually(t, queued(2), 5*time.Second, time.Millisecond)
	cancel()
	err := <-abandoned
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, domain.ErrUnavailable)

	close(gate)
	wg.Wait()
	require.GreaterOrEqual(t, len(batches), 2)
	assert.Equal(t, []string{"busy"}, batches[0])
	assert.Contains(t, batches[1], "other", "the other user's update is in the next batch")
	total := 0
	for _, b := range batches {
		assert.LessOrEqual(t, len(b), maxBatch)
		seen := map[string]bool{}
		for _, u := range b {
			assert.False(t, seen[u], "two updates of %s in one batch", u)
			seen[u] = true
			assert.NotEqual(t, "gone", u, "an abandoned update never runs")
		}
		total += len(b)
	}
	assert.Equal(t, 52, total)
	q.mu.Lock()
	defer q.mu.Unlock()
	assert.Empty(t, q.users, "no turn left behind")
}

// TestSQLiteBatchUpdatesFailAlone: four updates of four users queued
// behind a fifth share a transaction; the one whose write fails, the one
// whose fn panics and the one whose deadline passes are rolled back to
// their savepoints, and the fourth commits.
func TestSQLiteBatchUpdatesFailAlone(t *testing.T) {
	ctx := t.Context()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "jwtauth.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, Migrate(ctx, db))
	st := NewSQLite(db)
	now := time.Now()
	bobs := domain.Session{ID: domain.NewID(), UserID: "bob", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, st.UpdateUser(ctx, "bob", func(domain.UserAuth) (ports.UserChange, error) {
		return ports.UserChange{Put: []domain.Session{bobs}}, nil
	}))
	bobGen, err := st.Generation(ctx, "bob", domain.Access)
	require.NoError(t, err)

	holding, release := make(chan struct{}), make(chan struct{})
	slow := make(chan error, 1)
	go func() {
		slow <- st.UpdateUser(ctx, "slow", func(domain.UserAuth) (ports.UserChange, error) {
			close(holding)
			<-release
			return ports.UserChange{}, nil
		})
	}()
	<-holding

	errs := make(map[string]chan error)
	run := func(ctx context.Context, user string, fn func(domain.UserAuth) (ports.UserChange, error)) {
		ch := make(chan error, 1)
		errs[user] = ch
		go func() {
			defer func() {
				if p := recover(); p != nil {
					ch <- fmt.Errorf("panic: %v", p)
				}
			}()
			ch <- st.UpdateUser(ctx, user, fn)
		}()
	}
	// alice's first update writes her generations, then fails: bobs's
	// session is not hers.
	run(ctx, "alice", func(domain.UserAuth) (ports.UserChange, error) {
		s := bobs
		s.UserID = "alice"
		return ports.UserChange{NewAccessGeneration: domain.NewGeneration(), Put: []domain.Session{s}}, nil
	})
	newGen := domain.NewGeneration()
	run(ctx, "bob", func(domain.UserAuth) (ports.UserChange, error) {
		return ports.UserChange{NewAccessGeneration: newGen}, nil
	})
	run(ctx, "carol", func(domain.UserAuth) (ports.UserChange, error) { panic("carol") })
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	run(short, "dave", func(domain.UserAuth) (ports.UserChange, error) {
		<-short.Done()
		return ports.UserChange{NewAccessGeneration: domain.NewGeneration()}, nil
	})
	require.Eventually(t, func() bool {
		st.writers.mu.Lock()
		defer st.writers.mu.Unlock()
		return len(st.writers.pending) == 4
	}, 5*time.Second, time.Millisecond)
	close(release)
	require.NoError(t, <-slow)

	err = <-errs["alice"]
	assert.ErrorIs(t, err, domain.ErrInvalidArgument)
	assert.NoError(t, <-errs["bob"])
	assert.EqualError(t, <-errs["carol"], "panic: carol", "the panic reaches the caller")
	err = <-errs["dave"]
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	for user, want := range map[string]string{"alice": "", "bob": newGen, "carol": "", "dave": ""} {
		got, err := st.Generation(ctx, user, domain.Access)
		require.NoError(t, err)
		assert.Equal(t, want, got, user)
	}
	assert.NotEqual(t, bobGen, newGen)
	got, err := st.Session(ctx, bobs.ID)
	require.NoError(t, err)
	assert.Equal(t, "bob", got.UserID)
}
