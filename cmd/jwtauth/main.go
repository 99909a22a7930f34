package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/jwtauth/jwtauth"
)

const usage = `usage: jwtauth <command> [arguments]

commands:
  serve          run the reference HTTP server on JWTAUTH_ADDR
  migrate        create or upgrade the tables of the configured database
  keygen         print a fresh JWTAUTH_SIGNING_KEY and JWTAUTH_ENCRYPTION_KEYS
  passwd [NAME]  print the bcrypt hash of the password read from stdin, as
                 NAME:hash for JWTAUTH_DEMO_USERS (production takes only hashes)
  inspect TOKEN  decrypt TOKEN ("-": read it from stdin) with the configured
                 keys and print its headers, claims, signature, expiry and
                 whether the configured store knows it as revoked
  help [command] print this text, or the command's

Run 'jwtauth <command> --help' for a command's usage. Configuration comes
from the JWTAUTH_* environment variables (docs/configuration.md). Outside
production (JWTAUTH_ENV != production), missing keys are generated once and
kept in $JWTAUTH_DATA_DIR/keys.env.
`

// commandUsage is each command's usage text.
var commandUsage = map[string]string{ // #nosec G101 -- usage texts that name variables, no credentials
	"serve": `usage: jwtauth serve

Runs the reference HTTP server (Echo, the echoauth adapter, demo users of
JWTAUTH_DEMO_USERS) on JWTAUTH_ADDR until SIGINT or SIGTERM. The store is
PostgreSQL when JWTAUTH_DATABASE_URL is set, else SQLite in
JWTAUTH_DATA_DIR. Outside production, missing keys are generated once into
$JWTAUTH_DATA_DIR/keys.env. Exit status: 0 after a clean shutdown, 1 on a
failure, 2 on a configuration error.
`,
	"migrate": `usage: jwtauth migrate

Creates or upgrades the tables of the configured database (PostgreSQL when
JWTAUTH_DATABASE_URL is set, else SQLite in JWTAUTH_DATA_DIR) and prints the
schema version. Needs no keys.
`,
	"keygen": `usage: jwtauth keygen

Prints a fresh JWTAUTH_SIGNING_KEY (64 random bytes, base64: enough for
HS256, HS384 and HS512) and a one-key JWTAUTH_ENCRYPTION_KEYS ring whose key
id, k<date>-<random>, is unique, in environment-file format. To rotate, put
the new ring first and keep the old keys after it.
`,
	"passwd": `usage: echo -n PASSWORD | jwtauth passwd [NAME]

Reads a password from the first line of stdin and prints its bcrypt hash,
as NAME:hash when NAME is given: an entry of JWTAUTH_DEMO_USERS that
production accepts (it refuses plaintext passwords there).
`,
	"inspect": `usage: jwtauth inspect TOKEN
       jwtauth inspect -        (read the token from stdin)

Decrypts TOKEN with the configured keys (JWTAUTH_ENCRYPTION_KEYS; outside
production also $JWTAUTH_DATA_DIR/keys.env) and prints, as JSON, its JOSE
headers, claims, signature check, validation and expiry, and under
"revocation" whether the configured store was asked ("checked") and, when it
answered, whether the token is revoked. It never creates or migrates a
database. Exit status: 0 for a valid signature, 1 otherwise, 2 on a usage
or configuration error.
`,
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv, os.Environ())
	stop()
	os.Exit(code)
}

// run executes the command in args and returns the process exit code:
// 0 success, 1 failure, 2 usage or configuration error. Help (help,
// -h, --help, for the program or a command) goes to stdout with status 0;
// usage errors print the usage on stderr with status 2. environ is the
// environment as os.Environ returns it; unknown JWTAUTH_* names in it are
// warned about (serve logs them, migrate and inspect print them).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookup func(string) (string, bool), environ []string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	if isHelp(cmd) {
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage)
			return 0
		}
		if u, ok := commandUsage[rest[0]]; ok && len(rest) == 1 {
			fmt.Fprint(stdout, u)
			return 0
		}
		fmt.Fprintf(stderr, "jwtauth help: unknown command %q\n\n%s", strings.Join(rest, " "), usage)
		return 2
	}
	if u, ok := commandUsage[cmd]; ok && len(rest) == 1 && isHelp(rest[0]) {
		fmt.Fprint(stdout, u)
		return 0
	}
	warnings := jwtauth.UnknownVariables(environ)
	if cmd == "migrate" || cmd == "inspect" {
		for _, w := range warnings {
			fmt.Fprintf(stderr, "jwtauth %s: warning: %s\n", cmd, w)
		}
	}
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr, lookup, warnings)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr, lookup)
	case "keygen":
		return runKeygen(rest, stdout, stderr)
	case "passwd":
		return runPasswd(rest, stdin, stdout, stderr)
	case "inspect":
		return runInspect(ctx, rest, stdin, stdout, stderr, lookup)
	default:
		fmt.Fprintf(stderr, "jwtauth: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
