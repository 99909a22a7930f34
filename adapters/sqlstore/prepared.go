package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/jmoiron/sqlx"
)

// preparedStatements are the store's frequent statements, prepared once
// per Store.
//
// lib/pq runs a statement that has arguments in two round trips (parse,
// then bind and execute) unless it is prepared; prepared, it runs in one,
// and the server does not parse it again. database/sql prepares a
// statement on each pooled connection the first time it runs there, inside
// a transaction on the transaction's own connection. This halves the round
// trips of UpdateUser and of the reads behind an uncached Authenticate.
//
// The statements live as long as the pool. Poolers that do not keep a
// session per client (PgBouncer in transaction mode before 1.21) do not
// support prepared statements.
type preparedStatements struct {
	mu sync.Mutex                            // held while preparing
	m  atomic.Pointer[map[string]*sqlx.Stmt] // by query text; nil until prepared
}

// preparedQueries are the queries worth preparing: those of every
// UpdateUser and of the reads an uncached Authenticate makes. The revoke
// statement is the form sqlx.In gives for a single id, the common case.
func (s *Store) preparedQueries() []string {
	q := []string{
		s.q.generation, s.q.session, s.q.sessions,
		s.q.ensureGenerations, s.q.lockGenerations, s.q.setGeneration,
		s.q.putSession, s.dialect.rebind(revokeSessions),
	}
	if s.dialect.notify {
		q = append(q, s.q.notify)
	}
	return q
}

// prepared returns the store's prepared statements by query text,
// preparing them on first use. Never call it inside a transaction:
// preparing takes a pooled connection, and transactions waiting for one
// while holding the rest would deadlock the pool.
//
// It returns nil, and queries run unprepared, while another goroutine is
// preparing or when preparing fails (the database is down: the queries
// then fail on their own, and the next call tries again).
func (s *Store) prepared(ctx context.Context) map[string]*sqlx.Stmt {
	if m := s.stmts.m.Load(); m != nil {
		return *m
	}
	if !s.stmts.mu.TryLock() {
		return nil
	}
	defer s.stmts.mu.Unlock()
	if m := s.stmts.m.Load(); m != nil {
		return *m
	}
	m := make(map[string]*sqlx.Stmt)
	for _, q := range s.preparedQueries() {
		st, err := s.db.PreparexContext(ctx, q)
		if err != nil {
			for _, st := range m {
				_ = st.Close()
			}
			return nil
		}
		m[q] = st
	}
	s.stmts.m.Store(&m)
	return m
}

// runner runs queries on the pool, or in a transaction when tx is set,
// through their prepared statements when stmts holds them. Its methods
// have the signatures of sqlx's.
type runner struct {
	q     sqlx.ExtContext // the pool or tx
	tx    *sqlx.Tx
	stmts map[string]*sqlx.Stmt
}

// pool returns a runner on the pool.
func (s *Store) pool(ctx context.Context) runner {
	return runner{q: s.db, stmts: s.prepared(ctx)}
}

// inTx returns a runner in tx using stmts, which must have been obtained
// before tx began (see prepared).
func inTx(tx *sqlx.Tx, stmts map[string]*sqlx.Stmt) runner {
	return runner{q: tx, tx: tx, stmts: stmts}
}

// stmt returns the prepared statement of query, bound to the transaction
// if any, or nil.
func (r runner) stmt(ctx context.Context, query string) *sqlx.Stmt {
	st := r.stmts[query]
	if st != nil && r.tx != nil {
		return r.tx.StmtxContext(ctx, st)
	}
	return st
}

// GetContext is sqlx's GetContext.
func (r runner) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := r.stmt(ctx, query); st != nil {
		return st.GetContext(ctx, dest, args...)
	}
	return sqlx.GetContext(ctx, r.q, dest, query, args...)
}

// SelectContext is sqlx's SelectContext.
func (r runner) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	if st := r.stmt(ctx, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return sqlx.SelectContext(ctx, r.q, dest, query, args...)
}

// ExecContext is sqlx's ExecContext.
func (r runner) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := r.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return r.q.ExecContext(ctx, query, args...)
}
