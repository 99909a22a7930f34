package sqlstore_test

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
)

func TestLockSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwtauth.db")
	unlock, err := sqlstore.LockSQLite(path)
	require.NoError(t, err)
	// flock locks belong to the open file, so a second open conflicts in
	// the same process too.
	_, err = sqlstore.LockSQLite(path)
	require.ErrorIs(t, err, sqlstore.ErrLocked)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	assert.Contains(t, err.Error(), path)
	assert.Contains(t, err.Error(), "PID "+strconv.Itoa(os.Getpid()))
	unlock()
	unlock, err = sqlstore.LockSQLite(path)
	require.NoError(t, err, "free again")
	unlock()
}

// Many concurrent first takers: exactly one wins, the others are told
// who holds it.
func TestLockSQLiteConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwtauth.db")
	var (
		wg      sync.WaitGroup
		won     atomic.Int64
		refused atomic.Int64
		unlocks = make(chan func(), 64)
	)
	for range 64 {
		wg.Go(func() {
			unlock, err := sqlstore.LockSQLite(path)
			if err == nil {
				won.Add(1)
				unlocks <- unlock
				return
			}
			if assert.ErrorIs(t, err, sqlstore.ErrLocked) {
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	close(unlocks)
	for u := range unlocks {
		u()
	}
	assert.Equal(t, int64(1), won.Load(), "the winner holds the lock until every taker tried")
	assert.Equal(t, int64(63), refused.Load())
}
