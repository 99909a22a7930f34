package benchmarks

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/jwtauth/jwtauth/app"
)

// TestFloorRatioCPU measures Authenticate (as BenchmarkAuthenticateBigcache,
// and with the token memo off as BenchmarkAuthenticateFirstUse)
// against the floor (as BenchmarkFloor) in CPU time rather than wall time:
// 15 alternating rounds of 20,000 calls each, timed by the process's
// rusage (user + system), and logs the median and fastest round of each
// and their ratios. On a machine shared with other work, a benchmark's
// wall time also counts the time the process waits for a core; its CPU
// time does not, so the ratio moves less. It asserts nothing about speed
// and runs only with JWTAUTH_CPU=1:
//
//	JWTAUTH_CPU=1 go test -run TestFloorRatioCPU -v ./internal/benchmarks/
func TestFloorRatioCPU(t *testing.T) {
	if os.Getenv("JWTAUTH_CPU") != "1" {
		t.Skip("set JWTAUTH_CPU=1 to measure")
	}
	f, floorToken := newFloor(t)

	svc := newService(t, memoryBackend(t))
	token := login(t, svc)
	first := newServiceConfig(t, memoryBackend(t), app.Config{TokenMemo: -1})
	firstToken := login(t, first)
	ctx := context.Background()

	const rounds, calls = 15, 20_000
	var floorNs, authNs, firstNs []float64
	for range rounds {
		floorNs = append(floorNs, cpuPerCall(t, calls, func() error { return f.Check(floorToken) }))
		authNs = append(authNs, cpuPerCall(t, calls, func() error {
			_, err := svc.Authenticate(ctx, token, laptop)
			return err
		}))
		firstNs = append(firstNs, cpuPerCall(t, calls, func() error {
			_, err := first.Authenticate(ctx, firstToken, laptop)
			return err
		}))
	}
	slices.Sort(floorNs)
	slices.Sort(authNs)
	slices.Sort(firstNs)
	med := rounds / 2
	for _, r := range []struct {
		name string
		ns   []float64
	}{{"Authenticate", authNs}, {"Authenticate, token memo off (first use)", firstNs}} {
		t.Logf("CPU per call over %d rounds of %d: floor median %.0f ns, fastest %.0f ns; %s median %.0f ns, fastest %.0f ns; ratio of medians %.2fx, of fastest %.2fx",
			rounds, calls, floorNs[med], floorNs[0], r.name, r.ns[med], r.ns[0], r.ns[med]/floorNs[med], r.ns[0]/floorNs[0])
	}
}

// cpuPerCall runs fn n times and returns the process's CPU time per call
// in nanoseconds.
func cpuPerCall(t *testing.T, n int, fn func() error) float64 {
	t.Helper()
	start := cpuTime(t)
	for range n {
		if err := fn(); err != nil {
			t.Fatal(err)
		}
	}
	return float64(cpuTime(t)-start) / float64(n) // nanoseconds
}
