// Package memory provides in-process implementations of jwtauth's ports:
// a Store, a Cache and a Bus. They are safe for concurrent use, pass the
// same contract suites as the real adapters (package porttest), and are
// meant for applications' own tests, examples and single-process quick
// starts. Nothing survives a restart.
package memory
