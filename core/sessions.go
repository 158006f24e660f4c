package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Input limits, so that a client cannot make the engine store arbitrary data.
const (
	MaxTextLen       = 256  // subject, reference, channel, draft name
	MaxMetadata      = 32   // metadata entries
	MaxMetadataKey   = 64   // bytes
	MaxMetadataValue = 1024 // bytes
)

// CreateOptions describes a new session. All fields are optional: the zero
// value creates a guest session with no reference.
type CreateOptions struct {
	// Reference is the integrator's client reference (rule P12).
	Reference string
	// Subject creates the session for an already authenticated user; empty
	// means a guest.
	Subject string
	// Channel says how the session was created ("frame", "link", "api", ...).
	Channel  string
	Metadata map[string]string
}

func checkText(field, v string) error {
	if len(v) > MaxTextLen {
		return fmt.Errorf("%w: %s is %d bytes, over %d", ErrInvalidInput, field, len(v), MaxTextLen)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidInput, field)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalidInput, field)
		}
	}
	return nil
}

func (o *CreateOptions) check() error {
	for _, f := range []struct{ name, v string }{
		{"reference", o.Reference}, {"subject", o.Subject}, {"channel", o.Channel},
	} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	if len(o.Metadata) > MaxMetadata {
		return fmt.Errorf("%w: %d metadata entries, over %d", ErrInvalidInput, len(o.Metadata), MaxMetadata)
	}
	for k, v := range o.Metadata {
		if len(k) == 0 || len(k) > MaxMetadataKey || len(v) > MaxMetadataValue || !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: metadata key %.64q: keys are 1 to %d bytes and values at most %d, in UTF-8",
				ErrInvalidInput, k, MaxMetadataKey, MaxMetadataValue)
		}
	}
	return nil
}

// Create starts a new session, always: creating without an ID never reuses
// one (rule P12). It begins not_started until its first activity (rule
// P13). A session created with a Subject counts as a login for superseding
// (rule P9).
func (m *Manager) Create(ctx context.Context, o CreateOptions) (Session, error) {
	if err := o.check(); err != nil {
		return Session{}, err
	}
	if err := m.checkOpen(); err != nil {
		return Session{}, err
	}
	for attempt := 0; ; attempt++ {
		id, err := m.newID()
		if err != nil {
			return Session{}, err
		}
		now := m.clock.Now()
		s, eff := m.mc.Step(now, Session{}, Input{Kind: InputCreate, ID: id, Subject: o.Subject,
			Reference: o.Reference, Channel: o.Channel, Metadata: o.Metadata})
		rec, err := m.mc.encodeSession(&s, m.epoch, s.LastSeen)
		if err != nil {
			return Session{}, err
		}
		v, err := m.store.Put(ctx, rec)
		if errors.Is(err, ErrConflict) && attempt < maxRetries {
			continue // an ID collision: 128 random bits make this a broken IDSource
		}
		if err != nil {
			return Session{}, err
		}
		s.Version = v
		m.apply(now, s.ID, s, s.LastSeen, eff, true, updateOpts{})
		if err := m.supersede(ctx, s); err != nil {
			return s, err
		}
		return s, nil
	}
}

// Get returns session id. For an ended session it returns the tombstone and
// an *EndedError (ErrExpired past the TTL); a session found past a deadline
// is ended first (rule P1, P17).
func (m *Manager) Get(ctx context.Context, id string) (Session, error) {
	s, _, err := m.update(ctx, m.clock.Now(), id, Input{Kind: InputDeadline}, updateOpts{})
	if err != nil {
		return Session{}, err
	}
	if s.State == StateEnded {
		return s, &EndedError{ID: s.ID, Reason: s.EndReason}
	}
	return s, nil
}

// Resume continues a not_started or suspended session under the same ID
// within its TTL (rule P11). It counts as activity. Drafts are not restored
// by it: load them explicitly.
func (m *Manager) Resume(ctx context.Context, id string) (Session, error) {
	s, _, err := m.update(ctx, m.clock.Now(), id, Input{Kind: InputResume}, updateOpts{hot: true})
	return s, err
}

