package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// checkpointWatch is the optional store.checkpoints oracle: it sits between
// the Manager and the store and checks docs/semantics.md's "at most one
// write per CheckpointEvery per session" for touches. A checkpoint is a
// session write that changes nothing but the clocks (LastSeen,
// LastActivity, the writer's epoch): the Manager writes one through when a
// touch moves LastSeen CheckpointEvery past the stored value (Put), when
// Sweep moves a stored deadline that touches pushed back (Put), or when it
// lets go of a session it held in memory (PutBatch). Two of them for one
// session must be CheckpointEvery apart. The writes of a graceful stop's
// Close, which flushes everything, are exempt; a restart starts afresh.
type checkpointWatch struct {
	core.Store
	s *Sim
	// last is, per session key, the instant of its last checkpoint; rest
	// is what its last write held besides the clocks.
	last map[string]time.Duration
	rest map[string][]byte
}

func newCheckpointWatch(st core.Store, s *Sim) *checkpointWatch {
	return &checkpointWatch{Store: st, s: s, last: make(map[string]time.Duration), rest: make(map[string][]byte)}
}

func (w *checkpointWatch) Put(ctx context.Context, rec core.Record) (uint64, error) {
	v, err := w.Store.Put(ctx, rec)
	if err == nil {
		w.wrote(rec)
	}
	return v, err
}

func (w *checkpointWatch) PutBatch(ctx context.Context, recs []core.Record) []core.PutResult {
	res := batch(w.Store, ctx, recs)
	for i, r := range recs {
		if res[i].Err == nil {
			w.wrote(r)
		}
	}
	return res
}

func (w *checkpointWatch) Delete(ctx context.Context, key string, version uint64) error {
	err := w.Store.Delete(ctx, key, version)
	if err == nil {
		delete(w.last, key)
		delete(w.rest, key)
	}
	return err
}

// wrote checks one stored session write.
func (w *checkpointWatch) wrote(r core.Record) {
	s := w.s
	if !strings.HasPrefix(r.Key, "s/") {
		return
	}
	rest, ok := withoutClocks(r.Value)
	if !ok {
		s.fail("engine.error", nil, -1, "a session record the checkpoint oracle cannot read: %s", r.Key)
		return
	}
	prev, seen := w.rest[r.Key]
	w.rest[r.Key] = rest
	if !seen || !bytes.Equal(prev, rest) || s.srv.stopping {
		return // created, changed state, or flushed at a graceful stop
	}
	if t, ok := w.last[r.Key]; ok && s.now-t < s.p.CheckpointEvery {
		idx := s.mdl.lookup(strings.TrimPrefix(r.Key, "s/"))
		s.fail("store.checkpoints", nil, idx, "checkpointed at %s and again at %s, %s apart, under CheckpointEvery %s",
			stamp(t), stamp(s.now), s.now-t, s.p.CheckpointEvery)
	}
	w.last[r.Key] = s.now
}

// withoutClocks returns a session record's JSON with the clock fields
// removed, in a canonical form (encoding/json sorts map keys).
func withoutClocks(v []byte) ([]byte, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, false
	}
	if _, ok := m["seen"]; !ok {
		return nil, false // core changed its encoding: say so
	}
	delete(m, "seen")
	delete(m, "active")
	delete(m, "epoch")
	out, err := json.Marshal(m)
	return out, err == nil
}

func (w *checkpointWatch) Crash() {
	if c, ok := w.Store.(Crasher); ok {
		c.Crash()
	}
}
