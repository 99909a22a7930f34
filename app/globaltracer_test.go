package app_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestSpansFollowTheGlobalProvider: a service built before any global
// TracerProvider is installed starts no spans while there is none (the
// default provider would only make non-recording ones), and traces every
// use case once otel.SetTracerProvider installs one. It runs in a child
// process, since the global provider can be set only once.
func TestSpansFollowTheGlobalProvider(t *testing.T) {
	if os.Getenv("JWTAUTH_TEST_GLOBAL_TRACER") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSpansFollowTheGlobalProvider$", "-test.count=1") // #nosec G204 -- this test binary
		cmd.Env = append(os.Environ(), "JWTAUTH_TEST_GLOBAL_TRACER=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Contains(t, string(out), "PASS")
		return
	}
	f := newFixture(t, nil)
	ctx := context.Background()
	pair := f.login(t, "alice", alice)
	_, err := f.svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err)

	spans := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)))
	_, err = f.svc.Authenticate(ctx, pair.AccessToken, alice)
	require.NoError(t, err)
	var names []string
	for _, s := range spans.Ended() {
		names = append(names, s.Name())
	}
	assert.Contains(t, names, "jwtauth.Authenticate")
}
