package sim

import (
	"context"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// checkpointWatch is the optional store.checkpoints oracle: it sits between
// the Manager and the store and checks DESIGN.md's "the last-activity time
// is checkpointed to the store at most once per CheckpointEvery". The
// Manager writes coalesced checkpoints with PutBatch (Sweep's flush); two
// of them for one session must be CheckpointEvery apart.
type checkpointWatch struct {
	core.Store
	s    *Sim
	last map[string]time.Duration
}

func (w *checkpointWatch) PutBatch(ctx context.Context, recs []core.Record) []core.PutResult {
	s := w.s
	ce := s.p.CheckpointEvery
	for _, r := range recs {
		if !strings.HasPrefix(r.Key, "s/") {
			continue
		}
		if t, ok := w.last[r.Key]; ok && s.now-t < ce {
			idx := s.mdl.lookup(strings.TrimPrefix(r.Key, "s/"))
			s.fail("store.checkpoints", nil, idx, "checkpointed at %s and again at %s, %s apart, under CheckpointEvery %s",
				stamp(t), stamp(s.now), s.now-t, ce)
		}
		w.last[r.Key] = s.now
	}
	return batch(w.Store, ctx, recs)
}

func (w *checkpointWatch) Crash() {
	if c, ok := w.Store.(Crasher); ok {
		c.Crash()
	}
}
