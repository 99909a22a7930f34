package sqlstore

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
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
// another at once; every acquire gets the slot alone, the other user gets
// in before the busy user's queue drains, and no turn is left behind.
func TestWriteQueueFairAndBounded(t *testing.T) {
	q := newWriteQueue()
	var inside, peak atomic.Int32
	var order []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	hold, err := q.acquire(t.Context(), "busy")
	require.NoError(t, err)
	for range 50 {
		wg.Go(func() {
			release, err := q.acquire(t.Context(), "busy")
			assert.NoError(t, err)
			n := inside.Add(1)
			if n > peak.Load() {
				peak.Store(n)
			}
			mu.Lock()
			order = append(order, "busy")
			mu.Unlock()
			inside.Add(-1)
			release()
		})
	}
	wg.Go(func() {
		release, err := q.acquire(t.Context(), "other")
		assert.NoError(t, err)
		mu.Lock()
		order = append(order, "other")
		mu.Unlock()
		release()
	})
	// Let the waiters queue, then open.
	require.Eventually(t, func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return q.users["busy"] != nil && q.users["busy"].refs == 51 && q.users["other"] != nil
	}, 5*time.Second, time.Millisecond)
	hold()
	wg.Wait()
	assert.Equal(t, int32(1), peak.Load())
	idx := slices.Index(order, "other")
	assert.GreaterOrEqual(t, idx, 0)
	assert.Less(t, idx, 3, "the other user waits for at most a turn or two of the busy one: %v", order[:min(len(order), 5)])
	assert.Empty(t, q.users, "no turn left behind")

	ctx, cancel := context.WithCancel(t.Context())
	hold, err = q.acquire(t.Context(), "busy")
	require.NoError(t, err)
	cancel()
	_, err = q.acquire(ctx, "other")
	assert.ErrorIs(t, err, context.Canceled)
	hold()
	assert.Empty(t, q.users)
}
