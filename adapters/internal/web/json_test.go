package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/domain"
)

type sample struct {
	Token string `json:"token"`
	N     int    `json:"n"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    sample
		wantErr error
	}{
		{name: "ok", body: `{"token":"abc","n":2}`, want: sample{Token: "abc", N: 2}},
		{name: "whitespace around", body: " \n{\"token\":\"abc\"}\n ", want: sample{Token: "abc"}},
		{name: "unknown fields ignored", body: `{"token":"abc","extra":{"a":[1,2,{"b":null}]}}`, want: sample{Token: "abc"}},
		{name: "same key in different objects", body: `{"token":"abc","x":{"token":1},"y":[{"token":2},{"token":3}]}`, want: sample{Token: "abc"}},
		{name: "escaped unicode", body: `{"token":"\u00e9"}`, want: sample{Token: "é"}},
		{name: "empty", body: "", wantErr: domain.ErrInvalidArgument},
		{name: "blank", body: "  \n", wantErr: domain.ErrInvalidArgument},
		{name: "truncated", body: `{"token":"abc"`, wantErr: domain.ErrInvalidArgument},
		{name: "syntax", body: `{"token" "abc"}`, wantErr: domain.ErrInvalidArgument},
		{name: "array", body: `[{"token":"abc"}]`, wantErr: domain.ErrInvalidArgument},
		{name: "string", body: `"abc"`, wantErr: domain.ErrInvalidArgument},
		{name: "null", body: `null`, wantErr: domain.ErrInvalidArgument},
		{name: "trailing object", body: `{"token":"abc"}{}`, wantErr: domain.ErrInvalidArgument},
		{name: "trailing garbage", body: `{"token":"abc"} x`, wantErr: domain.ErrInvalidArgument},
		{name: "trailing number", body: `{"token":"abc"} 1`, wantErr: domain.ErrInvalidArgument},
		{name: "wrong type", body: `{"token":1}`, wantErr: domain.ErrInvalidArgument},
		{name: "overflow", body: `{"n":1e99}`, wantErr: domain.ErrInvalidArgument},
		{name: "invalid UTF-8", body: "{\"token\":\"a\xffb\"}", wantErr: domain.ErrInvalidArgument},
		{name: "duplicate key", body: `{"token":"a","token":"b"}`, wantErr: domain.ErrInvalidArgument},
		{name: "duplicate key differing in case", body: `{"token":"a","TOKEN":"b"}`, wantErr: domain.ErrInvalidArgument},
		{name: "nested duplicate key", body: `{"token":"a","x":{"k":1,"k":2}}`, wantErr: domain.ErrInvalidArgument},
		{name: "too deep", body: `{"x":` + strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth) + `}`, wantErr: domain.ErrInvalidArgument},
		{name: "too large", body: `{"token":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, wantErr: ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			var got sample
			err := DecodeJSON(httptest.NewRecorder(), r, &got)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.NotContains(t, err.Error(), "abc", "errors never quote the body")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeJSONDepthLimit(t *testing.T) {
	ok := `{"x":` + strings.Repeat("[", MaxJSONDepth-1) + strings.Repeat("]", MaxJSONDepth-1) + `}`
	var v sample
	assert.NoError(t, Unmarshal([]byte(ok), &v))
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"token":"a"}`, `{"a":[1,{"b":2}]}`, `{"a":1,"a":2}`, `{}{}`, `[`, "\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v sample
		if err := Unmarshal(data, &v); err != nil {
			require.ErrorIs(t, err, domain.ErrInvalidArgument)
		}
	})
}
