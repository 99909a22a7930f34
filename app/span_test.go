package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"
)

// TestDefaultGlobalTracerProviderRecognised fails when otel renames its
// default provider, which would silently bring back three allocations per
// use case (see telemetry.span).
func TestDefaultGlobalTracerProviderRecognised(t *testing.T) {
	assert.True(t, isDefaultGlobal(otel.GetTracerProvider()))
	assert.False(t, isDefaultGlobal(noop.NewTracerProvider()))
	assert.False(t, isDefaultGlobal(nil))
}
