package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

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
		{name: "duplicate key by Unicode folding (long s)", body: `{"token":"a","toKen":"b","\u017fx":1}`, wantErr: domain.ErrInvalidArgument},
		{name: "duplicate key by long s", body: `{"n":1,"token":"a","tokeN":"b"}`, wantErr: domain.ErrInvalidArgument},
		{name: "duplicate username by long s", body: `{"username":"alice","u\u017fername":"bob"}`, wantErr: domain.ErrInvalidArgument},
		{name: "duplicate username by raw long s", body: `{"username":"alice","uſername":"bob"}`, wantErr: domain.ErrInvalidArgument},
		{name: "duplicate token by Kelvin sign", body: `{"token":"a","to\u212Aen":"b"}`, wantErr: domain.ErrInvalidArgument},
		{name: "nested duplicate key", body: `{"token":"a","x":{"k":1,"k":2}}`, wantErr: domain.ErrInvalidArgument},
		{name: "too deep", body: `{"x":` + strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth) + `}`, wantErr: domain.ErrInvalidArgument},
		{name: "too large", body: `{"token":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, wantErr: ErrBodyTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
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

func TestDecodeJSONContentType(t *testing.T) {
	tests := []struct {
		name, contentType string
		wantErr           error
	}{
		{name: "json", contentType: "application/json"},
		{name: "json with charset", contentType: "application/json; charset=utf-8"},
		{name: "upper case", contentType: "Application/JSON"},
		{name: "text/plain (a CORS simple request)", contentType: "text/plain", wantErr: ErrUnsupportedMediaType},
		{name: "form", contentType: "application/x-www-form-urlencoded", wantErr: ErrUnsupportedMediaType},
		{name: "multipart", contentType: "multipart/form-data; boundary=x", wantErr: ErrUnsupportedMediaType},
		{name: "missing", contentType: "", wantErr: ErrUnsupportedMediaType},
		{name: "json suffix", contentType: "application/problem+json", wantErr: ErrUnsupportedMediaType},
		{name: "garbage", contentType: "application/json;;", wantErr: ErrUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"token":"abc"}`))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var got sample
			err := DecodeJSON(httptest.NewRecorder(), r, &got)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Equal(t, http.StatusUnsupportedMediaType, Classify(err).Status)
				assert.Equal(t, CodeUnsupportedMedia, Classify(err).Code)
				assert.Empty(t, got.Token, "nothing decoded")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "abc", got.Token)
		})
	}
}

// TestFoldNameMatchesEncodingJSON: for every letter that has other case
// forms, a member named by any of them decodes into the field named by
// the rune (encoding/json's rule), and foldName says they are the same
// name; a rune of another orbit is a different name.
func TestFoldNameMatchesEncodingJSON(t *testing.T) {
	checked := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		// Only letters can name a field (encoding/json's isValidTag); for
		// other runes the check is stricter than needed, which is safe.
		if unicode.SimpleFold(r) == r || !utf8.ValidRune(r) || !unicode.IsLetter(r) {
			continue
		}
		field := "a" + string(r)
		typ := reflect.StructOf([]reflect.StructField{{Name: "F", Type: reflect.TypeFor[int](), Tag: reflect.StructTag(`json:"` + field + `"`)}})
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			member := "a" + string(o)
			v := reflect.New(typ)
			require.NoError(t, json.Unmarshal([]byte(`{"`+member+`":1}`), v.Interface()))
			matched := v.Elem().Field(0).Int() == 1
			assert.Equal(t, matched, bytes.Equal(foldName(field), foldName(member)), "%U vs %U", r, o)
			checked++
		}
	}
	assert.Greater(t, checked, 2000)
	assert.Equal(t, foldName("username"), foldName("u\u017fername"))
	assert.NotEqual(t, foldName("username"), foldName("usernamf"))
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
