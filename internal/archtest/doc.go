// Package archtest checks the import rules of jwtauth's hexagon with
// go list: domain imports only the standard library, ports only domain,
// app only domain, ports and the OpenTelemetry API, and adapters never import each other (the
// shared adapters/internal packages excepted) nor the root assembly. It
// has no code of its own; run it with go test ./internal/archtest.
package archtest
