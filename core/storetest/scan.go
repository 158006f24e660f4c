package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// The clause on Scan and core.Range: From <= v < To, ordered by (value, key),
// empty To unbounded, Reverse, Limit.

// ladder stores records whose index entries, in (value, key) order, are
// a/k1 a/k2 b/k1 b/k3 c/k2 d/k4, inserted out of order, and returns their
// keys in that order. Each record is in index once.
func ladder(t *testing.T, s core.Store, index string) []string {
	t.Helper()
	entries := []struct{ key, value string }{
		{"k3/b", "b"}, {"k1/a", "a"}, {"k4/d", "d"}, {"k2/c", "c"}, {"k2/a", "a"}, {"k1/b", "b"},
	}
	for _, e := range entries {
		put(t, s, rec(e.key, "value of "+e.key, index, e.value))
	}
	return []string{"k1/a", "k2/a", "k1/b", "k3/b", "k2/c", "k4/d"}
}

func reversed(ks []string) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[len(ks)-1-i] = k
	}
	return out
}

var scanTests = []test{
	{"EmptyStore", func(t *testing.T, s core.Store) {
		for _, name := range core.Indexes {
			wantScan(t, s, core.Range{Index: name})
			wantScan(t, s, core.Range{Index: name, Reverse: true, Limit: 1})
		}
	}},
	{"OrdersByValueThenKey", func(t *testing.T, s core.Store) {
		all := ladder(t, s, core.IndexDue)
		wantScan(t, s, core.Range{Index: core.IndexDue}, all...)
	}},
	{"FromInclusiveToExclusive", func(t *testing.T, s core.Store) {
		ladder(t, s, core.IndexDue)
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "b", To: "d"}, "k1/b", "k3/b", "k2/c")
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "a\x00", To: "c\x00"}, "k1/b", "k3/b", "k2/c")
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "", To: "b"}, "k1/a", "k2/a")
	}},
	{"EmptyToIsUnbounded", func(t *testing.T, s core.Store) {
		ladder(t, s, core.IndexDue)
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "c"}, "k2/c", "k4/d")
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "d\x00"})
	}},
	{"EmptyRanges", func(t *testing.T, s core.Store) {
		ladder(t, s, core.IndexDue)
		for _, r := range []core.Range{
			{Index: core.IndexDue, From: "b", To: "b"},
			{Index: core.IndexDue, From: "c", To: "b"},
			{Index: core.IndexDue, From: "c", To: "b", Reverse: true},
			{Index: core.IndexDue, From: "a\x00", To: "b"},
			{Index: core.IndexDue, From: "a\x00", To: "b", Reverse: true, Limit: 1},
			{Index: core.IndexDue, From: "e"},
			{Index: core.IndexDue, From: "e", Reverse: true},
		} {
			wantScan(t, s, r)
		}
	}},
	{"Prefix", func(t *testing.T, s core.Store) {
		for i, v := range []string{"ab", "a", "abc", "b", "abd", "aa", "ab\xff", "ac"} {
			put(t, s, rec(fmt.Sprintf("k%d", i), "", core.IndexSubject, v))
		}
		wantScan(t, s, core.Prefix(core.IndexSubject, "ab"), "k0", "k2", "k4", "k6")
		wantScan(t, s, core.Prefix(core.IndexSubject, "a"), "k1", "k5", "k0", "k2", "k4", "k6", "k7")
		wantScan(t, s, core.Prefix(core.IndexSubject, "b"), "k3")
		wantScan(t, s, core.Prefix(core.IndexSubject, "c"))
		wantScan(t, s, core.Prefix(core.IndexSubject, ""), "k1", "k5", "k0", "k2", "k4", "k6", "k7", "k3")
	}},
	{"Reverse", func(t *testing.T, s core.Store) {
		all := ladder(t, s, core.IndexDue)
		wantScan(t, s, core.Range{Index: core.IndexDue, Reverse: true}, reversed(all)...)
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "b", To: "d", Reverse: true}, "k2/c", "k3/b", "k1/b")
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "b", Reverse: true}, "k4/d", "k2/c", "k3/b", "k1/b")
		wantScan(t, s, core.Range{Index: core.IndexDue, To: "b", Reverse: true}, "k2/a", "k1/a")
		wantScan(t, s, core.Range{Index: core.IndexDue, To: "b\x00", Reverse: true}, "k3/b", "k1/b", "k2/a", "k1/a")
	}},
	{"Limit", func(t *testing.T, s core.Store) {
		all := ladder(t, s, core.IndexDue)
		for limit := 1; limit <= len(all)+1; limit++ {
			wantScan(t, s, core.Range{Index: core.IndexDue, Limit: limit}, all[:min(limit, len(all))]...)
		}
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "b", To: "d", Limit: 2}, "k1/b", "k3/b")
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "b", Limit: 3}, "k1/b", "k3/b", "k2/c")
		wantScan(t, s, core.Range{Index: core.IndexDue, Limit: 0}, all...)
	}},
	{"ReverseLimit", func(t *testing.T, s core.Store) {
		all := reversed(ladder(t, s, core.IndexDue))
		for limit := 1; limit <= len(all)+1; limit++ {
			wantScan(t, s, core.Range{Index: core.IndexDue, Reverse: true, Limit: limit}, all[:min(limit, len(all))]...)
		}
	}},
	{"ReverseToLimit", func(t *testing.T, s core.Store) {
		// The highest entries below To, not the lowest and not the
		// highest of the index.
		ladder(t, s, core.IndexDue)
		wantScan(t, s, core.Range{Index: core.IndexDue, To: "c", Reverse: true, Limit: 2}, "k3/b", "k1/b")
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "a", To: "c", Reverse: true, Limit: 3}, "k3/b", "k1/b", "k2/a")
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "b", To: "c\x00", Reverse: true, Limit: 5}, "k2/c", "k3/b", "k1/b")
		wantScan(t, s, core.Range{Index: core.IndexDue, From: "b", Reverse: true, Limit: 1}, "k4/d")
	}},
	{"ReturnsCurrentRecords", func(t *testing.T, s core.Store) {
		r := rec("s/1", "v1", core.IndexDue, timeValue(base), core.IndexSubject, "alice", core.IndexNode, "n1")
		r.Version = put(t, s, r)
		r.Value = []byte("v2")
		r.Version = put(t, s, r)
		for _, name := range []string{core.IndexDue, core.IndexSubject, core.IndexNode} {
			got := wantScan(t, s, core.Range{Index: name}, r.Key)
			if !sameRecord(got[0], r) {
				t.Fatalf("Scan of %q:\n got  %s\n want %s", name, fmtRecord(got[0]), fmtRecord(r))
			}
		}
	}},
	{"IndexesAreSeparate", func(t *testing.T, s core.Store) {
		put(t, s, rec("s/due", "", core.IndexDue, "x"))
		put(t, s, rec("s/owner", "", core.IndexOwner, "x"))
		put(t, s, rec("s/custom", "", "due2", "x"))
		wantScan(t, s, core.Range{Index: core.IndexDue}, "s/due")
		wantScan(t, s, core.Range{Index: core.IndexOwner}, "s/owner")
		wantScan(t, s, core.Range{Index: "due2"}, "s/custom")
		wantScan(t, s, core.Range{Index: "du"})
		wantScan(t, s, core.Range{Index: core.IndexSubject})
		wantScan(t, s, core.Range{Index: core.IndexDue, Reverse: true}, "s/due")
		wantScan(t, s, core.Range{Index: "du", Reverse: true})
	}},
	{"AnyIndexName", func(t *testing.T, s core.Store) {
		// "A store must support every name it is given." The contract
		// does not say which bytes a name may hold; core's are short
		// ASCII words, and so are these.
		names := []string{"custom", "c", "custom2", "custom-2.x"}
		for i, name := range names {
			put(t, s, rec(fmt.Sprintf("k%d", i), "", name, "v"))
		}
		for i, name := range names {
			wantScan(t, s, core.Range{Index: name}, fmt.Sprintf("k%d", i))
			wantScan(t, s, core.Range{Index: name, Reverse: true}, fmt.Sprintf("k%d", i))
		}
	}},
}

