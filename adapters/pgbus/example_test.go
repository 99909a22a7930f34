package pgbus_test

import (
	"context"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/jwtauth/jwtauth/adapters/pgbus"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// Every instance runs one Bus and hands it to its Service as
// app.Deps.Bus, next to the cache it keeps fresh; the Service subscribes
// itself. The PostgreSQL store announces its own changes with pg_notify;
// Publish is for anything else that must evict keys everywhere.
func Example() {
	bus, err := pgbus.New(os.Getenv("JWTAUTH_DATABASE_URL"), pgbus.WithLogger(slog.Default()))
	if err != nil {
		log.Fatal(err)
	}
	defer bus.Close()

	// Until it is healthy the Service bypasses its cache; waiting at
	// start-up only saves those first database round trips.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := bus.WaitHealthy(ctx); err != nil {
		log.Printf("invalidation bus not ready yet, caches bypassed: %v", err)
	}

	if err := bus.Publish(ctx, ports.GenerationKey("alice", domain.Access)); err != nil {
		log.Print(err)
	}
}
