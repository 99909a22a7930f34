package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: jwtauth <command> [arguments]

commands:
  serve          run the reference HTTP server on JWTAUTH_ADDR
  migrate        create or upgrade the tables of the configured database
  keygen         print a fresh JWTAUTH_SIGNING_KEY and JWTAUTH_ENCRYPTION_KEYS
  passwd [NAME]  print the bcrypt hash of the password read from stdin, as
                 NAME:hash for JWTAUTH_DEMO_USERS (production takes only hashes)
  inspect TOKEN  decrypt TOKEN ("-": read it from stdin) with the configured
                 keys and print its headers, claims, signature and expiry
  help           print this text

Configuration comes from the JWTAUTH_* environment variables. Outside
production (JWTAUTH_ENV != production), missing keys are generated once and
kept in $JWTAUTH_DATA_DIR/keys.env.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// run executes the command in args and returns the process exit code:
// 0 success, 1 failure, 2 usage or configuration error.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr, lookup)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr, lookup)
	case "keygen":
		return runKeygen(rest, stdout, stderr)
	case "passwd":
		return runPasswd(rest, stdin, stdout, stderr)
	case "inspect":
		return runInspect(rest, stdin, stdout, stderr, lookup)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stderr, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "jwtauth: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
