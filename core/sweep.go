package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// sweepBatch is how many due records one Scan of a sweep reads.
const sweepBatch = 256

// idleWait is how long Run sleeps when nothing is due; new deadlines wake it.
const idleWait = time.Hour

// SweepResult counts what a Sweep did.
type SweepResult struct {
	Ended       int // sessions ended by a deadline
	Purged      int // tombstones and drafts removed after retention
	Checkpoints int // sessions written so the due index holds their deadline
}

// Sweep ends every session whose deadline is at or before now, purges what
// retention lets go, and moves stored deadlines that touches held in memory
// have pushed back. It reads due records from the store's due index, page by
// page, never by a scan. At most once per CheckpointEvery it also lets go of
// sessions held in memory that have no connection and no recent touch,
// writing what they held. Run calls it from the real-time loop; a simulator
// calls it with virtual time.
func (m *Manager) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	if err := m.checkOpen(); err != nil {
		return res, err
	}
	var firstErr error
	note := func(err error) {
		if err != nil && firstErr == nil && !errors.Is(err, ErrNotFound) {
			firstErr = err
		}
	}
	// Page through the due index with a (value, key) cursor, so records
	// that stay due (one failing every time) cannot hide later ones.
	r := Range{Index: IndexDue, To: EncodeTime(now.Add(1)), Limit: sweepBatch}
	var lastKey string
	for {
		recs, err := m.store.Scan(ctx, r)
		if err != nil {
			note(err)
			break
		}
		for _, rec := range recs {
			due := dueValue(rec)
			if due == r.From && rec.Key <= lastKey {
				continue // seen on the previous page
			}
			r.From, lastKey = due, rec.Key
			switch {
			case strings.HasPrefix(rec.Key, sessionPrefix):
				_, eff, err := m.update(ctx, now, rec.Key[len(sessionPrefix):], Input{Kind: InputDeadline}, updateOpts{sweep: true})
				switch {
				case eff.Purge:
					res.Purged++
				case eff.Event == EventEnded:
					res.Ended++
				case err == nil:
					res.Checkpoints++ // not due after all: its deadline was moved
				}
				note(err)
			case strings.HasPrefix(rec.Key, draftPrefix):
				purged, err := m.purgeDraft(ctx, now, rec)
				if purged {
					res.Purged++
				}
				note(err)
			}
		}
		if len(recs) < sweepBatch {
			break
		}
	}
	if now.Sub(m.lastEvictAt()) >= m.p.CheckpointEvery {
		n, err := m.flush(ctx, now, false)
		res.Checkpoints += n
		note(err)
	}
	return res, firstErr
}

func (m *Manager) lastEvictAt() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastEvict
}

// dueValue returns the due index value of a record.
func dueValue(rec Record) string {
	for _, e := range rec.Index {
		if e.Name == IndexDue {
			return e.Value
		}
	}
	return ""
}

// flush lets go of sessions held in memory, writing the touches they hold.
// With all, it writes every pending touch and keeps the sessions (a
// shutdown); otherwise it takes the sessions with no connection and no touch
// for CheckpointEvery. It uses one PutBatch when the store has it.
func (m *Manager) flush(ctx context.Context, now time.Time, all bool) (int, error) {
	ce := m.p.CheckpointEvery
	var (
		sessions []Session
		recs     []Record
	)
	m.mu.Lock()
	m.lastEvict = now
	for id, h := range m.hot {
		if !all && (len(h.conns) > 0 || now.Sub(laterOf(h.seen, h.active)) < ce) {
			continue
		}
		if !h.pending() {
			if !all {
				delete(m.hot, id)
			}
			continue
		}
		s := h.merged()
		rec, err := m.mc.encodeSession(&s, m.epoch, s.LastSeen)
		if err != nil {
			m.mu.Unlock()
			return 0, err
		}
		sessions, recs = append(sessions, s), append(recs, rec)
	}
	m.mu.Unlock()
	if len(recs) == 0 {
		return 0, nil
	}

	var results []PutResult
	if bs, ok := m.store.(BatchStore); ok {
		results = bs.PutBatch(ctx, recs)
	} else {
		results = make([]PutResult, len(recs))
		for i, r := range recs {
			results[i].Version, results[i].Err = m.store.Put(ctx, r)
		}
	}
	n := 0
	var firstErr error
	for i, r := range results {
		s := sessions[i]
		switch {
		case r.Err == nil:
			n++
			m.mu.Lock()
			if h := m.hot[s.ID]; h != nil && h.s.Version == s.Version {
				s.Version = r.Version
				h.s, h.stored = s, s.LastSeen
				if !all && len(h.conns) == 0 && !h.pending() {
					delete(m.hot, s.ID)
				}
			}
			m.mu.Unlock()
		case errors.Is(r.Err, ErrConflict):
			// Changed since it was held: an update wrote it, and that
			// update's own write carried the touches.
		case firstErr == nil:
			firstErr = r.Err
		}
	}
	return n, firstErr
}

