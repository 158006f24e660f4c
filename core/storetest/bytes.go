package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sessionkit/sessionkit/core"
)

// Keys, index values and record values are byte strings: a store may not
// reserve a separator or terminator byte, and compares them as bytes.

// awkward lists strings whose byte order a store that escapes, terminates
// or joins strings carelessly gets wrong. Sorted as Go strings (bytewise).
var awkward = []string{
	"", "\x00", "\x00\x00", "\x00\x01", "\x00\xff", "\x01", "a", "a\x00", "a\x00\x00", "a\x00b",
	"a\x01", "ab", "a\xff", "\xfe\xff", "\xff", "\xff\x00", "\xff\xff", "\xff\xff\xff",
}

var byteTests = []test{
	{"KeysWithAnyBytes", func(t *testing.T, s core.Store) {
		// The empty key is left out: the contract does not say whether
		// it is a key.
		ks := awkward[1:]
		want := map[string]core.Record{}
		for i, k := range ks {
			r := rec(k, fmt.Sprintf("value %d", i), core.IndexOwner, "o")
			r.Version = put(t, s, r)
			want[k] = r
		}
		for _, k := range ks {
			wantRecord(t, s, want[k])
		}
		// Deleting one leaves its neighbours.
		del(t, s, "a\x00", 0)
		wantMissing(t, s, "a\x00")
		delete(want, "a\x00")
		var left []string
		for _, k := range ks {
			if r, ok := want[k]; ok {
				wantRecord(t, s, r)
				left = append(left, k)
			}
		}
		// Ties on the index value are broken by key bytes.
		wantScan(t, s, exact(core.IndexOwner, "o"), left...)
		wantScan(t, s, core.Range{Index: core.IndexOwner, Reverse: true}, reversed(left)...)
	}},
	{"IndexValuesWithAnyBytes", func(t *testing.T, s core.Store) {
		if !slices.IsSorted(awkward) {
			t.Fatal("storetest: awkward is not in byte order")
		}
		// Insert in reverse so insertion order is not the answer.
		for i := len(awkward) - 1; i >= 0; i-- {
			put(t, s, rec(fmt.Sprintf("k%02d", i), "", core.IndexDue, awkward[i]))
		}
		all := make([]string, len(awkward))
		for i := range awkward {
			all[i] = fmt.Sprintf("k%02d", i)
		}
		idx := func(v string) int { return slices.Index(awkward, v) }
		wantScan(t, s, core.Range{Index: core.IndexDue}, all...)
		wantScan(t, s, core.Range{Index: core.IndexDue, Reverse: true}, reversed(all)...)
		wantScan(t, s, exact(core.IndexDue, ""), all[0])
		wantScan(t, s, exact(core.IndexDue, "\x00"), all[idx("\x00")])
		wantScan(t, s, exact(core.IndexDue, "a\x00"), all[idx("a\x00")])
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "a\x00", To: "a\xff"}, all[idx("a\x00"):idx("a\xff")]...)
		wantScan(t, s, core.Prefix(core.IndexDue, "a"), all[idx("a"):idx("a\xff")+1]...)
		wantScan(t, s, core.Prefix(core.IndexDue, "\x00"), all[idx("\x00"):idx("\x01")]...)
		// Prefix of all 0xff has no upper bound: its Range has To "".
		wantScan(t, s, core.Prefix(core.IndexDue, "\xff\xff"), all[idx("\xff\xff"):]...)
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "\xff", To: "\xff\xff"}, all[idx("\xff"):idx("\xff\xff")]...)
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "\x00", To: "\x01", Reverse: true, Limit: 2}, all[idx("\x00\xff")], all[idx("\x00\x01")])
	}},
	{"ValueThenKeyWithZeroBytes", func(t *testing.T, s core.Store) {
		// A store that joins value and key with 0x00 sees these two
		// entries as the same bytes, "a\x00\x00b".
		put(t, s, rec("\x00b", "", core.IndexDue, "a"))
		put(t, s, rec("b", "", core.IndexDue, "a\x00"))
		put(t, s, rec("\x00", "", core.IndexDue, "a\x00"))
		put(t, s, rec("\xff", "", core.IndexDue, "a"))
		wantScan(t, s, core.Range{Index: core.IndexDue}, "\x00b", "\xff", "\x00", "b")
		wantScan(t, s, core.Range{Index: core.IndexDue, Reverse: true}, "b", "\x00", "\xff", "\x00b")
		wantScan(t, s, exact(core.IndexDue, "a"), "\x00b", "\xff")
		wantScan(t, s, exact(core.IndexDue, "a\x00"), "\x00", "b")
		wantScan(t, s, core.Range{Index: core.IndexDue, To: "a\x00", Reverse: true, Limit: 1}, "\xff")
	}},
	{"ValuesWithAnyBytes", func(t *testing.T, s core.Store) {
		all := make([]byte, 0, 512)
		for i := range 256 {
			all = append(all, byte(i), byte(255-i))
		}
		for i, v := range [][]byte{all, {0}, {0xff}, {0, 0, 0}, {0xff, 0}} {
			r := core.Record{Key: fmt.Sprintf("s/%d", i), Value: v}
			r.Version = put(t, s, r)
			wantRecord(t, s, r)
		}
	}},
	{"EmptyValueAndNoIndex", func(t *testing.T, s core.Store) {
		r := core.Record{Key: "s/1"}
		r.Version = put(t, s, r)
		got := get(t, s, r.Key)
		if len(got.Value) != 0 || len(got.Index) != 0 || got.Version != r.Version {
			t.Fatalf("Get(%q) = %s, want %s", r.Key, fmtRecord(got), fmtRecord(r))
		}
	}},
}
