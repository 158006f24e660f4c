package core

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
)

// maxRetries bounds how often an update is retried after a version conflict.
const maxRetries = 8

// Config configures a Manager. Only Store is required.
type Config struct {
	// Store keeps sessions and drafts.
	Store Store
	// Policy governs every session; the zero Policy means the defaults.
	Policy Policy
	// Clock is the source of time; nil means the real clock.
	Clock Clock
	// IDs supplies the random bytes of IDs; nil means crypto/rand. It is
	// read under a lock, so a seeded reader need not be safe for concurrent
	// use.
	IDs IDSource
	// Node names this process; sessions with a connection here carry it,
	// so Recover finds them after a restart. Empty means "local". One
	// Manager at a time may serve a store: a Manager trusts what it holds in
	// memory over the store, so two live on one store would each miss the
	// other's touches.
	Node string
}

// Conn is a live attachment of a client to a session, such as a WebSocket,
// that the Manager can close when the session ends or is superseded.
type Conn interface {
	// CloseSession tells the connection to close because of reason. It must
	// not block: the Manager calls it after storing the change, from the
	// goroutine that made it.
	CloseSession(reason Reason)
}

// Status is the answer to activity and keepalives: what a client needs to
// schedule its next pulse and show what is coming.
type Status struct {
	State State
	// Deadline is the next instant the session ends by itself unless
	// something happens, and DeadlineReason the reason it would end with.
	Deadline       time.Time
	DeadlineReason Reason
	// Interval is the keepalive interval, or 0 when keepalives are off.
	Interval time.Duration
}

// Manager applies the policy to sessions in a Store. It is safe for
// concurrent use. It starts no goroutine: the application runs Run, or a
// simulator calls Sweep.
type Manager struct {
	store   Store
	mc      *Machine
	p       Policy
	clock   Clock
	node    string
	epoch   string
	started time.Time

	idMu sync.Mutex
	ids  IDSource

	// stripes serialise the updates of one session (load, step, store,
	// apply, connection bookkeeping), so concurrent calls cannot undo each
	// other and events of a session leave in the order they were stored.
	stripes [64]sync.Mutex

	mu        sync.Mutex
	hot       map[string]*hotEntry // sessions this Manager is keeping in memory
	conns     map[Conn]string      // attached connection → session ID
	closed    bool
	lastEvict time.Time

	events hub
	wake   chan struct{}
	armed  atomic.Int64 // UnixNano of the instant Run's timer is armed for; 0 while sweeping
}

// hotEntry is what a Manager knows of a session beyond the store: touches
// not yet written, and its connections on this node.
type hotEntry struct {
	s      Session   // as last read or written, with restart slack applied
	stored time.Time // LastSeen as it is in the store, without slack
	seen   time.Time // latest idle reset known, ≥ s.LastSeen
	active time.Time // latest activity known, ≥ s.LastActivity
	conns  []Conn
}

func (h *hotEntry) pending() bool {
	return h.seen.After(h.s.LastSeen) || h.active.After(h.s.LastActivity)
}

// merged returns the session with the known touches applied.
func (h *hotEntry) merged() Session {
	s := h.s
	s.LastSeen, s.LastActivity = laterOf(s.LastSeen, h.seen), laterOf(s.LastActivity, h.active)
	return s
}

// New returns a Manager for cfg. It validates the policy and reads nothing
// from the store; call Recover before serving after a restart.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: Config.Store is nil", ErrInvalidInput)
	}
	mc, err := NewMachine(cfg.Policy)
	if err != nil {
		return nil, err
	}
	if err := checkText("node", cfg.Node); err != nil {
		return nil, err
	}
	m := &Manager{
		store: cfg.Store,
		mc:    mc,
		p:     mc.Policy(),
		clock: cfg.Clock,
		node:  cfg.Node,
		ids:   cfg.IDs,
		hot:   make(map[string]*hotEntry),
		conns: make(map[Conn]string),
		wake:  make(chan struct{}, 1),
	}
	if m.clock == nil {
		m.clock = clock.New()
	}
	if m.node == "" {
		m.node = "local"
	}
	if m.epoch, err = m.newID(); err != nil {
		return nil, err
	}
	m.started = m.clock.Now()
	m.lastEvict = m.started
	return m, nil
}