// Flush writes every touch held in memory. Call it before a graceful
// shutdown so that a restart allows nothing for lost touches.
func (m *Manager) Flush(ctx context.Context) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	_, err := m.flush(ctx, m.clock.Now(), true)
	return err
}

// Close stops the Manager and writes what it holds in memory: later calls
// fail with ErrClosed, and Run returns. It does not close the store, which
// the caller owns.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.poke(time.Time{})
	_, err := m.flush(ctx, m.clock.Now(), true)
	return err
}

// nextWake returns the earliest stored deadline, or now+idleWait.
func (m *Manager) nextWake(ctx context.Context, now time.Time) (time.Time, error) {
	next := now.Add(idleWait)
	recs, err := m.store.Scan(ctx, Range{Index: IndexDue, Limit: 1})
	if err != nil || len(recs) == 0 {
		return next, err
	}
	if t, ok := decodeTime(dueValue(recs[0])); ok && t.Before(next) {
		next = t
	}
	return next, nil
}

// Run is the real-time loop: one timer for the whole Manager, armed at the
// next stored deadline and re-armed when an earlier one appears. It sweeps
// until ctx ends, returning ctx's error, or until the Manager is closed,
// returning ErrClosed. Errors of a sweep are passed to onError (which may
// be nil) and retried a second later.
func (m *Manager) Run(ctx context.Context, onError func(error)) error {
	defer m.armed.Store(0)
	for {
		// While sweeping, every new deadline wakes the next round.
		m.armed.Store(0)
		now := m.clock.Now()
		_, err := m.Sweep(ctx, now)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrClosed) {
			return err
		}
		next, nerr := m.nextWake(ctx, now)
		if err == nil {
			err = nerr
		}
		if err != nil && onError != nil {
			onError(fmt.Errorf("sessionkit: sweep: %w", err))
		}
		if !next.After(now) {
			// Still due after a sweep: a record is failing. Back off.
			next = now.Add(time.Second)
		}
		m.armed.Store(next.UnixNano())
		t := m.clock.Timer(next.Sub(m.clock.Now()))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-m.wake:
			t.Stop()
		}
	}
}

// Recover applies rule P10 after a restart: every session that had a
// connection on this node gets Policy.OnDisconnect with reason
// service_restart. Call it once, before serving. It returns how many
// sessions it changed.
func (m *Manager) Recover(ctx context.Context) (int, error) {
	recs, err := m.store.Scan(ctx, Range{Index: IndexNode, From: m.node, To: m.node + indexSep})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range recs {
		id := rec.Key[len(sessionPrefix):]
		m.mu.Lock()
		h := m.hot[id]
		attached := h != nil && len(h.conns) > 0
		m.mu.Unlock()
		// An attach since this Manager started rewrote the node; the store
		// cannot tell, so the connections held here decide.
		if attached {
			continue // attached since this Manager started
		}
		_, _, err := m.update(ctx, m.clock.Now(), id, Input{Kind: InputDisconnect, Reason: ReasonServiceRestart}, updateOpts{})
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrEnded), errors.Is(err, ErrNotFound):
		default:
			return n, err
		}
	}
	return n, nil
}
