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
	Checkpoints int // sessions whose coalesced touches were written
}

// Sweep ends every session whose deadline is at or before now, purges what
// retention lets go, and checkpoints touches held in memory for
// CheckpointEvery or longer. It reads due records from the store's due
// index, never by a scan. Run calls it from the real-time loop; a simulator
// calls it with virtual time.
func (m *Manager) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	var res SweepResult
	if err := m.checkOpen(); err != nil {
		return res, err
	}
	var firstErr error
	note := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	n, err := m.flush(ctx, now, false)
	res.Checkpoints += n
	note(err)

	done := make(map[string]bool)
	to := EncodeTime(now.Add(1))
	for {
		recs, err := m.store.Scan(ctx, Range{Index: IndexDue, To: to, Limit: sweepBatch})
		if err != nil {
			note(err)
			break
		}
		fresh := 0
		for _, rec := range recs {
			if done[rec.Key] {
				continue
			}
			done[rec.Key] = true
			fresh++
			switch {
			case strings.HasPrefix(rec.Key, sessionPrefix):
				_, eff, err := m.update(ctx, now, rec.Key[len(sessionPrefix):], Input{Kind: InputDeadline}, updateOpts{})
				switch {
				case eff.Purge:
					res.Purged++
				case eff.Event == EventEnded:
					res.Ended++
				}
				if err != nil && !errors.Is(err, ErrNotFound) {
					note(err)
				}
			case strings.HasPrefix(rec.Key, draftPrefix):
				purged, err := m.purgeDraft(ctx, now, rec)
				if purged {
					res.Purged++
				}
				note(err)
			}
		}
		if fresh == 0 || len(recs) < sweepBatch {
			break
		}
	}
	return res, firstErr
}

// flush writes the touches held in memory: those pending for CheckpointEvery
// or longer, or all of them. It uses one PutBatch when the store has it.
func (m *Manager) flush(ctx context.Context, now time.Time, all bool) (int, error) {
	ce := m.p.CheckpointEvery
	var (
		sessions []Session
		recs     []Record
	)
	m.mu.Lock()
	for _, h := range m.hot {
		if !h.pending() {
			continue
		}
		if !all && now.Sub(h.s.LastSeen) < ce && now.Sub(h.s.LastActivity) < ce {
			continue
		}
		s := h.merged()
		rec, err := m.mc.encodeSession(&s, m.epoch)
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
		if r.Err == nil {
			n++
			m.mu.Lock()
			if h := m.hot[s.ID]; h != nil && h.s.Version == s.Version {
				s.Version = r.Version
				h.s = s
				if len(h.conns) == 0 && !h.pending() {
					delete(m.hot, s.ID) // nothing left to know beyond the store
				}
			}
			m.mu.Unlock()
			m.poke(m.deadlineOf(&s))
			continue
		}
		if !errors.Is(r.Err, ErrConflict) {
			if firstErr == nil {
				firstErr = r.Err
			}
			continue
		}
		// The session changed since it was held: checkpoint it the slow way.
		_, _, err := m.update(ctx, now, s.ID, Input{Kind: InputDeadline}, updateOpts{force: true})
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrEnded), errors.Is(err, ErrNotFound):
		case firstErr == nil:
			firstErr = err
		}
	}
	return n, firstErr
}

func (m *Manager) deadlineOf(s *Session) time.Time {
	d, _ := m.mc.Deadline(s)
	return d
}

// Flush writes every touch held in memory. Call it before a graceful
// shutdown so nothing waits for its checkpoint.
func (m *Manager) Flush(ctx context.Context) error {
	if err := m.checkOpen(); err != nil {
		return err
	}
	_, err := m.flush(ctx, m.clock.Now(), true)
	return err
}

// Close flushes what is held in memory and stops the Manager: later calls
// fail with ErrClosed. It does not close the store, which the caller owns.
func (m *Manager) Close(ctx context.Context) error {
	err := m.Flush(ctx)
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return err
}

// nextWake returns the instant Run should next sweep: the earliest stored
// deadline, or the earliest checkpoint due, whichever is first.
func (m *Manager) nextWake(ctx context.Context, now time.Time) (time.Time, error) {
	next := now.Add(idleWait)
	recs, err := m.store.Scan(ctx, Range{Index: IndexDue, Limit: 1})
	if err != nil {
		return next, err
	}
	if len(recs) == 1 {
		for _, e := range recs[0].Index {
			if e.Name == IndexDue {
				if t, ok := decodeTime(e.Value); ok && t.Before(next) {
					next = t
				}
			}
		}
	}
	ce := m.p.CheckpointEvery
	m.mu.Lock()
	for _, h := range m.hot {
		if h.pending() {
			if t := earlierOf(h.s.LastSeen, h.s.LastActivity).Add(ce); t.Before(next) {
				next = t
			}
		}
	}
	m.mu.Unlock()
	return next, nil
}

// Run is the real-time loop: one timer for the whole Manager, armed at the
// next deadline or checkpoint, re-armed when an earlier one appears. It
// sweeps until ctx ends and then returns ctx's error. Errors of a sweep are
// passed to onError (which may be nil) and retried a second later.
func (m *Manager) Run(ctx context.Context, onError func(error)) error {
	defer m.armed.Store(0)
	for {
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
