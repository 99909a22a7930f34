// Package throttle limits password guessing in a login handler. It keeps
// a token bucket of FAILED logins per client address (IPv6 by /64) and per
// username, and bounds how many password checks run at once.
//
// The check is atomic: Begin takes a failure token from the address's
// bucket before the password is checked, and Attempt.Succeed gives it
// back, so N concurrent guesses from one address check at most the
// bucket's worth of passwords, however they are timed. Begin also takes a
// slot of the concurrency bound, so a flood of logins cannot turn the
// server into a password-hashing (bcrypt) CPU amplifier: past the bound
// Begin answers ErrLimited at once.
//
// An exhausted address is refused everything (nothing from it is
// checked). An exhausted username is NOT refused: its password is still
// checked, a correct one logs in and only a failure is answered
// ErrLimited. Guesses from other addresses therefore never lock the owner
// out from their own address.
//
// The reference server (jwtauth serve) uses it; applications use it in
// their own login handlers (see the example).
package throttle
