package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// writeQueue runs this process's SQLite updates, with group commit: an
// update first takes its user's turn (one per user), then joins the queue;
// a single goroutine takes every queued update at once (up to maxBatch)
// and makes them in one transaction, each within a savepoint of its own,
// so that they share the transaction's one commit, the costly part of a
// write (its fsync). An update reads and writes only its user's rows,
// which no other update of its batch touches, and fails alone: one whose
// fn or statements fail, or whose context ends, is rolled back to its
// savepoint while the others commit (only a failed BEGIN or COMMIT fails
// them all, and then none is made). A user who sends many updates at once
// holds one place in the queue, not many: one user's activity cannot
// starve another's, whose update waits for at most one batch before it
// is in the next.
type writeQueue struct {
	run func([]*writeJob) // makes a batch

	mu      sync.Mutex
	users   map[string]*userTurn
	pending []*writeJob
	running bool          // a goroutine is working the queue off
	arrived chan struct{} // signalled when an update joins the queue
}

type userTurn struct {
	ch   chan struct{}
	refs int // writers holding or waiting for the turn
}

// maxBatch bounds how many updates share a transaction, and so how long
// the batch holds the database's write lock.
const maxBatch = 32

// writeJob is one UpdateUser in the queue.
type writeJob struct {
	ctx    context.Context
	userID string
	fn     func(domain.UserAuth) (ports.UserChange, error)
	state  atomic.Int32 // jobQueued, then jobStarted or jobAbandoned
	done   chan struct{}
	// Set before done is closed.
	keys     []string
	err      error
	panicked any // fn's panic, raised again in the caller's goroutine
}

const (
	jobQueued int32 = iota
	jobStarted
	jobAbandoned
)

// finish reports the job's outcome to its caller.
func (j *writeJob) finish(keys []string, err error) {
	j.keys, j.err = keys, err
	close(j.done)
}

func newWriteQueue(run func([]*writeJob)) *writeQueue {
	return &writeQueue{run: run, users: map[string]*userTurn{}, arrived: make(chan struct{}, 1)}
}

// turn waits for userID's turn, or until ctx ends. release gives it back.
func (q *writeQueue) turn(ctx context.Context, userID string) (release func(), err error) {
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
	return func() {
		<-t.ch
		done()
	}, nil
}

// update queues fn as userID's update, whose turn the caller holds, and
// waits for its outcome. When ctx ends before the update has started, it
// returns at once and the update never runs; once started, the update
// checks ctx itself, and update waits for the commit, so that nothing
// commits after the caller was answered.
func (q *writeQueue) update(ctx context.Context, userID string, fn func(domain.UserAuth) (ports.UserChange, error)) ([]string, error) {
	j := &writeJob{ctx: ctx, userID: userID, fn: fn, done: make(chan struct{})}
	q.mu.Lock()
	q.pending = append(q.pending, j)
	if !q.running {
		q.running = true
		go q.work()
	}
	q.mu.Unlock()
	select {
	case q.arrived <- struct{}{}:
	default:
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			return nil, unavailable(ctx, "wait for the write lock", ctx.Err())
		}
		<-j.done
	}
	if j.panicked != nil {
		panic(j.panicked)
	}
	return j.keys, j.err
}

// work makes the queued updates, batch after batch, until none is left.
// Before a batch it waits a little (see linger) for the users of the last
// batch that are not back yet: the caller who has just been answered
// needs a moment to send its next update, while a user whose next update
// was already waiting for the turn is back at once and would otherwise
// take every other batch alone.
func (q *writeQueue) work() {
	var last []string // the users of the last batch
	var took time.Duration
	timer := time.NewTimer(0)
	defer timer.Stop()
	q.mu.Lock()
	for {
		if len(last) > 0 && q.missing(last) {
			timer.Reset(linger(took))
			q.waitFor(last, timer.C)
		}
		if len(q.pending) == 0 {
			q.running = false
			q.pending = nil
			q.mu.Unlock()
			return
		}
		n := min(len(q.pending), maxBatch)
		batch := q.pending[:n:n]
		q.pending = q.pending[n:]
		q.mu.Unlock()
		start := time.Now()
		q.run(batch)
		took = time.Since(start)
		last = last[:0]
		for _, j := range batch {
			last = append(last, j.userID)
		}
		q.mu.Lock()
	}
}

