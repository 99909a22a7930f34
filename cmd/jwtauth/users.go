package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/jwtauth/jwtauth"
	"github.com/jwtauth/jwtauth/domain"
	"github.com/jwtauth/jwtauth/ports"
)

// DemoUser is the reference server's user claims: what GET /auth/me shows.
type DemoUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// Login input limits. bcrypt reads at most 72 bytes of a password.
const (
	maxUsernameLen = 128
	maxPasswordLen = 72
)

// demoUsers are the accounts of JWTAUTH_DEMO_USERS with bcrypt hashes. It
// is read-only after newDemoUsers, so safe for concurrent use.
type demoUsers struct {
	byName map[string]demoAccount
	byID   map[string]DemoUser
	// dummy is compared against for unknown usernames, so that a login
	// costs one bcrypt comparison whether or not the user exists.
	dummy []byte
}

type demoAccount struct {
	user DemoUser
	hash []byte
}

var _ ports.UserLoader[DemoUser] = (*demoUsers)(nil)

// demoUserID returns the stable id of a demo user: "user-" and the first
// 8 bytes of the SHA-256 of the name, in hex.
func demoUserID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "user-" + hex.EncodeToString(sum[:8])
}

// isBcryptHash reports whether s has the shape of a bcrypt hash
// ($2a$, $2b$ or $2y$, a two-digit cost, 53 characters of salt and hash).
func isBcryptHash(s string) bool {
	if len(s) != 60 || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return false
	}
	_, err := bcrypt.Cost([]byte(s))
	return err == nil && strings.ContainsRune("aby", rune(s[2]))
}

// newDemoUsers parses spec ("name:password,..." or "name:$2b$..." bcrypt
// hashes, as 'jwtauth passwd' prints them) and hashes the plaintext
// passwords with bcrypt at cost. In production it refuses the built-in
// demo account and any plaintext password. Errors name
// JWTAUTH_DEMO_USERS, never a password.
func newDemoUsers(spec string, cost int, production bool) (*demoUsers, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: JWTAUTH_DEMO_USERS: %s", jwtauth.ErrConfig, fmt.Sprintf(format, args...))
	}
	if production && strings.TrimSpace(spec) == jwtauth.DefaultDemoUsers {
		return nil, bad("the built-in demo account is refused in production (JWTAUTH_ENV=production): set your users as name:$2b$... hashes made by 'jwtauth passwd'")
	}
	d := &demoUsers{byName: map[string]demoAccount{}, byID: map[string]DemoUser{}}
	// Unknown usernames are compared against a hash as costly as the
	// costliest user's, so timing does not tell them apart.
	dummyCost := cost
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name, password, ok := strings.Cut(entry, ":")
		name = strings.TrimSpace(name)
		switch {
		case !ok || name == "" || password == "":
			return nil, bad("entry %d: want name:password", i+1)
		case len(name) > maxUsernameLen || !utf8.ValidString(name):
			return nil, bad("entry %d: the name must be 1 to %d bytes of UTF-8", i+1, maxUsernameLen)
		case len(password) > maxPasswordLen:
			return nil, bad("entry %d (%s): the password must be at most %d bytes", i+1, name, maxPasswordLen)
		}
		if _, dup := d.byName[name]; dup {
			return nil, bad("user %q appears twice", name)
		}
		var hash []byte
		switch {
		case isBcryptHash(password):
			hash = []byte(password)
		case strings.HasPrefix(password, "$2"):
			return nil, bad("entry %d (%s): not a valid bcrypt hash", i+1, name)
		case production:
			return nil, bad("entry %d (%s): plaintext passwords are refused in production (JWTAUTH_ENV=production): use a bcrypt hash from 'jwtauth passwd'", i+1, name)
		default:
			h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
			if err != nil {
				return nil, bad("entry %d (%s): %v", i+1, name, err)
			}
			hash = h
		}
		if c, err := bcrypt.Cost(hash); err == nil {
			dummyCost = max(dummyCost, c)
		}
		u := DemoUser{ID: demoUserID(name), Username: name}
		d.byName[name] = demoAccount{user: u, hash: hash}
		d.byID[u.ID] = u
	}
	if len(d.byName) == 0 {
		return nil, bad("no users")
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("jwtauth dummy password"), dummyCost)
	if err != nil {
		return nil, bad("%v", err)
	}
	d.dummy = dummy
	return d, nil
}

// check returns the user when username and password match. It always
// costs one bcrypt comparison, for unknown users too, so that timing does
// not tell which usernames exist.
func (d *demoUsers) check(username, password string) (DemoUser, bool) {
	acct, known := d.byName[username]
	hash := acct.hash
	if !known {
		hash = d.dummy
	}
	pw := []byte(password)
	if len(pw) > maxPasswordLen {
		pw, known = pw[:maxPasswordLen], false // never matches: demo passwords are ≤ 72 bytes
	}
	if bcrypt.CompareHashAndPassword(hash, pw) != nil || !known {
		return DemoUser{}, false
	}
	return acct.user, true
}

// LoadUser implements ports.UserLoader: an unknown id (a user removed
// from JWTAUTH_DEMO_USERS since the token was issued) is revoked.
func (d *demoUsers) LoadUser(_ context.Context, userID string) (DemoUser, error) {
	u, ok := d.byID[userID]
	if !ok {
		return DemoUser{}, fmt.Errorf("%w: unknown user", domain.ErrRevoked)
	}
	return u, nil
}
