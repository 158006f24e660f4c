package badgerstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sessionkit/sessionkit/adapters/badgerstore"
	"github.com/sessionkit/sessionkit/core"
)

func Example() {
	dir, err := os.MkdirTemp("", "sessions-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	s, err := badgerstore.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	v1, _ := s.Put(ctx, core.Record{
		Key:   "d/form-1",
		Value: []byte(`{"step":1}`),
		Index: []core.IndexEntry{{Name: core.IndexOwner, Value: "alice"}},
	})
	// A save against the version last read succeeds once; a second save
	// against the same version is stale.
	rec := core.Record{Key: "d/form-1", Version: v1, Value: []byte(`{"step":2}`),
		Index: []core.IndexEntry{{Name: core.IndexOwner, Value: "alice"}}}
	_, err = s.Put(ctx, rec)
	fmt.Println("save:", err)
	_, err = s.Put(ctx, rec)
	fmt.Println("stale save conflicts:", errors.Is(err, core.ErrConflict))

	// The acknowledged save is there after a restart.
	if err := s.Close(); err != nil {
		panic(err)
	}
	s, err = badgerstore.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	drafts, _ := s.Scan(ctx, core.Prefix(core.IndexOwner, "alice"))
	for _, d := range drafts {
		fmt.Printf("%s %s\n", d.Key, d.Value)
	}

	// A second Open of the same directory is refused.
	_, err = badgerstore.Open(dir, nil)
	fmt.Println("locked:", errors.Is(err, badgerstore.ErrLocked))
	// Output:
	// save: <nil>
	// stale save conflicts: true
	// d/form-1 {"step":2}
	// locked: true
}