// Policy returns the effective policy, defaults filled in.
func (m *Manager) Policy() Policy { return m.p }

// Node returns the node name this Manager writes on attached sessions.
func (m *Manager) Node() string { return m.node }

// Interval returns the keepalive interval clients are told (rule P4), or 0
// when keepalives are disabled.
func (m *Manager) Interval() time.Duration {
	if m.p.KeepAlive.Disabled {
		return 0
	}
	return m.p.KeepAlive.Interval
}

// Subscribe returns a subscription that receives every event after its
// change is stored (rule P18). buf sizes its channel; a subscriber whose
// channel is full misses events rather than blocking the engine.
func (m *Manager) Subscribe(buf int) *Subscription { return m.events.add(buf) }

func (m *Manager) newID() (string, error) {
	m.idMu.Lock()
	defer m.idMu.Unlock()
	return newID(m.ids)
}

func (m *Manager) checkOpen() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return nil
}

// lock takes the stripes of the given session IDs, in a fixed order so two
// callers never deadlock, and returns the function that releases them.
func (m *Manager) lock(a, b string) func() {
	i, j := stripe(a), stripe(b)
	if b == "" || i == j {
		m.stripes[i].Lock()
		return m.stripes[i].Unlock
	}
	if i > j {
		i, j = j, i
	}
	m.stripes[i].Lock()
	m.stripes[j].Lock()
	return func() { m.stripes[j].Unlock(); m.stripes[i].Unlock() }
}

// stripe hashes an ID to a stripe (FNV-1a).
func stripe(id string) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return int(h % 64)
}

// base is what the store holds of a session, beside the Manager's view of
// it: what a write that carries no new touch must keep.
type base struct {
	seen  time.Time // LastSeen as stored
	epoch string    // the Manager that wrote it
	slack time.Time // the view's LastSeen with restart slack, before touches held here
	due   string    // the stored due index value
}

// load reads session id: the session as this Manager sees it (see view),
// and what the store holds.
func (m *Manager) load(ctx context.Context, id string) (Session, base, error) {
	rec, err := m.store.Get(ctx, SessionKey(id))
	if err != nil {
		return Session{}, base{}, err
	}
	s, b, err := m.view(rec)
	if s.ID == id {
		// Keep the caller's string rather than the store's copy: a
		// session made hot here is keyed by it, and a transport passes
		// that same string with every keepalive, so the lookup compares
		// pointers instead of bytes.
		s.ID = id
	}
	return s, b, err
}

// view decodes a session record and applies what this Manager knows beyond
// the store. A session last written by another Manager (before a restart)
// may have seen touches that were never written; but a touch is written
// whenever it moves the idle clock CheckpointEvery or more past the stored
// one, so allowing that much more is enough for the session never to end
// early.
func (m *Manager) view(rec Record) (Session, base, error) {
	s, epoch, err := decodeSession(rec)
	if err != nil {
		return Session{}, base{}, err
	}
	b := base{seen: s.LastSeen, epoch: epoch, due: dueValue(rec)}
	if epoch != m.epoch && s.Live() {
		s.LastSeen = earlierOf(s.LastSeen.Add(m.p.CheckpointEvery), laterOf(m.started, s.LastSeen))
	}
	b.slack = s.LastSeen
	m.mu.Lock()
	if h := m.hot[s.ID]; h != nil {
		s.LastSeen, s.LastActivity = laterOf(s.LastSeen, h.seen), laterOf(s.LastActivity, h.active)
	}
	m.mu.Unlock()
	return s, b, nil
}

// updateOpts adjusts one update.
type updateOpts struct {
	hot   bool // keep the session in memory afterwards (a touch path)
	force bool // write even if nothing is due
	sweep bool // the sweep found the session in the due index
}

// update serialises with other updates of session id, then runs updateLocked.
func (m *Manager) update(ctx context.Context, now time.Time, id string, in Input, o updateOpts) (Session, Effects, error) {
	if err := checkID(id); err != nil {
		return Session{}, Effects{}, err
	}
	defer m.lock(id, "")()
	return m.updateLocked(ctx, now, id, in, o)
}

