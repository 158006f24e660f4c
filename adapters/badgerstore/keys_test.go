package badgerstore

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomString draws from a tiny alphabet that includes the bytes the
// escaping treats specially, so prefixes and ties are frequent.
func randomString(r *rand.Rand) string {
	alphabet := []byte{0x00, 0x01, 0x02, 'a', 0xfe, 0xff}
	b := make([]byte, r.IntN(5))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func TestIndexKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type entry struct{ name, value, key string }
	for range 2000 {
		a := entry{randomString(r), randomString(r), randomString(r)}
		b := entry{randomString(r), randomString(r), randomString(r)}
		if r.IntN(2) == 0 {
			b.name = a.name
			if r.IntN(2) == 0 {
				b.value = a.value
			}
		}
		want := strings.Compare(a.name, b.name)
		if want == 0 {
			want = strings.Compare(a.value, b.value)
		}
		if want == 0 {
			want = strings.Compare(a.key, b.key)
		}
		got := bytes.Compare(indexKey(a.name, a.value, a.key), indexKey(b.name, b.value, b.key))
		if got != want {
			t.Fatalf("compare(%q, %q) = %d, want %d", a, b, got, want)
		}
	}
}

func TestIndexBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		name, value, key := randomString(r), randomString(r), randomString(r)
		from, to := randomString(r), randomString(r)
		k := indexKey(name, value, key)
		lo, hi := indexBounds(name, from, to)
		got := bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) < 0
		want := value >= from && (to == "" || value < to)
		if got != want {
			t.Fatalf("entry %q in [%q, %q) of index %q: got %v, want %v", value, from, to, name, got, want)
		}
		// Other indexes never fall inside the bounds.
		other := name + "\x00"
		if ko := indexKey(other, value, key); bytes.Compare(ko, lo) >= 0 && bytes.Compare(ko, hi) < 0 {
			t.Fatalf("entry of index %q inside bounds of index %q", other, name)
		}
	}
}

func TestSplitIndexKey(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		name, value, key := randomString(r), randomString(r), randomString(r)
		gotValue, gotKey, ok := splitIndexKey(indexPrefix(name), indexKey(name, value, key))
		if !ok || string(gotValue) != value || string(gotKey) != key {
			t.Fatalf("split(%q, %q, %q) = %q, %q, %v", name, value, key, gotValue, gotKey, ok)
		}
	}
	bad := [][]byte{
		{},
		append(indexPrefix("due"), 'x'), // no terminator
		append(indexPrefix("due"), 0x00, 0x02, 'k'), // bad escape
		indexKey("subject", "v", "k"),               // another index
	}
	for _, k := range bad {
		if _, _, ok := splitIndexKey(indexPrefix("due"), k); ok {
			t.Errorf("split(%q) ok, want malformed", k)
		}
	}
}

func TestKeyKindsDoNotOverlap(t *testing.T) {
	keys := [][]byte{recordKey("a"), indexKey("due", "1", "a"), metaFormat, metaVersion}
	kinds := make([]byte, 0, len(keys))
	for _, k := range keys {
		kinds = append(kinds, k[0])
	}
	slices.Sort(kinds)
	if len(slices.Compact(kinds)) != 3 {
		t.Fatalf("kinds %q, want three distinct", kinds)
	}
}
