package jwe_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/jwtauth/jwtauth/adapters/jwe"
	"github.com/jwtauth/jwtauth/domain"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		keys    []jwe.Key
		wantErr error
	}{
		{name: "one key", keys: []jwe.Key{{ID: "k1", Secret: secret(1)}}},
		{name: "two keys", keys: []jwe.Key{{ID: "k2", Secret: secret(2)}, {ID: "k1", Secret: secret(1)}}},
		{name: "id of every allowed character", keys: []jwe.Key{{ID: "azAZ09._-", Secret: secret(1)}}},
		{name: "id of 64 characters", keys: []jwe.Key{{ID: strings.Repeat("k", 64), Secret: secret(1)}}},
		{name: "empty ring", keys: nil, wantErr: domain.ErrInvalidArgument},
		{name: "duplicate id", keys: []jwe.Key{{ID: "k1", Secret: secret(1)}, {ID: "k1", Secret: secret(2)}}, wantErr: domain.ErrInvalidArgument},
		{name: "empty id", keys: []jwe.Key{{ID: "", Secret: secret(1)}}, wantErr: domain.ErrInvalidArgument},
		{name: "id of 65 characters", keys: []jwe.Key{{ID: strings.Repeat("k", 65), Secret: secret(1)}}, wantErr: domain.ErrInvalidArgument},
		{name: "id with quote", keys: []jwe.Key{{ID: `k"1`, Secret: secret(1)}}, wantErr: domain.ErrInvalidArgument},
		{name: "id with colon", keys: []jwe.Key{{ID: "k:1", Secret: secret(1)}}, wantErr: domain.ErrInvalidArgument},
		{name: "id with space", keys: []jwe.Key{{ID: "k 1", Secret: secret(1)}}, wantErr: domain.ErrInvalidArgument},
		{name: "id not ASCII", keys: []jwe.Key{{ID: "kö", Secret: secret(1)}}, wantErr: domain.ErrInvalidArgument},
		{name: "16-byte secret", keys: []jwe.Key{{ID: "k1", Secret: secret(1)[:16]}}, wantErr: domain.ErrInvalidArgument},
		{name: "33-byte secret", keys: []jwe.Key{{ID: "k1", Secret: append(secret(1), 0)}}, wantErr: domain.ErrInvalidArgument},
		{name: "no secret", keys: []jwe.Key{{ID: "k1"}}, wantErr: domain.ErrInvalidArgument},
		{name: "second key bad", keys: []jwe.Key{{ID: "k1", Secret: secret(1)}, {ID: "k2", Secret: secret(2)[:31]}}, wantErr: domain.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := jwe.New(tt.keys...)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.NotNil(t, c)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			for _, k := range tt.keys {
				if len(k.Secret) > 0 {
					assert.NotContains(t, err.Error(), string(k.Secret))
					assert.NotContains(t, err.Error(), base64.StdEncoding.EncodeToString(k.Secret))
				}
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	s1, s2 := secret(1), secret(0xf0) // 0xf0.. encodes with + and / in standard base64
	std := base64.StdEncoding.EncodeToString
	tests := []struct {
		name    string
		in      string
		want    []jwe.Key
		wantErr error
	}{
		{name: "one key", in: "k1:" + std(s1), want: []jwe.Key{{ID: "k1", Secret: s1}}},
		{name: "two keys with spaces", in: " k2:" + std(s2) + " , k1:" + std(s1) + " ", want: []jwe.Key{{ID: "k2", Secret: s2}, {ID: "k1", Secret: s1}}},
		{name: "standard without padding", in: "k2:" + base64.RawStdEncoding.EncodeToString(s2), want: []jwe.Key{{ID: "k2", Secret: s2}}},
		{name: "URL-safe with padding", in: "k2:" + base64.URLEncoding.EncodeToString(s2), want: []jwe.Key{{ID: "k2", Secret: s2}}},
		{name: "URL-safe without padding", in: "k2:" + base64.RawURLEncoding.EncodeToString(s2), want: []jwe.Key{{ID: "k2", Secret: s2}}},
		{name: "empty", in: "", wantErr: domain.ErrInvalidArgument},
		{name: "blank", in: "  ", wantErr: domain.ErrInvalidArgument},
		{name: "no kid", in: std(s1), wantErr: domain.ErrInvalidArgument},
		{name: "empty kid", in: ":" + std(s1), wantErr: domain.ErrInvalidArgument},
		{name: "bad kid", in: "k/1:" + std(s1), wantErr: domain.ErrInvalidArgument},
		{name: "not base64", in: "k1:" + std(s1)[:10] + "!" + std(s1)[11:], wantErr: domain.ErrInvalidArgument},
		{name: "short key", in: "k1:" + std(s1[:16]), wantErr: domain.ErrInvalidArgument},
		{name: "duplicate kid", in: "k1:" + std(s1) + ",k1:" + std(s2), wantErr: domain.ErrInvalidArgument},
		{name: "trailing comma", in: "k1:" + std(s1) + ",", wantErr: domain.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jwe.ParseKeys(tt.in)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.ErrorIs(t, err, tt.wantErr)
			assert.NotContains(t, err.Error(), std(s1)[:8])
			assert.NotContains(t, err.Error(), std(s2)[:8])
		})
	}
}

func TestGenerateAndFormatKeys(t *testing.T) {
	keys := []jwe.Key{jwe.GenerateKey("k2"), jwe.GenerateKey("k1")}
	assert.Len(t, keys[0].Secret, jwe.KeySize)
	assert.NotEqual(t, keys[0].Secret, keys[1].Secret)

	s := jwe.FormatKeys(keys)
	assert.True(t, strings.HasPrefix(s, "k2:"), s)
	got, err := jwe.ParseKeys(s)
	require.NoError(t, err)
	assert.Equal(t, keys, got)

	_, err = jwe.New(got...)
	assert.NoError(t, err)
}

func TestKeyNeverPrintsSecret(t *testing.T) {
	k := jwe.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprint([]jwe.Key{k})} {
		if strings.Contains(s, "0123456789") {
			t.Fatalf("secret printed: %s", s)
		}
	}
}
