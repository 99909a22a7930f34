// Command echo-users is a small Echo service that embeds jwtauth next to
// its own users table on PostgreSQL. It is documentation: read main.go
// first, then users.go.
//
// The service owns table app_users (id, email, password_hash, role); jwtauth
// owns its tables in the same database and never sees a password. Its own
// POST /login checks the password against app_users and hands the user to
// echoauth's Login helper. The user's role travels in the access token
// (JWTAUTH_USER_FROM_TOKEN is forced on), so requests need no users-table
// read, and PUT /users/:id/role revokes the user's access tokens with
// Service.Invalidate: the client refreshes, and the refresh reloads the
// row through the service's ports.UserLoader, new role included.
//
// Routes:
//
//	POST /signup              {"email","password"} → 201 {"id","email","role":"user"}
//	POST /login               {"email","password"} → 200 jwtauth's token pair
//	GET  /profile             Bearer → 200 {"id","email","role"}
//	PUT  /users/:id/role      Bearer, role admin; {"role"} → 204
//	POST /auth/refresh, /auth/verify, /auth/logout, ... (echoauth's Mount)
//
// Configuration is jwtauth's (JWTAUTH_*; JWTAUTH_DATABASE_URL must be a
// postgres:// URL), plus ADMIN_EMAIL and ADMIN_PASSWORD for the seeded admin.
// See README.md in this directory for how to run it.
package main
