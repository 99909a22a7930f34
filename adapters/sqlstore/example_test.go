package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/jwtauth/jwtauth/adapters/sqlstore"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

func ExampleNewSQLite() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "jwtauth")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "jwtauth.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db); err != nil {
		log.Fatal(err)
	}
	store := sqlstore.NewSQLite(db)

	// A login: under alice's lock, apply the device policy and add the
	// session.
	policy := domain.DevicePolicy{Limit: 1, OnLimit: domain.EvictOldest}
	for _, device := range []string{"phone", "laptop"} {
		err := store.UpdateUser(ctx, "alice", func(st domain.UserAuth) (ports.UserChange, error) {
			d, err := policy.Decide(st.Sessions, device)
			if err != nil {
				return ports.UserChange{}, err
			}
			now := time.Now()
			s := domain.Session{ID: domain.NewID(), UserID: "alice", DeviceID: device, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
			return ports.UserChange{Put: []domain.Session{s}, Revoke: d.Revoke}, nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	sessions, err := store.Sessions(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(sessions), sessions[0].DeviceID)

	_, err = store.Session(ctx, "no-such-session")
	switch {
	case errors.Is(err, domain.ErrSessionNotFound):
		fmt.Println("not found")
	case errors.Is(err, domain.ErrUnavailable):
		fmt.Println("database down: fail closed")
	}
	// Output:
	// 1 laptop
	// not found
}
