// Command jwtauth is the command-line companion of the jwtauth module:
//
//	jwtauth serve           run the reference HTTP server (Echo v4)
//	jwtauth migrate         create or upgrade the database tables
//	jwtauth keygen          print fresh JWTAUTH_SIGNING_KEY and JWTAUTH_ENCRYPTION_KEYS
//	jwtauth inspect TOKEN   decrypt a token and print its headers and claims ("-": stdin)
//	jwtauth help [command]  list the commands, or explain one
//
// help, -h and --help, for the program or after a command, print the usage
// on stdout and exit 0; an unknown command or a wrong argument prints it on
// stderr and exits 2. inspect also reports whether it could ask the
// configured store about revocation ("revocation": {"checked", "revoked",
// "reason"}) without ever creating or migrating a database. serve, migrate and
// inspect warn about JWTAUTH_* variables they do not know, naming the
// nearest known one.
//
// Every command reads the JWTAUTH_* environment variables (see
// docs/configuration.md). Outside production, serve and inspect use the
// development keys in $JWTAUTH_DATA_DIR/keys.env, which serve generates
// on first start; in production keys must come from the environment.
//
// The reference server mounts the echoauth adapter's routes under /auth and
// adds POST /auth/login over the demo users of JWTAUTH_DEMO_USERS (bcrypt
// hashes, 'jwtauth passwd' prints one; failed logins throttled per
// username and per client IP by package throttle), GET
// /auth/me and GET /healthz. Its HTTP contract is docs/openapi.yaml, which
// a test holds to the server's routes. It logs one structured line per
// request (never a token), prunes ended sessions periodically and shuts
// down gracefully on SIGINT or SIGTERM.
package main
