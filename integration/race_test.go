//go:build race

package integration

// Under -race the server binary is built with the race detector too, so
// that the end-to-end traffic also checks the server for data races.
func init() { buildFlags = append(buildFlags, "-race") }