// updateLocked loads session id, steps it with in at now, stores the result
// with a version check (retrying on conflict), and then carries out the
// effects. The caller holds the session's stripe.
func (m *Manager) updateLocked(ctx context.Context, now time.Time, id string, in Input, o updateOpts) (Session, Effects, error) {
	if err := m.checkOpen(); err != nil {
		return Session{}, Effects{}, err
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Session{}, Effects{}, fmt.Errorf("sessionkit: %w", err)
		}
		cur, b, err := m.load(ctx, id)
		if err != nil {
			return Session{}, Effects{}, err
		}
		s, eff := m.mc.Step(now, cur, in)
		written, err := m.store1(ctx, cur, &b, &s, &eff, o)
		if errors.Is(err, ErrConflict) && attempt < maxRetries {
			continue
		}
		if err != nil {
			return Session{}, Effects{}, err
		}
		m.apply(now, cur.ID, s, b.seen, eff, written, o)
		return s, eff, eff.Err
	}
}

// mustWrite says whether a touch has to reach the store before it is
// acknowledged: it moved the idle clock CheckpointEvery or more past the
// stored value, and some deadline reads that clock. This is what lets a
// restarted Manager bound what it lost (see view).
func (m *Manager) mustWrite(s *Session, stored time.Time) bool {
	p := &m.p
	reads := p.IdleTimeout > 0 || (p.AuthTimeout > 0 && s.Subject != "")
	return reads && s.LastSeen.Sub(stored) >= p.CheckpointEvery
}

// store1 writes what Step decided for one session: a purge, a state change,
// a due checkpoint, or a deadline the store holds too early. It reports
// whether s was written, and leaves in b what the store now holds.
func (m *Manager) store1(ctx context.Context, cur Session, b *base, s *Session, eff *Effects, o updateOpts) (bool, error) {
	if eff.Purge {
		return false, m.store.Delete(ctx, SessionKey(cur.ID), cur.Version)
	}
	write := eff.Persist || o.force || (eff.Touched && m.mustWrite(s, b.seen))
	if !write && o.sweep {
		// The due index holds an earlier deadline than the session's now:
		// touches held in memory, or restart slack, moved it. Write it, or
		// the sweep comes back for a deadline that is not due.
		write = EncodeTime(eff.Deadline) != b.due
	}
	if !write {
		return false, nil
	}
	seen, epoch := s.LastSeen, m.epoch
	if b.epoch != m.epoch && !s.LastSeen.After(b.slack) {
		// No touch seen here moved the idle clock: keep what the store knew
		// and who wrote it, so the slack a restart allowed is not stored as
		// a touch, and the next restart's slack is not added on top of it.
		seen, epoch = b.seen, b.epoch
	}
	rec, err := m.mc.encodeSession(s, epoch, seen)
	if err != nil {
		return false, err
	}
	v, err := m.store.Put(ctx, rec)
	if err != nil {
		return false, err
	}
	s.Version = v
	b.seen, b.epoch, b.due = seen, epoch, EncodeTime(eff.Deadline)
	return true, nil
}

// apply records the stored result in memory and carries out the effects that
// follow storage: emit the event, close connections, re-arm the deadline.
// The caller holds the session's stripe (both, for a rotation).
func (m *Manager) apply(now time.Time, prevID string, s Session, stored time.Time, eff Effects, written bool, o updateOpts) {
	var closing []Conn
	m.mu.Lock()
	h := m.hot[prevID]
	if prevID != s.ID && h != nil {
		delete(m.hot, prevID)
		m.hot[s.ID] = h
		for _, c := range h.conns {
			m.conns[c] = s.ID
		}
	}
	switch {
	case eff.Purge || s.State == StateEnded:
		if h != nil {
			closing = h.conns
			for _, c := range h.conns {
				delete(m.conns, c)
			}
			delete(m.hot, s.ID)
		}
	case h == nil && o.hot:
		h = &hotEntry{s: s, stored: stored, seen: s.LastSeen, active: s.LastActivity}
		h.s.Metadata = maps.Clone(s.Metadata)
		m.hot[s.ID] = h
	case h != nil:
		if written {
			h.s, h.stored = s, stored
			h.s.Metadata = maps.Clone(s.Metadata)
		}
		h.seen, h.active = laterOf(h.seen, s.LastSeen), laterOf(h.active, s.LastActivity)
		if !o.hot && len(h.conns) == 0 && !h.pending() {
			delete(m.hot, s.ID)
		}
	}
	m.mu.Unlock()

	if eff.Event != "" {
		e := Event{Type: eff.Event, Session: s.ID, Subject: s.Subject, Reference: s.ReferenceID,
			Reason: eff.Reason, PreviousID: eff.PreviousID, At: now}
		if eff.Event == EventEnded {
			e.At = s.EndedAt
		}
		m.events.emit(e)
	}
	why := eff.Close
	if why == "" {
		why = s.EndReason
	}
	for _, c := range closing {
		c.CloseSession(why)
	}
	if !eff.Purge {
		m.poke(eff.Deadline)
	}
}

