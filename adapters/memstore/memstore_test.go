package memstore_test

import (
	"errors"
	"testing"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) core.Store { return memstore.New() })
}

func TestPutRejectsTwoEntriesInOneIndex(t *testing.T) {
	s := memstore.New()
	r := core.Record{Key: "s/1", Index: []core.IndexEntry{{Name: core.IndexDue, Value: "1"}, {Name: core.IndexDue, Value: "2"}}}
	if _, err := s.Put(t.Context(), r); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("Put with two %q entries = %v, want core.ErrInvalidInput", core.IndexDue, err)
	}
	if _, err := s.Get(t.Context(), "s/1"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get after the rejected Put = %v, want core.ErrNotFound", err)
	}
	res := s.PutBatch(t.Context(), []core.Record{r, {Key: "s/2"}})
	if !errors.Is(res[0].Err, core.ErrInvalidInput) || res[1].Err != nil {
		t.Fatalf("PutBatch results = %+v, want core.ErrInvalidInput then success", res)
	}
}

// The contract does not say whether "" is a key; memstore takes it like any
// other string.
func TestEmptyKey(t *testing.T) {
	s := memstore.New()
	v, err := s.Put(t.Context(), core.Record{Key: "", Value: []byte("empty")})
	if err != nil {
		t.Fatalf("Put(\"\") = %v", err)
	}
	if _, err := s.Put(t.Context(), core.Record{Key: "a"}); err != nil {
		t.Fatalf("Put(\"a\") = %v", err)
	}
	got, err := s.Get(t.Context(), "")
	if err != nil || got.Version != v || string(got.Value) != "empty" {
		t.Fatalf("Get(\"\") = %+v, %v; want version %d, value \"empty\"", got, err, v)
	}
	if err := s.Delete(t.Context(), "", 0); err != nil {
		t.Fatalf("Delete(\"\") = %v", err)
	}
	if _, err := s.Get(t.Context(), ""); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Get(\"\") after Delete = %v, want core.ErrNotFound", err)
	}
	if _, err := s.Get(t.Context(), "a"); err != nil {
		t.Fatalf("Get(\"a\") after deleting \"\" = %v", err)
	}
}