// linger is how long work waits for the users of a batch that took took:
// half of it, at most maxLinger. The wait ends as soon as they are back,
// and one commit for two users' updates is worth far more than it.
func linger(took time.Duration) time.Duration { return min(took/2, maxLinger) }

// maxLinger bounds linger.
const maxLinger = 2 * time.Millisecond

// waitFor waits until every one of users has an update pending or
// timeout fires. q.mu must be held; waitFor releases it while it waits.
func (q *writeQueue) waitFor(users []string, timeout <-chan time.Time) {
	for q.missing(users) {
		q.mu.Unlock()
		select {
		case <-q.arrived:
			q.mu.Lock()
		case <-timeout:
			q.mu.Lock()
			return
		}
	}
}

// missing reports whether one of users has no update pending. q.mu must
// be held.
func (q *writeQueue) missing(users []string) bool {
	for _, u := range users {
		if !slices.ContainsFunc(q.pending, func(j *writeJob) bool { return j.userID == u }) {
			return true
		}
	}
	return false
}

// runBatch makes batch's updates in one transaction and reports each
// one's outcome. The transaction runs under a context of its own, ended
// once every update's context has (database/sql then rolls it back): a
// statement interrupted by one caller's deadline would take the others'
// work with it. Its statements run without cancellation, which also
// spares the driver a goroutine per statement watching for it.
func (s *Store) runBatch(batch []*writeJob) {
	txCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx := context.WithoutCancel(txCtx)
	var left atomic.Int64
	left.Store(int64(len(batch)))
	for _, j := range batch {
		defer context.AfterFunc(j.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})()
	}
	// start claims the jobs not abandoned yet; fail reports err to them.
	start := func(j *writeJob) bool { return j.state.CompareAndSwap(jobQueued, jobStarted) }
	fail := func(jobs []*writeJob, op string, err error) {
		for _, j := range jobs {
			if j.state.Load() == jobStarted || start(j) {
				j.finish(nil, unavailable(j.ctx, op, err))
			}
		}
	}

	stmts := s.prepared(txCtx) // before the transaction takes a connection
	tx, err := s.db.BeginTxx(txCtx, nil)
	if err != nil {
		fail(batch, "begin", err)
		return
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	r := inTx(tx, stmts)
	savepoints := len(batch) > 1
	var made []*writeJob
	for i, j := range batch {
		if !start(j) {
			continue
		}
		if savepoints {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT jwtauth_update"); err != nil {
				fail(append(made, batch[i:]...), "savepoint", err)
				return
			}
		}
		keys, err := s.updateOne(ctx, r, j)
		if err != nil {
			if savepoints {
				if rerr := rollbackTo(ctx, tx); rerr != nil {
					j.finish(nil, err)
					fail(append(made, batch[i+1:]...), "roll back to savepoint", rerr)
					return
				}
			}
			j.finish(nil, err)
			continue
		}
		if savepoints {
			if _, err := tx.ExecContext(ctx, "RELEASE jwtauth_update"); err != nil {
				fail(append(made, batch[i:]...), "release savepoint", err)
				return
			}
		}
		j.keys = keys
		made = append(made, j)
	}
	if len(made) == 0 {
		return
	}
	if err := tx.Commit(); err != nil {
		fail(made, "commit", err)
		return
	}
	for _, j := range made {
		j.finish(j.keys, nil)
	}
}

// updateOne makes j's update in the batch's transaction. A job whose
// context ended meanwhile fails, to be rolled back; a panic of its fn is
// kept for its caller.
func (s *Store) updateOne(ctx context.Context, r runner, j *writeJob) (keys []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			j.panicked = p
			keys, err = nil, fmt.Errorf("sqlstore: update function panicked: %v", p)
		}
	}()
	if err := j.ctx.Err(); err != nil {
		return nil, unavailable(j.ctx, "wait for the write lock", err)
	}
	keys, err = s.updateUser(ctx, r, j.userID, j.fn)
	if cerr := j.ctx.Err(); cerr != nil {
		return nil, unavailable(j.ctx, "update user", cerr)
	}
	return keys, err
}

// rollbackTo undoes the changes of the update under way in a batch.
func rollbackTo(ctx context.Context, tx *sqlx.Tx) error {
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO jwtauth_update"); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE jwtauth_update")
	return err
}
