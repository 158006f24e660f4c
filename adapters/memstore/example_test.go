package memstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
)

func ExampleNew() {
	s := memstore.New()
	ctx := context.Background()
	v, _ := s.Put(ctx, core.Record{Key: "s/1", Value: []byte("session"), Index: []core.IndexEntry{{Name: core.IndexDue, Value: "2025-03-14"}}})
	_, err := s.Put(ctx, core.Record{Key: "s/1", Value: []byte("stale")})
	fmt.Println(errors.Is(err, core.ErrConflict))
	due, _ := s.Scan(ctx, core.Range{Index: core.IndexDue, To: "2025-03-15"})
	fmt.Println(len(due), string(due[0].Value), due[0].Version == v)
	// Output:
	// true
	// 1 session true
}
