package app

import (
	"encoding"
	"encoding/json"
	"hash/maphash"
	"reflect"
	"sync/atomic"
)

// userMemoSize is the number of user claims a userMemo remembers.
const userMemoSize = 1024

// userMemo remembers the user claims of recent tokens by their JSON text,
// so that a user's every request does not decode the same "usr" claim
// again (encoding/json: four allocations and a fifth of Authenticate's
// time). It is direct-mapped: a slot holds the last claims hashed to it,
// so memory stays bounded whatever the number of users, and a miss only
// costs the decoding it saves otherwise. Lookups compare the whole JSON,
// so a hash collision is a miss, never a wrong user.
//
// It only serves user types whose decoding is a pure function of the
// JSON and whose values can be shared by copy: no pointers, slices, maps,
// interfaces or custom unmarshalers (see memoizable). Others are decoded
// every time.
type userMemo[U any] struct {
	seed  maphash.Seed
	slots [userMemoSize]atomic.Pointer[userEntry[U]]
}

type userEntry[U any] struct {
	json string
	user U
}

// newUserMemo returns a memo for U, or nil when U is not memoizable.
func newUserMemo[U any]() *userMemo[U] {
	if !memoizable(reflect.TypeFor[U]()) {
		return nil
	}
	return &userMemo[U]{seed: maphash.MakeSeed()}
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// memoizable reports whether values of t are plain data that
// encoding/json decodes by itself: booleans, numbers, strings, and arrays
// and structs of them.
func memoizable(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	case reflect.Array:
		return memoizable(t.Elem())
	case reflect.Struct:
		for f := range t.Fields() {
			if !memoizable(f.Type) {
				return false
			}
		}
		return true
	}
	return false
}

// userSlot receives a token's "usr" claim: the codec calls its
// UnmarshalJSON with the claim's JSON, as encoding/json would.
type userSlot[U any] struct {
	memo *userMemo[U] // nil: decode every time
	user U
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *userSlot[U]) UnmarshalJSON(b []byte) error {
	if s.memo == nil {
		return json.Unmarshal(b, &s.user)
	}
	slot := &s.memo.slots[maphash.Bytes(s.memo.seed, b)%userMemoSize]
	if e := slot.Load(); e != nil && e.json == string(b) {
		s.user = e.user
		return nil
	}
	if err := json.Unmarshal(b, &s.user); err != nil {
		return err
	}
	slot.Store(&userEntry[U]{json: string(b), user: s.user})
	return nil
}
