package memstore

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// tuple is an (index name, entry value, record key) triple.
type tuple struct{ name, value, key string }

func compareTuples(a, b tuple) int {
	return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.value, b.value), cmp.Compare(a.key, b.key))
}

// fields lists every string of up to two bytes over an alphabet of the
// bytes the encoding treats specially and their neighbours.
func fields() []string {
	alphabet := []string{"\x00", "\x01", "\x02", "a", "\xfe", "\xff"}
	out := []string{""}
	for _, a := range alphabet {
		out = append(out, a)
		for _, b := range alphabet {
			out = append(out, a+b)
		}
	}
	return out
}

func randomTuples(n int) []tuple {
	rng := rand.New(rand.NewPCG(1, 2))
	fs := fields()
	pick := func() string { return fs[rng.IntN(len(fs))] }
	ts := make([]tuple, n)
	for i := range ts {
		ts[i] = tuple{pick(), pick(), pick()}
	}
	return ts
}

// Index names are arbitrary strings to the store, so the encoding must order
// them too, including names with 0x00, which the conformance suite leaves out.
func TestEntryIDOrdersLikeTuples(t *testing.T) {
	ts := randomTuples(5000)
	slices.SortFunc(ts, func(a, b tuple) int {
		return cmp.Compare(entryID(a.name, a.value, a.key), entryID(b.name, b.value, b.key))
	})
	for i := 1; i < len(ts); i++ {
		if c := compareTuples(ts[i-1], ts[i]); c > 0 || (c == 0 && entryID(ts[i-1].name, ts[i-1].value, ts[i-1].key) != entryID(ts[i].name, ts[i].value, ts[i].key)) {
			t.Fatalf("entryID orders %q before %q", ts[i-1], ts[i])
		}
	}
}

func TestBoundsSplitEntries(t *testing.T) {
	ts := randomTuples(1000)
	fs := fields()
	for _, x := range ts {
		id := entryID(x.name, x.value, x.key)
		for _, name := range fs {
			// indexEnd(name) is above exactly the entries of names <= name.
			if got, want := indexEnd(name) > id, x.name <= name; got != want {
				t.Fatalf("indexEnd(%q) > entryID%q = %t, want %t", name, x, got, want)
			}
			for _, v := range fs {
				// boundID(name, v) is at or below exactly the entries
				// with (name, value) >= (name, v), and is no entry's id.
				if boundID(name, v) == id {
					t.Fatalf("boundID(%q, %q) equals entryID%q", name, v, x)
				}
				if got, want := boundID(name, v) < id, cmp.Or(cmp.Compare(x.name, name), cmp.Compare(x.value, v)) >= 0; got != want {
					t.Fatalf("boundID(%q, %q) < entryID%q = %t, want %t", name, v, x, got, want)
				}
			}
		}
	}
}