// The index names core uses and the queries it makes of them.
var indexTests = append(everyIndexName(), []test{
	{"PutReplacesEntriesAsWhole", func(t *testing.T, s core.Store) {
		r := rec("s/1", "v", core.IndexDue, timeValue(base), core.IndexOwner, "alice", core.IndexNode, "n1")
		r.Version = put(t, s, r)
		next := rec("s/1", "v", core.IndexDue, timeValue(base.Add(time.Hour)), core.IndexSubject, "bob")
		next.Version = r.Version
		next.Version = put(t, s, next)
		wantRecord(t, s, next)
		wantScan(t, s, core.Range{Index: core.IndexOwner})
		wantScan(t, s, core.Range{Index: core.IndexNode})
		wantScan(t, s, exact(core.IndexDue, timeValue(base)))
		wantScan(t, s, core.Range{Index: core.IndexDue}, "s/1")
		wantScan(t, s, core.Range{Index: core.IndexSubject}, "s/1")
		// No entries at all.
		none := rec("s/1", "v")
		none.Version = next.Version
		none.Version = put(t, s, none)
		wantRecord(t, s, none)
		for _, name := range core.Indexes {
			wantScan(t, s, core.Range{Index: name})
		}
	}},
	{"ChangedValueMoves", func(t *testing.T, s core.Store) {
		for i := range 3 {
			put(t, s, rec(fmt.Sprintf("s/%d", i), "", core.IndexDue, timeValue(base.Add(time.Duration(i)*time.Minute))))
		}
		wantScan(t, s, core.Range{Index: core.IndexDue}, "s/0", "s/1", "s/2")
		r := get(t, s, "s/0")
		r.Index = []core.IndexEntry{{Name: core.IndexDue, Value: timeValue(base.Add(time.Hour))}}
		put(t, s, r)
		wantScan(t, s, core.Range{Index: core.IndexDue}, "s/1", "s/2", "s/0")
		wantScan(t, s, core.Range{Index: core.IndexDue, To: timeValue(base.Add(2 * time.Minute))}, "s/1")
		r = get(t, s, "s/2")
		r.Index[0].Value = timeValue(base.Add(-time.Hour))
		put(t, s, r)
		wantScan(t, s, core.Range{Index: core.IndexDue}, "s/2", "s/1", "s/0")
	}},
	{"DueBefore", func(t *testing.T, s core.Store) {
		// Sweep asks for everything due before now: From "" To now, in
		// deadline order. An entry due exactly at now is not yet due.
		now := base.Add(24 * time.Hour)
		var want []string
		offsets := []time.Duration{-72 * time.Hour, time.Hour, -time.Nanosecond, 0, -time.Second, 48 * time.Hour, -25 * time.Hour, time.Nanosecond, -time.Second}
		for i, d := range offsets {
			put(t, s, rec(fmt.Sprintf("s/%02d", i), "", core.IndexDue, timeValue(now.Add(d))))
		}
		want = []string{"s/00", "s/06", "s/04", "s/08", "s/02"}
		due := core.Range{Index: core.IndexDue, To: timeValue(now)}
		wantScan(t, s, due, want...)
		due.Limit = 2
		wantScan(t, s, due, want[:2]...)
		// Ending the earliest ones (removing their due entry) brings the
		// next ones forward.
		for _, k := range want[:2] {
			r := get(t, s, k)
			r.Index = nil
			put(t, s, r)
		}
		wantScan(t, s, due, want[2:4]...)
	}},
	{"AttachedOnNode", func(t *testing.T, s core.Store) {
		for i, node := range []string{"n1", "n2", "n10", "n1", "", "n1"} {
			r := rec(fmt.Sprintf("s/%d", i), "")
			if node != "" {
				r.Index = []core.IndexEntry{{Name: core.IndexNode, Value: node}}
			}
			put(t, s, r)
		}
		wantScan(t, s, exact(core.IndexNode, "n1"), "s/0", "s/3", "s/5")
		wantScan(t, s, exact(core.IndexNode, "n10"), "s/2")
		// Detaching drops the node entry.
		r := get(t, s, "s/3")
		r.Index = nil
		put(t, s, r)
		wantScan(t, s, exact(core.IndexNode, "n1"), "s/0", "s/5")
	}},
	{"DraftsByOwner", func(t *testing.T, s core.Store) {
		owners := []string{"subject:alice", "ref:alice", "subject:alice", "session:s1", "subject:alicia"}
		for i, o := range owners {
			put(t, s, rec(fmt.Sprintf("d/%d", i), "form", core.IndexOwner, o, core.IndexDue, timeValue(base)))
		}
		wantScan(t, s, exact(core.IndexOwner, "subject:alice"), "d/0", "d/2")
		wantScan(t, s, core.Prefix(core.IndexOwner, "subject:"), "d/0", "d/2", "d/4")
		wantScan(t, s, exact(core.IndexOwner, "session:s1"), "d/3")
	}},
	{"SessionsBySubject", func(t *testing.T, s core.Store) {
		for i, sub := range []string{"bob", "alice", "bob", "bobby"} {
			put(t, s, rec(fmt.Sprintf("s/%d", i), "", core.IndexSubject, sub))
		}
		wantScan(t, s, exact(core.IndexSubject, "bob"), "s/0", "s/2")
		wantScan(t, s, exact(core.IndexSubject, "alice"), "s/1")
	}},
	{"ReferenceNewestFirst", func(t *testing.T, s core.Store) {
		// A reference entry is the reference, a separator and the
		// creation time, so Reverse over the reference's prefix lists
		// its sessions newest first.
		refValue := func(ref string, created time.Time) string { return ref + "\x00" + timeValue(created) }
		sessions := []struct {
			key, ref string
			age      time.Duration
		}{
			{"s/a", "r1", 3 * time.Hour}, {"s/b", "r1", time.Hour}, {"s/c", "r10", 0},
			{"s/d", "r1", 2 * time.Hour}, {"s/e", "r2", time.Minute}, {"s/f", "r1", 4 * time.Hour},
		}
		for _, x := range sessions {
			put(t, s, rec(x.key, "", core.IndexReference, refValue(x.ref, base.Add(-x.age))))
		}
		newest := core.Prefix(core.IndexReference, "r1\x00")
		newest.Reverse = true
		wantScan(t, s, newest, "s/b", "s/d", "s/a", "s/f")
		newest.Limit = 1
		wantScan(t, s, newest, "s/b")
		wantScan(t, s, core.Prefix(core.IndexReference, "r10\x00"), "s/c")
	}},
}...)