// poke wakes Run if t is earlier than the instant it is armed for.
func (m *Manager) poke(t time.Time) {
	armed := m.armed.Load()
	if armed != 0 && t.UnixNano() >= armed {
		return
	}
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// ActivitySession records activity, as Activity does, and also returns the
// session as the Manager now sees it: what middleware puts in a request's
// context, without a second read of the store.
func (m *Manager) ActivitySession(ctx context.Context, id string) (Session, Status, error) {
	var s Session
	st, err := m.touch(ctx, id, InputActivity, &s)
	if err != nil {
		return Session{}, Status{}, err
	}
	s.Metadata = maps.Clone(s.Metadata)
	return s, st, nil
}

// Deadline returns the next instant s ends by itself unless something
// happens, and the reason it would end with (for an ended session: when its
// tombstone is purged, and "").
func (m *Manager) Deadline(s *Session) (time.Time, Reason) { return m.mc.Deadline(s) }

// touch handles activity and keepalives. A touch of a session kept in
// memory that changes no state and need not be written yet is handled there,
// without the store. The rest take the full update. When out is not nil it
// receives the session; its Metadata is shared with the Manager's memory, so
// callers handing it out clone it.
func (m *Manager) touch(ctx context.Context, id string, kind InputKind, out *Session) (Status, error) {
	if !ValidID(id) {
		return Status{}, ErrInvalidID
	}
	now := m.clock.Now()
	m.mu.Lock()
	if h := m.hot[id]; h != nil && !m.closed {
		s := h.merged()
		eff := m.mc.step(now, &s, Input{Kind: kind})
		if eff.Err == nil && !eff.Persist && eff.Event == "" && !m.mustWrite(&s, h.stored) {
			h.seen, h.active = s.LastSeen, s.LastActivity
			m.mu.Unlock()
			if out != nil {
				*out = s
			}
			return m.status(&s, &eff), nil
		}
	}
	m.mu.Unlock()
	s, eff, err := m.update(ctx, now, id, Input{Kind: kind}, updateOpts{hot: true})
	if err != nil {
		return Status{}, err
	}
	if out != nil {
		*out = s
	}
	return m.status(&s, &eff), nil
}

func (m *Manager) status(s *Session, eff *Effects) Status {
	return Status{State: s.State, Deadline: eff.Deadline, DeadlineReason: eff.DeadlineReason, Interval: m.Interval()}
}

// Activity records a request or user action (rules P2, P3): it resets the idle
// clock, renews the authentication and starts or resumes the session.
func (m *Manager) Activity(ctx context.Context, id string) (Status, error) {
	return m.touch(ctx, id, InputActivity, nil)
}

// KeepAlive records a pulse (rules P4, P5). A pulse that counts under
// Policy.KeepAlive.ExtendsIdle resets the idle clock and renews the
// authentication, as activity does; none extends MaxAuthAge. Pulses are
// handled in memory; one is written to the store only when it moves the idle
// clock CheckpointEvery or more past the stored value and a timeout reads
// that clock. It fails with ErrWrongState when keepalives are disabled.
func (m *Manager) KeepAlive(ctx context.Context, id string) (Status, error) {
	return m.touch(ctx, id, InputKeepAlive, nil)
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlierOf(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