// Login authenticates subject on session id (rule P16): the ID rotates, and
// CreatedAt, the reference and the drafts are kept. A guest's drafts move
// to the subject. Sessions of the subject beyond MaxSessionsPerSubject are
// superseded (rule P9). The returned session carries the new ID; the old
// one is gone.
//
// The new record is written first, then the drafts are moved, then the old
// record is deleted only if it has not changed meanwhile: a logout racing
// the login wins, and the login fails with its error. A crash between the
// first and the last write leaves the old ID working as it did before the
// login, and the user logs in again.
func (m *Manager) Login(ctx context.Context, id, subject string) (Session, error) {
	if err := checkID(id); err != nil {
		return Session{}, err
	}
	if subject == "" {
		return Session{}, fmt.Errorf("%w: login needs a subject", ErrInvalidInput)
	}
	if err := checkText("subject", subject); err != nil {
		return Session{}, err
	}
	if err := m.checkOpen(); err != nil {
		return Session{}, err
	}
	newID, err := m.newID()
	if err != nil {
		return Session{}, err
	}
	unlock := m.lock(id, newID)
	s, err := m.rotate(ctx, id, newID, subject)
	unlock()
	if err != nil {
		return Session{}, err
	}
	if err := m.supersede(ctx, s); err != nil {
		return s, err
	}
	return s, nil
}

func (m *Manager) rotate(ctx context.Context, id, newID, subject string) (Session, error) {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Session{}, fmt.Errorf("sessionkit: %w", err)
		}
		cur, b, err := m.load(ctx, id)
		if err != nil {
			return Session{}, err
		}
		now := m.clock.Now()
		s, eff := m.mc.Step(now, cur, Input{Kind: InputLogin, Subject: subject, ID: newID})
		if eff.Err != nil {
			// Refused; the session may have been found past a deadline.
			if _, err := m.store1(ctx, cur, &b, &s, &eff, updateOpts{}); err != nil && !errors.Is(err, ErrConflict) {
				return Session{}, err
			}
			m.apply(now, cur.ID, s, b.seen, eff, eff.Persist, updateOpts{})
			return Session{}, eff.Err
		}
		s.Version = 0
		rec, err := m.mc.encodeSession(&s, m.epoch, s.LastSeen)
		if err != nil {
			return Session{}, err
		}
		v, err := m.store.Put(ctx, rec)
		if err != nil {
			return Session{}, err
		}
		s.Version = v
		undo := func() { _ = m.store.Delete(context.WithoutCancel(ctx), SessionKey(newID), v) }
		if err := m.moveDrafts(ctx, DraftOwner(&cur), cur.ID, &s); err != nil {
			undo()
			return Session{}, err
		}
		err = m.store.Delete(ctx, SessionKey(cur.ID), cur.Version)
		if errors.Is(err, ErrConflict) && attempt < maxRetries {
			undo() // the old record changed meanwhile: step again from it
			continue
		}
		if err != nil {
			undo()
			return Session{}, err
		}
		m.apply(now, cur.ID, s, s.LastSeen, eff, true, updateOpts{hot: true})
		return s, nil
	}
}