// everyIndexName returns a test per name in core.Indexes, each with its own
// store, named EveryIndexName/name.
func everyIndexName() []test {
	var tests []test
	for _, name := range core.Indexes {
		tests = append(tests, test{"EveryIndexName/" + name, func(t *testing.T, s core.Store) {
			all := ladder(t, s, name)
			wantScan(t, s, core.Range{Index: name}, all...)
			wantScan(t, s, core.Prefix(name, "b"), "k1/b", "k3/b")
			wantScan(t, s, core.Range{Index: name, From: "b", To: "d"}, "k1/b", "k3/b", "k2/c")
			wantScan(t, s, core.Range{Index: name, From: "b"}, "k1/b", "k3/b", "k2/c", "k4/d")
			wantScan(t, s, core.Range{Index: name, Reverse: true}, reversed(all)...)
			wantScan(t, s, core.Range{Index: name, Limit: 3}, all[:3]...)
			wantScan(t, s, core.Range{Index: name, To: "d", Reverse: true, Limit: 2}, "k2/c", "k3/b")
			for _, other := range core.Indexes {
				if other != name {
					wantScan(t, s, core.Range{Index: other})
				}
			}
			for _, k := range all {
				del(t, s, k, 0)
			}
			wantScan(t, s, core.Range{Index: name})
		}})
	}
	return tests
}
