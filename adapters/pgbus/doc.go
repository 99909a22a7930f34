// Package pgbus implements ports.Bus and ports.Publisher on PostgreSQL
// LISTEN/NOTIFY with lib/pq.
//
// Every instance of an application runs one Bus: a pq.Listener on one
// channel (default "jwtauth_invalidate") whose notifications carry cache
// keys joined by "\n". The PostgreSQL store sends them with pg_notify
// inside the transaction that changes a generation or revokes a session,
// so they go out exactly when the change commits; Bus.Publish sends them
// from anywhere else.
//
// A lost connection means lost notifications, and a cached generation
// that was rotated meanwhile would let a revoked token through. So the Bus
// is only Healthy while it is certainly listening: not before its first
// LISTEN has been confirmed, not from the moment the connection is
// reported lost or a periodic ping fails or stalls, and again only after
// it has reconnected and told every subscriber to flush everything (nil
// keys). app.Service bypasses its cache while the bus is unhealthy.
//
// A connection can also stall without any error. So every Bus sends
// itself a heartbeat (WithHeartbeat, default every 250 ms) and is Healthy
// only while the last one that came back was sent less than twice the
// interval ago; coming back after a gap, it flushes first. Sync (a
// ports.Syncer) waits until a marker came back and every other live Bus
// acknowledged it, so that a revocation committed before is applied
// everywhere when a revoking call returns.
package pgbus
