package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/app"
	"github.com/jwtauth/jwtauth/domain"
)

func TestAuthorizationToken(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    string
		dpop    bool
		wantErr error
	}{
		{name: "ok", headers: []string{"Bearer abc.def"}, want: "abc.def"},
		{name: "scheme case-insensitive", headers: []string{"bEARER abc"}, want: "abc"},
		{name: "longest", headers: []string{"Bearer " + strings.Repeat("a", app.MaxTokenLen)}, want: strings.Repeat("a", app.MaxTokenLen)},
		{name: "missing", wantErr: domain.ErrMissingToken},
		{name: "other scheme", headers: []string{"Basic YTpi"}, wantErr: domain.ErrMissingToken},
		{name: "scheme prefix only", headers: []string{"Bearerabc"}, wantErr: domain.ErrMissingToken},
		{name: "empty value", headers: []string{""}, wantErr: domain.ErrMissingToken},
		{name: "scheme alone", headers: []string{"Bearer"}, wantErr: domain.ErrMalformed},
		{name: "scheme and space", headers: []string{"Bearer "}, wantErr: domain.ErrMalformed},
		{name: "two spaces", headers: []string{"Bearer  abc"}, wantErr: domain.ErrMalformed},
		{name: "two tokens", headers: []string{"Bearer abc def"}, wantErr: domain.ErrMalformed},
		{name: "tab", headers: []string{"Bearer\tabc"}, wantErr: domain.ErrMissingToken},
		{name: "control char", headers: []string{"Bearer ab\x01c"}, wantErr: domain.ErrMalformed},
		{name: "non-ASCII", headers: []string{"Bearer abcé"}, wantErr: domain.ErrMalformed},
		{name: "too long", headers: []string{"Bearer " + strings.Repeat("a", app.MaxTokenLen+1)}, wantErr: domain.ErrMalformed},
		{name: "two headers", headers: []string{"Bearer abc", "Bearer def"}, wantErr: domain.ErrMalformed},
		{name: "DPoP", headers: []string{"DPoP abc.def"}, want: "abc.def", dpop: true},
		{name: "DPoP case-insensitive", headers: []string{"dpop abc"}, want: "abc", dpop: true},
		{name: "DPoP alone", headers: []string{"DPoP"}, wantErr: domain.ErrMalformed},
		{name: "DPoP prefix only", headers: []string{"DPoPabc"}, wantErr: domain.ErrMissingToken},
		{name: "DPoP two tokens", headers: []string{"DPoP abc def"}, wantErr: domain.ErrMalformed},
		{name: "DPoP and Bearer headers", headers: []string{"DPoP abc", "Bearer abc"}, wantErr: domain.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, h := range tt.headers {
				r.Header.Add("Authorization", h)
			}
			got, isDPoP, err := AuthorizationToken(r)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.dpop, isDPoP)
		})
	}
}
