package sqlstore

import (
	"context"
	"sync"
)

// writeQueue serializes SQLite writers fairly between users: a writer
// first takes its user's turn (one per user), then the process's single
// write slot. A channel serves its waiters first come, first served, so
// the write slot goes round the users that wait for it, and a user who
// sends many updates at once holds one place in that queue, not many: one
// user's activity cannot starve another's.
type writeQueue struct {
	slot chan struct{}

	mu    sync.Mutex
	users map[string]*userTurn
}

type userTurn struct {
	ch   chan struct{}
	refs int // writers holding or waiting for the turn
}

func newWriteQueue() *writeQueue {
	return &writeQueue{slot: make(chan struct{}, 1), users: map[string]*userTurn{}}
}

// acquire waits for userID's turn and then the write slot, or until ctx
// ends. release gives both back.
func (q *writeQueue) acquire(ctx context.Context, userID string) (release func(), err error) {
	q.mu.Lock()
	t := q.users[userID]
	if t == nil {
		t = &userTurn{ch: make(chan struct{}, 1)}
		q.users[userID] = t
	}
	t.refs++
	q.mu.Unlock()
	done := func() {
		q.mu.Lock()
		if t.refs--; t.refs == 0 {
			delete(q.users, userID)
		}
		q.mu.Unlock()
	}
	select {
	case t.ch <- struct{}{}:
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
	select {
	case q.slot <- struct{}{}:
	case <-ctx.Done():
		<-t.ch
		done()
		return nil, ctx.Err()
	}
	return func() {
		<-q.slot
		<-t.ch
		done()
	}, nil
}
