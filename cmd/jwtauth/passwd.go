package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// runPasswd reads a password (the first line of stdin) and prints its
// bcrypt hash, as "NAME:hash" when a name is given: an entry of
// JWTAUTH_DEMO_USERS that production accepts.
func runPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 1 || (len(args) == 1 && (args[0] == "" || strings.ContainsAny(args[0], ":,"))) {
		fmt.Fprintf(stderr, "jwtauth passwd: want at most one NAME without ':' or ','\n\n%s", commandUsage["passwd"])
		return 2
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "jwtauth passwd: reading the password: %v\n", err)
		return 1
	}
	password := strings.TrimRight(line, "\r\n")
	switch {
	case password == "":
		fmt.Fprintln(stderr, "jwtauth passwd: no password on stdin (usage: echo -n PASSWORD | jwtauth passwd NAME)")
		return 2
	case len(password) > maxPasswordLen:
		fmt.Fprintf(stderr, "jwtauth passwd: the password must be at most %d bytes (bcrypt reads no more)\n", maxPasswordLen)
		return 2
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		fmt.Fprintf(stderr, "jwtauth passwd: %v\n", err)
		return 1
	}
	// Go writes the $2a$ prefix; its algorithm is that of $2b$ (no
	// wrap-around bug), which is what other tools write today.
	out := "$2b$" + strings.TrimPrefix(string(hash), "$2a$")
	if len(args) == 1 {
		out = args[0] + ":" + out
	}
	fmt.Fprintln(stdout, out)
	return 0
}
