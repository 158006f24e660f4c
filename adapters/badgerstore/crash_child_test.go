package badgerstore

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// The child side of the crash test (see crash_test.go): four workers that
// create, save, checkpoint and delete sessions and drafts as fast as the
// store lets them, acknowledging each write on stdout.

// crashChild is the child's main: it opens the store, reports ready, and
// writes until it is killed.
func crashChild() {
	fail := func(err error) {
		fmt.Printf("ERR %v\n", err)
		os.Exit(3)
	}
	// A child whose parent has gone must not run on.
	time.AfterFunc(2*time.Minute, func() { os.Exit(4) })
	seed, err := strconv.ParseUint(os.Getenv(crashSeedEnv), 10, 64)
	if err != nil {
		fail(err)
	}
	out := &lockedWriter{w: os.Stdout}
	if _, err := io.WriteString(out, "opening\n"); err != nil {
		os.Exit(5)
	}
	s, err := Open(os.Getenv(crashDirEnv), crashOptions)
	if err != nil {
		fail(err)
	}
	// Every record has a due entry, so one scan finds them all; each
	// worker owns the keys that hash to it, so no two write one key.
	recs, err := s.Scan(context.Background(), core.Range{Index: core.IndexDue})
	if err != nil {
		fail(err)
	}
	if _, err := io.WriteString(out, "ready\n"); err != nil {
		os.Exit(5)
	}
	early := os.Getenv(crashEarlyEnv) == "1"
	var wg sync.WaitGroup
	for w := range crashWorkers {
		cw := &crashWriter{
			s: s, out: out, early: early, id: w,
			rng:  rand.New(rand.NewPCG(seed, uint64(w))),
			mine: map[string]core.Record{},
			tag:  strconv.FormatUint(seed%1e6, 36),
		}
		for _, r := range recs {
			if crashOwner(r.Key) == w {
				cw.mine[r.Key] = r
			}
		}
		wg.Go(func() {
			if err := cw.run(); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write writes p in one call, so each line reaches the pipe whole.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func crashOwner(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % crashWorkers)
}

// crashWriter is one worker of the child.
type crashWriter struct {
	s     *Store
	out   io.Writer
	early bool
	id    int
	rng   *rand.Rand
	mine  map[string]core.Record // current records of this worker's keys
	tag   string                 // makes new keys unique across rounds
	n     int
}

func (w *crashWriter) run() error {
	ctx := context.Background()
	for {
		w.n++
		var keys []string
		for k := range w.mine {
			keys = append(keys, k)
		}
		op := w.rng.IntN(20)
		if len(keys) < 8 {
			op = 0
		}
		switch {
		case op < 6: // create a session or a draft
			key := fmt.Sprintf("%c/%s-%d-%d", "sd"[w.rng.IntN(2)], w.tag, w.id, w.n)
			if crashOwner(key) != w.id {
				continue
			}
			if err := w.put(ctx, w.record(key, w.n, key[0] == 's')); err != nil {
				return err
			}
		case op < 16: // save a draft, checkpoint a session
			old := w.mine[keys[w.rng.IntN(len(keys))]]
			rec := w.record(old.Key, w.n, old.Key[0] == 's')
			rec.Version = old.Version
			if err := w.put(ctx, rec); err != nil {
				return err
			}
		case op < 19: // a batch of checkpoints
			var batch []core.Record
			for range 1 + w.rng.IntN(5) {
				old := w.mine[keys[w.rng.IntN(len(keys))]]
				if slicesContainsKey(batch, old.Key) {
					continue
				}
				rec := w.record(old.Key, w.n, old.Key[0] == 's')
				rec.Version = old.Version
				batch = append(batch, rec)
			}
			if w.early {
				for _, rec := range batch {
					w.ack(crashPutLine(rec, rec.Version+1))
				}
			}
			for i, r := range w.s.PutBatch(ctx, batch) {
				if r.Err != nil {
					return r.Err
				}
				batch[i].Version = r.Version
				w.mine[batch[i].Key] = batch[i]
				if !w.early {
					w.ack(crashPutLine(batch[i], r.Version))
				}
			}
		default: // end a record
			old := w.mine[keys[w.rng.IntN(len(keys))]]
			// Announced first: once the delete commits, the record may be
			// gone before the acknowledgement is written.
			w.ack("d " + old.Key)
			if w.early {
				w.ack("D " + old.Key)
			}
			if err := w.s.Delete(ctx, old.Key, old.Version); err != nil {
				return err
			}
			delete(w.mine, old.Key)
			if !w.early {
				w.ack("D " + old.Key)
			}
		}
	}
}

func slicesContainsKey(recs []core.Record, key string) bool {
	for _, r := range recs {
		if r.Key == key {
			return true
		}
	}
	return false
}

func (w *crashWriter) put(ctx context.Context, rec core.Record) error {
	if w.early {
		// The version is a guess; any version above the last will do for
		// the model, and the write is not there yet anyway.
		w.ack(crashPutLine(rec, rec.Version+1))
	}
	v, err := w.s.Put(ctx, rec)
	if err != nil {
		return err
	}
	rec.Version = v
	w.mine[rec.Key] = rec
	if !w.early {
		w.ack(crashPutLine(rec, v))
	}
	return nil
}

func (w *crashWriter) ack(line string) {
	if _, err := io.WriteString(w.out, line+"\n"); err != nil {
		os.Exit(5) // the parent has gone
	}
}

// record returns the n-th contents of key. The value carries the record's
// key, its index entries and a hash of itself, so a record the child wrote
// but never acknowledged can still be checked for consistency.
func (w *crashWriter) record(key string, n int, session bool) core.Record {
	rec := core.Record{Key: key}
	due := fmt.Sprintf("2025%04d%06d", w.rng.IntN(10000), n)
	if session {
		rec.Index = []core.IndexEntry{
			{Name: core.IndexDue, Value: due},
			{Name: core.IndexReference, Value: fmt.Sprintf("ref-%d", w.rng.IntN(50))},
		}
		if w.rng.IntN(2) == 0 {
			rec.Index = append(rec.Index, core.IndexEntry{Name: core.IndexNode, Value: "node-1"})
		}
	} else {
		rec.Index = []core.IndexEntry{
			{Name: core.IndexDue, Value: due},
			{Name: core.IndexOwner, Value: fmt.Sprintf("user-%d", w.rng.IntN(50))},
		}
	}
	size := 50 + w.rng.IntN(1000)
	if w.rng.IntN(30) == 0 {
		size = 48 << 10 // kept in the value log
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n", key, n)
	for _, e := range rec.Index {
		fmt.Fprintf(&b, "%s=%s,", e.Name, e.Value)
	}
	b.WriteString("\n")
	b.WriteString(strings.Repeat(string(rune('a'+n%26)), size))
	rec.Value = fmt.Appendf(nil, "%s\n%016x", b.String(), hash64([]byte(b.String())))
	return rec
}

func hash64(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}
