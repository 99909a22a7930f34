package sqlstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
)

func TestIsUUID(t *testing.T) {
	assert.True(t, isUUID(domain.NewGeneration()))
	assert.True(t, isUUID("6BA7B810-9DAD-11D1-80B4-00C04FD430C8"))
	for _, s := range []string{"", "not-a-uuid", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810x9dad-11d1-80b4-00c04fd430c8", "6ba7b810-9dad-11d1-80b4-00c04fd430cg"} {
		assert.False(t, isUUID(s), s)
	}
}

func TestDBTime(t *testing.T) {
	want := time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)
	tests := []struct {
		name    string
		src     any
		want    time.Time
		wantErr bool
	}{
		{"null", nil, time.Time{}, false},
		{"time", want.In(time.FixedZone("X", 3600)), want, false},
		{"text", timeArg(want), want, false},
		{"bytes", []byte(timeArg(want)), want, false},
		{"sqlite datetime", "2030-01-02 03:04:05.678901", want, false},
		{"empty", "", time.Time{}, false},
		{"garbage", "yesterday", time.Time{}, true},
		{"wrong type", 42, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got dbTime
			err := got.Scan(tt.src)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Time)
		})
	}
	assert.Equal(t, "2030-01-02T03:04:05.678901Z", timeArg(want.Add(999)), "truncated to microseconds, fixed width")
	assert.Nil(t, nullTimeArg(time.Time{}))
}