// supersede ends the live sessions of s's subject beyond
// MaxSessionsPerSubject (rule P9). All of them are ranked by last login,
// newest first, ties by ID, so concurrent logins agree on which survive.
func (m *Manager) supersede(ctx context.Context, s Session) error {
	limit := m.p.MaxSessionsPerSubject
	if limit == 0 || s.Subject == "" {
		return nil
	}
	all, err := m.ListBySubject(ctx, s.Subject)
	if err != nil {
		return err
	}
	live := slices.DeleteFunc(all, func(x Session) bool { return !x.Live() })
	slices.SortFunc(live, func(a, b Session) int {
		if c := b.AuthAt.Compare(a.AuthAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, x := range live[min(len(live), limit):] {
		_, _, err := m.update(ctx, m.clock.Now(), x.ID, Input{Kind: InputSupersede}, updateOpts{})
		if err != nil && !errors.Is(err, ErrEnded) && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// Logout ends the session with reason logout and closes its connections with
// that reason (rule P8).
func (m *Manager) Logout(ctx context.Context, id string) error {
	_, _, err := m.update(ctx, m.clock.Now(), id, Input{Kind: InputLogout}, updateOpts{})
	return err
}

// Revoke ends every live session of subject with reason revoked (rule P15)
// and returns how many it ended.
func (m *Manager) Revoke(ctx context.Context, subject string) (int, error) {
	if subject == "" {
		return 0, fmt.Errorf("%w: revoke needs a subject", ErrInvalidInput)
	}
	list, err := m.ListBySubject(ctx, subject)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range list {
		if !s.Live() {
			continue
		}
		_, _, err := m.update(ctx, m.clock.Now(), s.ID, Input{Kind: InputRevoke}, updateOpts{})
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

// Attach records a live connection to session id on this node and resumes
// a suspended session. The Manager closes c (Conn.CloseSession) when the
// session ends or is superseded; the transport calls Detach when c goes.
func (m *Manager) Attach(ctx context.Context, id string, c Conn) (Session, error) {
	if c == nil {
		return Session{}, fmt.Errorf("%w: nil connection", ErrInvalidInput)
	}
	if err := checkID(id); err != nil {
		return Session{}, err
	}
	defer m.lock(id, "")()
	s, _, err := m.updateLocked(ctx, m.clock.Now(), id, Input{Kind: InputAttach, Node: m.node}, updateOpts{hot: true})
	if err != nil {
		return Session{}, err
	}
	// Holding the stripe, nothing has ended or evicted the session since.
	m.mu.Lock()
	h := m.hot[s.ID]
	h.conns = append(h.conns, c)
	m.conns[c] = s.ID
	m.mu.Unlock()
	return s, nil
}

// Detach records that connection c went away for reason (ReasonConnectionLost
// when empty: tab closed, network lost, keepalive silence). When it was the
// session's last connection here, Policy.OnDisconnect applies (rule P7).
// Detaching a connection the Manager does not hold, or of a session already
// ended, is a no-op.
func (m *Manager) Detach(ctx context.Context, c Conn, reason Reason) error {
	for attempt := 0; attempt < maxRetries; attempt++ {
		m.mu.Lock()
		id, ok := m.conns[c]
		m.mu.Unlock()
		if !ok {
			return nil
		}
		unlock := m.lock(id, "")
		m.mu.Lock()
		if now, ok := m.conns[c]; !ok || now != id {
			m.mu.Unlock() // rotated or detached meanwhile
			unlock()
			continue
		}
		delete(m.conns, c)
		h := m.hot[id]
		h.conns = slices.DeleteFunc(h.conns, func(x Conn) bool { return x == c })
		last := len(h.conns) == 0
		m.mu.Unlock()
		var err error
		if last {
			_, _, err = m.updateLocked(ctx, m.clock.Now(), id, Input{Kind: InputDisconnect, Reason: reason}, updateOpts{})
		}
		unlock()
		if errors.Is(err, ErrEnded) || errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return fmt.Errorf("sessionkit: detach: %w", ErrConflict)
}

// ListByReference returns every session of a client reference, newest first,
// with its state (rule P12). Sessions found past a deadline are shown ended
// with the reason they will be stored with.
func (m *Manager) ListByReference(ctx context.Context, ref string) ([]Session, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: empty reference", ErrInvalidInput)
	}
	return m.list(ctx, IndexReference, ref)
}

// ListBySubject returns every session of a subject, newest first (rule P15).
func (m *Manager) ListBySubject(ctx context.Context, subject string) ([]Session, error) {
	if subject == "" {
		return nil, fmt.Errorf("%w: empty subject", ErrInvalidInput)
	}
	return m.list(ctx, IndexSubject, subject)
}

func (m *Manager) list(ctx context.Context, index, value string) ([]Session, error) {
	if err := checkText(index, value); err != nil {
		return nil, err
	}
	r := Prefix(index, value+indexSep)
	r.Reverse = true
	recs, err := m.store.Scan(ctx, r)
	if err != nil {
		return nil, err
	}
	now := m.clock.Now()
	out := make([]Session, 0, len(recs))
	for _, rec := range recs {
		s, _, err := m.view(rec)
		if err != nil {
			return nil, err
		}
		s, _ = m.mc.Step(now, s, Input{Kind: InputDeadline})
		out = append(out, s)
	}
	return out, nil
}

// GetOrCreate returns the newest usable session of reference ref, or creates
// one with o (its Reference set to ref) when there is none (rule P12). It
// reports whether it created the session.
func (m *Manager) GetOrCreate(ctx context.Context, ref string, o CreateOptions) (Session, bool, error) {
	list, err := m.ListByReference(ctx, ref)
	if err != nil {
		return Session{}, false, err
	}
	for _, s := range list {
		if s.Live() {
			return s, false, nil
		}
	}
	o.Reference = ref
	s, err := m.Create(ctx, o)
	return s, err == nil, err
}
