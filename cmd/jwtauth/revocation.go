package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// revocationTimeout bounds inspect's store lookups.
const revocationTimeout = 2 * time.Second

// revocation is inspect's answer about revocation: whether it could be
// checked against the configured store and, if so, whether the token is
// revoked.
type revocation struct {
	Checked bool `json:"checked"`
	// Revoked is set only when Checked.
	Revoked *bool `json:"revoked,omitempty"`
	// Reason says why it was not checked, or why the token is revoked.
	Reason string `json:"reason,omitempty"`
	// Store names the store asked (never a password).
	Store string `json:"store,omitempty"`
}

func notChecked(format string, args ...any) revocation {
	return revocation{Reason: "not checked: " + fmt.Sprintf(format, args...)}
}

// checkRevocation asks the configured store whether the token with claims
// is revoked: its generation rotated, or its session ended or missing. It
// never creates or migrates a database: without the SQLite file, or when
// the store does not answer within revocationTimeout, the answer is "not
// checked" with the reason.
func checkRevocation(ctx context.Context, cfg jwtauth.Config, claims json.RawMessage) revocation {
	var c struct {
		Sub string `json:"sub"`
		Typ string `json:"typ"`
		Gen string `json:"gen"`
		Sid string `json:"sid"`
	}
	if json.Unmarshal(claims, &c) != nil || c.Sub == "" || c.Gen == "" || c.Sid == "" {
		return notChecked("the token lacks sub, gen or sid")
	}
	typ, err := domain.ParseTokenType(c.Typ)
	if err != nil {
		return notChecked("unknown token type %q", c.Typ)
	}
	ctx, cancel := context.WithTimeout(ctx, revocationTimeout)
	defer cancel()
	where := storeDescription(cfg)
	store, closeStore, err := openStoreReadOnly(ctx, cfg)
	if err != nil {
		r := notChecked("%v", err)
		r.Store = where
		return r
	}
	defer closeStore()
	r := revocation{Checked: true, Store: where}
	revoked := func(reason string) revocation {
		yes := true
		r.Revoked, r.Reason = &yes, reason
		return r
	}
	unanswered := func(err error) revocation {
		return revocation{Reason: fmt.Sprintf("not checked: the store did not answer: %v", err), Store: where}
	}
	gen, err := store.Generation(ctx, c.Sub, typ)
	if err != nil {
		return unanswered(err)
	}
	if gen != c.Gen {
		return revoked("the user's " + string(typ) + " generation was rotated")
	}
	sess, err := store.Session(ctx, c.Sid)
	switch {
	case errors.Is(err, domain.ErrSessionNotFound):
		return revoked("the session no longer exists")
	case err != nil:
		return unanswered(err)
	case !sess.RevokedAt.IsZero():
		return revoked("the session was revoked at " + sess.RevokedAt.UTC().Format(time.RFC3339))
	case sess.UserID != c.Sub:
		return revoked("the session belongs to another user")
	case !sess.Active(time.Now(), cfg.SessionIdleTimeout):
		return revoked("the session ended (past its maximum age or idle timeout)")
	}
	no := false
	r.Revoked = &no
	return r
}

// openStoreReadOnly opens the configured store without creating or
// migrating anything.
func openStoreReadOnly(ctx context.Context, cfg jwtauth.Config) (ports.Store, func(), error) {
	if jwtauth.IsPostgresURL(cfg.DatabaseURL) {
		db, err := sqlstore.OpenPostgres(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, nil, err
		}
		return sqlstore.NewPostgres(db), func() { _ = db.Close() }, nil
	}
	path := filepath.Join(cfg.DataDir, jwtauth.SQLiteFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("no SQLite database at %s (JWTAUTH_DATA_DIR)", path)
	}
	db, err := sqlstore.OpenSQLite(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	return sqlstore.NewSQLite(db), func() { _ = db.Close() }, nil
}
