package sim

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

// Mutation breaks the engine on purpose. A run with a mutation must fail
// an oracle: that is how the oracles show they can fail. Mutations exist
// for tests and for demonstrating the simulator; they change the service
// around core, never core itself.
type Mutation string

const (
	// MutIgnoreLivenessTimeout drops the liveness service's "lost"
	// reports, so dead links stay open. Caught by link.undetected.
	MutIgnoreLivenessTimeout Mutation = "ignore-liveness-timeout"
	// MutAckDraftBeforeStore wraps the store so that draft writes are
	// acknowledged before they are durable: a crash loses the recent ones.
	// Caught by draft.lost.
	MutAckDraftBeforeStore Mutation = "ack-draft-before-store"
	// MutDropKeepaliveAnswers never answers keepalives. Caught by
	// live.dropped.
	MutDropKeepaliveAnswers Mutation = "drop-keepalive-answers"
	// MutStaleSessionReads wraps the store so that reading an ended
	// session returns its last live version. Caught by ended.accepts.
	MutStaleSessionReads Mutation = "stale-session-reads"
	// MutNoSweep never sweeps the Manager. Caught by deadline.lingers.
	MutNoSweep Mutation = "no-sweep"
)

// Mutations lists every mutation with the oracle that catches it.
func Mutations() map[Mutation]string {
	return map[Mutation]string{
		MutIgnoreLivenessTimeout: "link.undetected",
		MutAckDraftBeforeStore:   "draft.lost",
		MutDropKeepaliveAnswers:  "live.dropped",
		MutStaleSessionReads:     "ended.accepts",
		MutNoSweep:               "deadline.lingers",
	}
}

// ParseMutation checks a mutation's name.
func ParseMutation(name string) (Mutation, error) {
	m := Mutation(name)
	if _, ok := Mutations()[m]; !ok {
		return "", fmt.Errorf("sim: unknown mutation %q", name)
	}
	return m, nil
}

type mutations struct {
	ignoreLost, lossyDrafts, dropAcks, staleReads, noSweep bool
}

func newMutations(list []Mutation) mutations {
	var m mutations
	for _, x := range list {
		switch x {
		case MutIgnoreLivenessTimeout:
			m.ignoreLost = true
		case MutAckDraftBeforeStore:
			m.lossyDrafts = true
		case MutDropKeepaliveAnswers:
			m.dropAcks = true
		case MutStaleSessionReads:
			m.staleReads = true
		case MutNoSweep:
			m.noSweep = true
		}
	}
	return m
}

// serviceMachine is what the simulated service needs of liveness.Service,
// so that a mutation can stand in for it.
type serviceMachine interface {
	Add(id liveness.ConnID, now time.Time)
	Remove(id liveness.ConnID) bool
	Heard(id liveness.ConnID, now time.Time) bool
	Next() (time.Time, bool)
	Advance(now time.Time, buf []liveness.ServiceAction) []liveness.ServiceAction
}

var _ serviceMachine = (*liveness.Service)(nil)

func (m mutations) wrapService(svc *liveness.Service) serviceMachine {
	if m.ignoreLost {
		return deafService{svc}
	}
	return svc
}

// deafService forgets lost connections without reporting them.
type deafService struct{ *liveness.Service }

func (d deafService) Advance(now time.Time, buf []liveness.ServiceAction) []liveness.ServiceAction {
	n := len(buf)
	buf = d.Service.Advance(now, buf)
	out := buf[:n]
	for _, a := range buf[n:] {
		if a.Op != liveness.ServiceLost {
			out = append(out, a)
		}
	}
	return out
}

func (m mutations) wrapStore(st core.Store) core.Store {
	if m.lossyDrafts {
		st = &lossyDrafts{Store: st}
	}
	if m.staleReads {
		st = &staleReads{Store: st, last: make(map[string]core.Record)}
	}
	return st
}

// batch forwards PutBatch when the wrapped store has it, so that wrapping
// does not change how the Manager checkpoints.
func batch(st core.Store, ctx context.Context, recs []core.Record) []core.PutResult {
	if bs, ok := st.(core.BatchStore); ok {
		return bs.PutBatch(ctx, recs)
	}
	res := make([]core.PutResult, len(recs))
	for i, r := range recs {
		res[i].Version, res[i].Err = st.Put(ctx, r)
	}
	return res
}

// lossyDrafts acknowledges draft writes that a crash then loses: it keeps
// an undo log of the draft writes since the last "sync" (every syncEvery
// writes) and replays it backwards on Crash.
type lossyDrafts struct {
	core.Store
	undo []undo
}

type undo struct {
	key  string
	prev *core.Record
}

const syncEvery = 16

func (l *lossyDrafts) Put(ctx context.Context, rec core.Record) (uint64, error) {
	if strings.HasPrefix(rec.Key, "d/") {
		u := undo{key: rec.Key}
		if prev, err := l.Store.Get(ctx, rec.Key); err == nil {
			u.prev = &prev
		}
		if len(l.undo) >= syncEvery {
			l.undo = l.undo[:0]
		}
		l.undo = append(l.undo, u)
	}
	return l.Store.Put(ctx, rec)
}

func (l *lossyDrafts) PutBatch(ctx context.Context, recs []core.Record) []core.PutResult {
	return batch(l.Store, ctx, recs)
}

func (l *lossyDrafts) Crash() {
	ctx := context.Background()
	for i := len(l.undo) - 1; i >= 0; i-- {
		u := l.undo[i]
		if u.prev == nil {
			_ = l.Store.Delete(ctx, u.key, 0)
			continue
		}
		p := *u.prev
		p.Version = 0
		if cur, err := l.Store.Get(ctx, u.key); err == nil {
			p.Version = cur.Version
		}
		_, _ = l.Store.Put(ctx, p)
	}
	l.undo = nil
	if c, ok := l.Store.(Crasher); ok {
		c.Crash()
	}
}

// staleReads serves an ended session's last live version to Get.
type staleReads struct {
	core.Store
	last map[string]core.Record
}

var endedMark = []byte(`"state":"ended"`)

func (s *staleReads) Get(ctx context.Context, key string) (core.Record, error) {
	rec, err := s.Store.Get(ctx, key)
	if err != nil || !strings.HasPrefix(key, "s/") {
		return rec, err
	}
	if bytes.Contains(rec.Value, endedMark) {
		if old, ok := s.last[key]; ok {
			return old, nil
		}
		return rec, nil
	}
	s.last[key] = rec
	return rec, nil
}

func (s *staleReads) PutBatch(ctx context.Context, recs []core.Record) []core.PutResult {
	return batch(s.Store, ctx, recs)
}

func (s *staleReads) Crash() {
	if c, ok := s.Store.(Crasher); ok {
		c.Crash()
	}
}
