package porttest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/ports"
)

// busWait bounds how long BusSuite waits for a delivery or for health.
const busWait = 10 * time.Second

// BusSuite is the contract of ports.Bus and ports.Publisher. newPair
// returns a publisher and the buses that hear it (one or more; a bus may
// be the publisher itself), fresh and isolated from other calls, with
// their clean-up registered on t. It is called once per subtest.
//
// Deliveries may be asynchronous, so the suite waits for them with
// require.Eventually. A bus may deliver a nil "flush everything" at any
// time (after a reconnection, say); the suite ignores those and checks
// only the keys delivered.
func BusSuite(t *testing.T, newPair func(t *testing.T) (ports.Publisher, []ports.Bus)) {
	t.Helper()

	// ready returns a publisher and its buses once every bus is healthy,
	// each with subs subscribed recorders: recs[bus][sub].
	ready := func(t *testing.T, subs int) (ports.Publisher, []ports.Bus, [][]*BusRecorder) {
		t.Helper()
		pub, buses := newPair(t)
		require.NotEmpty(t, buses)
		recs := make([][]*BusRecorder, len(buses))
		for i, b := range buses {
			for range subs {
				r := new(BusRecorder)
				b.Subscribe(r.Record)
				recs[i] = append(recs[i], r)
			}
		}
		require.Eventually(t, func() bool {
			for _, b := range buses {
				if !b.Healthy() {
					return false
				}
			}
			return true
		}, busWait, 5*time.Millisecond, "every bus becomes healthy")
		return pub, buses, recs
	}
	// eventually waits until every recorder has received want, in order.
	eventually := func(t *testing.T, recs [][]*BusRecorder, want []string) {
		t.Helper()
		for i, bus := range recs {
			for j, r := range bus {
				require.Eventually(t, func() bool { return len(r.Keys()) >= len(want) }, busWait, 5*time.Millisecond,
					"bus %d subscriber %d: %d of %d keys", i, j, len(r.Keys()), len(want))
				assert.Equal(t, want, r.Keys(), "bus %d subscriber %d", i, j)
			}
		}
	}

	t.Run("Healthy", func(t *testing.T) {
		// ready waited for Healthy; it must still hold once traffic went
		// through, not only at the instant it was first seen.
		pub, buses, recs := ready(t, 1)
		require.NoError(t, pub.Publish(context.Background(), "ping"))
		eventually(t, recs, []string{"ping"})
		for i, b := range buses {
			assert.True(t, b.Healthy(), "bus %d stays healthy", i)
			assert.Zero(t, recs[i][0].Flushes(), "bus %d: no flush while healthy", i)
		}
	})

	t.Run("DeliversKeysToEverySubscriber", func(t *testing.T) {
		pub, _, recs := ready(t, 2)
		require.NoError(t, pub.Publish(context.Background(), "user:u1:access:gen", "session:s1"))
		eventually(t, recs, []string{"user:u1:access:gen", "session:s1"})
	})

	t.Run("OrderPerPublisher", func(t *testing.T) {
		pub, _, recs := ready(t, 1)
		var want []string
		for i := range 30 {
			keys := []string{fmt.Sprint("a", i), fmt.Sprint("b", i)}
			require.NoError(t, pub.Publish(context.Background(), keys...))
			want = append(want, keys...)
		}
		eventually(t, recs, want)
	})

	t.Run("ManyKeys", func(t *testing.T) {
		// More than a PostgreSQL NOTIFY payload holds (8000 bytes).
		pub, _, recs := ready(t, 1)
		want := make([]string, 1000)
		for i := range want {
			want[i] = fmt.Sprintf("session:%026d", i)
		}
		require.NoError(t, pub.Publish(context.Background(), want...))
		eventually(t, recs, want)
	})

	t.Run("LateSubscriber", func(t *testing.T) {
		pub, buses, recs := ready(t, 1)
		require.NoError(t, pub.Publish(context.Background(), "first"))
		eventually(t, recs, []string{"first"})
		late := make([][]*BusRecorder, len(buses))
		for i, b := range buses {
			r := new(BusRecorder)
			b.Subscribe(r.Record)
			late[i] = []*BusRecorder{r}
		}
		require.NoError(t, pub.Publish(context.Background(), "second"))
		eventually(t, late, []string{"second"})
		eventually(t, recs, []string{"first", "second"})
	})
}

// BusRecorder records the keys a Bus delivers; its Record method is a
// subscriber. Nil deliveries ("flush everything") are counted apart.
// It is safe for concurrent use.
type BusRecorder struct {
	mu      sync.Mutex
	keys    []string
	batches int
	flushes int
}

// Record is a Bus subscriber.
func (r *BusRecorder) Record(keys []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if keys == nil {
		r.flushes++
		return
	}
	r.batches++
	r.keys = append(r.keys, keys...)
}

// Keys returns every key received, in order.
func (r *BusRecorder) Keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}

// Flushes returns how many nil deliveries were received.
func (r *BusRecorder) Flushes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.flushes
}

// String describes what r received.
func (r *BusRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%d flushes, %d batches: %s", r.flushes, r.batches, strings.Join(r.keys, " "))
}
