package main

import (
	"fmt"
	"io"
	"time"

	"github.com/jwtauth/jwtauth"
)

// runKeygen prints a fresh signing key (64 bytes: long enough for HS256,
// HS384 and HS512) and a one-key encryption ring in the environment-file
// format, and nothing else.
func runKeygen(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "jwtauth keygen: unexpected arguments %q\n\n%s", args, commandUsage["keygen"])
		return 2
	}
	fmt.Fprintf(stdout, "%s=%s\n%s=%s\n",
		"JWTAUTH_SIGNING_KEY", jwtauth.GenerateSigningKey(64),
		"JWTAUTH_ENCRYPTION_KEYS", jwtauth.GenerateEncryptionKeys(time.Now()))
	return 0
}
