package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// The clause "Every method honours ctx: a call with a cancelled context
// returns an error wrapping ctx.Err() and changes nothing."

// ctxCall is one store call made with a context that has already ended.
type ctxCall struct {
	name string
	call func(ctx context.Context, s core.Store, current uint64) error
}

var ctxCalls = []ctxCall{
	{"Get", func(ctx context.Context, s core.Store, _ uint64) error {
		_, err := s.Get(ctx, "s/1")
		return err
	}},
	{"GetMissing", func(ctx context.Context, s core.Store, _ uint64) error {
		_, err := s.Get(ctx, "s/new")
		return err
	}},
	{"PutCreate", func(ctx context.Context, s core.Store, _ uint64) error {
		_, err := s.Put(ctx, rec("s/new", "new", core.IndexDue, "0"))
		return err
	}},
	{"PutUpdate", func(ctx context.Context, s core.Store, current uint64) error {
		r := rec("s/1", "changed", core.IndexOwner, "someone")
		r.Version = current
		_, err := s.Put(ctx, r)
		return err
	}},
	{"Delete", func(ctx context.Context, s core.Store, _ uint64) error {
		return s.Delete(ctx, "s/1", 0)
	}},
	{"DeleteVersion", func(ctx context.Context, s core.Store, current uint64) error {
		return s.Delete(ctx, "s/1", current)
	}},
	{"DeleteMissing", func(ctx context.Context, s core.Store, _ uint64) error {
		return s.Delete(ctx, "s/new", 0)
	}},
	{"Scan", func(ctx context.Context, s core.Store, _ uint64) error {
		_, err := s.Scan(ctx, core.Range{Index: core.IndexDue})
		return err
	}},
	{"PutBatch", func(ctx context.Context, s core.Store, current uint64) error {
		bs, ok := s.(core.BatchStore)
		if !ok {
			return errSkip
		}
		update := rec("s/1", "changed")
		update.Version = current
		res := bs.PutBatch(ctx, []core.Record{rec("s/new", "new"), update})
		if len(res) != 2 {
			return fmt.Errorf("PutBatch of 2 records returned %d results", len(res))
		}
		// Each result must carry the context's error on its own.
		if !errors.Is(res[0].Err, ctx.Err()) {
			return fmt.Errorf("result 0: %w", res[0].Err)
		}
		return res[1].Err
	}},
}

var errSkip = errors.New("storetest: skip")

// ctxTests returns a test per call, each with its own store, named
// name/call.
func ctxTests(name string, ended func(t *testing.T) context.Context, want error) []test {
	var tests []test
	for _, c := range ctxCalls {
		tests = append(tests, test{name + "/" + c.name, func(t *testing.T, s core.Store) {
			seed := rec("s/1", "seed", core.IndexDue, timeValue(base))
			seed.Version = put(t, s, seed)
			before := snapshot(t, s)
			err := c.call(ended(t), s, seed.Version)
			if err == errSkip {
				t.Skip("store does not implement core.BatchStore")
			}
			if !errors.Is(err, want) {
				t.Fatalf("%s with an ended context = %v; want error wrapping %v", c.name, err, want)
			}
			if after := snapshot(t, s); after != before {
				t.Fatalf("%s with an ended context changed the store:\n before %s\n after  %s", c.name, before, after)
			}
		}})
	}
	return tests
}

var contextTests = slices.Concat(
	ctxTests("Canceled", func(t *testing.T) context.Context {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		return ctx
	}, context.Canceled),
	ctxTests("DeadlineExceeded", func(t *testing.T) context.Context {
		ctx, cancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
		t.Cleanup(cancel)
		return ctx
	}, context.DeadlineExceeded),
)

// snapshot describes everything the context tests' calls could change.
func snapshot(t *testing.T, s core.Store) string {
	t.Helper()
	var b strings.Builder
	if r, err := s.Get(t.Context(), "s/1"); err == nil {
		b.WriteString("s/1=" + fmtRecord(r))
	} else {
		b.WriteString("s/1: " + err.Error())
	}
	if r, err := s.Get(t.Context(), "s/new"); err == nil {
		b.WriteString(" s/new=" + fmtRecord(r))
	}
	for _, name := range core.Indexes {
		b.WriteString(" " + name + "=" + fmtKeys(keys(scan(t, s, core.Range{Index: name}))))
	}
	return b.String()
}
