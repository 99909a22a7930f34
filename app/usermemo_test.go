package app

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type plainUser struct {
	Name   string   `json:"name"`
	Level  int      `json:"level"`
	Scores [2]uint8 `json:"scores"`
}

type upperName string

func (u *upperName) UnmarshalText(b []byte) error { *u = upperName(fmt.Sprintf("%X", b)); return nil }

func TestMemoizable(t *testing.T) {
	for _, c := range []struct {
		v    any
		want bool
	}{
		{plainUser{}, true}, {"", true}, {0.5, true}, {[3]int{}, true}, {struct{}{}, true},
		{struct{ N json.Number }{}, true}, {struct{ R []string }{}, false}, {struct{ P *int }{}, false},
		{struct{ M map[string]int }{}, false}, {struct{ A any }{}, false}, {struct{ T time.Time }{}, false},
		{struct{ N upperName }{}, false}, {json.RawMessage{}, false},
	} {
		assert.Equal(t, c.want, memoizable(reflect.TypeOf(c.v)), "%T", c.v)
	}
	assert.Nil(t, newUserMemo[struct{ R []string }]())
	assert.NotNil(t, newUserMemo[plainUser]())
}

// TestUserSlotMemo decodes many users' claims concurrently through one
// memo, far more than it holds: every decoding equals encoding/json's,
// hash collisions and evictions included, and repeated claims are served
// from the memo.
func TestUserSlotMemo(t *testing.T) {
	memo := newUserMemo[plainUser]()
	const users, rounds = 3 * userMemoSize, 4
	claims := make([][]byte, users)
	for i := range claims {
		b, err := json.Marshal(plainUser{Name: fmt.Sprintf("user-%d", i), Level: i, Scores: [2]uint8{uint8(i), 1}})
		require.NoError(t, err)
		claims[i] = b
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for r := range rounds {
				for i := range users {
					b := claims[(i+g*users/8+r)%users]
					var want plainUser
					if err := json.Unmarshal(b, &want); err != nil {
						errs <- err
						return
					}
					s := &userSlot[plainUser]{memo: memo}
					if err := s.UnmarshalJSON(b); err != nil || s.user != want {
						errs <- fmt.Errorf("%s: got %+v, %v", b, s.user, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := &userSlot[plainUser]{memo: memo}
	require.Error(t, s.UnmarshalJSON([]byte(`{"level":"x"}`)))
	require.NoError(t, s.UnmarshalJSON(claims[0]))
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { _ = s.UnmarshalJSON(claims[0]) }), "a repeated claim is served from the memo")
}
