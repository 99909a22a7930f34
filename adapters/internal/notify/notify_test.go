package notify

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
)

func TestJoin(t *testing.T) {
	tests := []struct {
		name  string
		keys  []string
		limit int
		want  []string
	}{
		{"none", nil, 10, nil},
		{"one", []string{"a"}, 10, []string{"a"}},
		{"fits exactly", []string{"abcd", "efgh"}, 9, []string{"abcd\nefgh"}},
		{"split", []string{"abcd", "efgh", "ij"}, 8, []string{"abcd", "efgh\nij"}},
		{"oversized key alone", []string{"a", "0123456789", "b"}, 5, []string{"a", "0123456789", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := join(tt.keys, tt.limit)
			assert.Equal(t, tt.want, got)
			var back []string
			for _, p := range got {
				back = append(back, Split(p)...)
			}
			assert.Equal(t, tt.keys, back, "keys survive the round trip in order")
		})
	}
}

func TestPayloads(t *testing.T) {
	keys := make([]string, 600)
	for i := range keys {
		keys[i] = "session:" + strings.Repeat("x", 28)
	}
	got, err := Payloads(keys)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(got), 3)
	for _, p := range got {
		assert.LessOrEqual(t, len(p), MaxPayload)
	}

	got, err = Payloads(nil)
	require.NoError(t, err)
	assert.Empty(t, got)

	for _, k := range []string{"", "a\nb", "a\x00b", "\xff", strings.Repeat("k", MaxPayload+1)} {
		_, err := Payloads([]string{"ok", k})
		assert.ErrorIs(t, err, domain.ErrInvalidArgument, "%q", k)
	}
	assert.NoError(t, CheckKey(strings.Repeat("k", MaxPayload)))
}

func TestSplitEmpty(t *testing.T) {
	assert.Nil(t, Split(""))
}
