package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SaveDraft saves in-progress work from session id (rule P14). It is durable
// in the store when it returns, and only then acknowledged. With d.ID empty
// it creates a draft open in the session; otherwise d.Version must be the
// draft's current version or the save fails with ErrConflict, and a draft
// open in another session of the same owner moves to this one. A save counts
// as activity.
func (m *Manager) SaveDraft(ctx context.Context, id string, d DraftSave) (Draft, error) {
	if err := d.check(); err != nil {
		return Draft{}, err
	}
	s, _, err := m.update(ctx, m.clock.Now(), id, Input{Kind: InputActivity}, updateOpts{hot: true})
	if err != nil {
		return Draft{}, err
	}
	now := m.clock.Now()
	if d.ID == "" {
		did, err := m.newID()
		if err != nil {
			return Draft{}, err
		}
		dr := Draft{ID: did, Owner: DraftOwner(&s), Session: s.ID, Name: d.Name, Data: slices.Clone(d.Data),
			Mode: d.Mode, State: DraftOpen, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(m.p.DraftRetention)}
		if err := m.putDraft(ctx, &dr); err != nil {
			return Draft{}, err
		}
		m.countDraft(ctx, s.ID, InputDraftOpened)
		m.emitDraft(EventDraftSaved, &s, dr.ID, now)
		return dr, nil
	}
	dr, err := m.ownDraft(ctx, &s, d.ID)
	if err != nil {
		return Draft{}, err
	}
	if dr.Version != d.Version {
		return Draft{}, fmt.Errorf("%w: draft is at version %d, the save names %d", ErrConflict, dr.Version, d.Version)
	}
	if dr.State != DraftOpen {
		return Draft{}, fmt.Errorf("%w: draft is closed", ErrWrongState)
	}
	from := dr.Session
	dr.Session, dr.Name, dr.Data, dr.Mode = s.ID, d.Name, slices.Clone(d.Data), d.Mode
	dr.UpdatedAt, dr.ExpiresAt = now, now.Add(m.p.DraftRetention)
	if err := m.putDraft(ctx, &dr); err != nil {
		return Draft{}, err
	}
	m.moveCount(ctx, from, s.ID)
	m.emitDraft(EventDraftSaved, &s, dr.ID, now)
	return dr, nil
}

func (d *DraftSave) check() error {
	switch {
	case d.ID != "" && !ValidID(d.ID):
		return ErrInvalidID
	case d.ID == "" && d.Version != 0:
		return fmt.Errorf("%w: a new draft has no version to name", ErrInvalidInput)
	case d.Mode != SaveAuto && d.Mode != SaveManual:
		return fmt.Errorf("%w: save mode %q is neither %q nor %q", ErrInvalidInput, d.Mode, SaveAuto, SaveManual)
	case len(d.Data) > MaxDraftSize:
		return fmt.Errorf("%w: draft of %d bytes, over %d", ErrInvalidInput, len(d.Data), MaxDraftSize)
	}
	return checkText("draft name", d.Name)
}

// LoadDraft returns a draft of the owner of session id. Loading is the only
// way a draft's contents come back: resuming a session does not restore
// them (rule P11).
func (m *Manager) LoadDraft(ctx context.Context, id, draftID string) (Draft, error) {
	s, err := m.Get(ctx, id)
	if err != nil {
		return Draft{}, err
	}
	return m.ownDraft(ctx, &s, draftID)
}

// ListDrafts returns the drafts of the owner of session id (its subject,
// reference or itself), most recently saved first.
func (m *Manager) ListDrafts(ctx context.Context, id string) ([]Draft, error) {
	s, err := m.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return m.draftsOf(ctx, DraftOwner(&s))
}

// ListDraftsByOwner returns the drafts of an owner as DraftOwner names it
// ("subject:ann", "ref:customer-42", "session:<id>"), most recently saved
// first. It is for the application's backend and tools, which answer for
// their callers' right to see them.
func (m *Manager) ListDraftsByOwner(ctx context.Context, owner string) ([]Draft, error) {
	if owner == "" {
		return nil, fmt.Errorf("%w: empty owner", ErrInvalidInput)
	}
	if err := checkText("owner", owner); err != nil {
		return nil, err
	}
	return m.draftsOf(ctx, owner)
}

func (m *Manager) draftsOf(ctx context.Context, owner string) ([]Draft, error) {
	r := Prefix(IndexOwner, owner+indexSep)
	r.Reverse = true
	recs, err := m.store.Scan(ctx, r)
	if err != nil {
		return nil, err
	}
	out := make([]Draft, 0, len(recs))
	for _, rec := range recs {
		d, err := decodeDraft(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ResumeDraft takes up an open draft in session id, typically a new session
// after the one it was saved from ended, and returns it with its contents.
func (m *Manager) ResumeDraft(ctx context.Context, id, draftID string) (Draft, error) {
	s, _, err := m.update(ctx, m.clock.Now(), id, Input{Kind: InputActivity}, updateOpts{hot: true})
	if err != nil {
		return Draft{}, err
	}
	for attempt := 0; ; attempt++ {
		dr, err := m.ownDraft(ctx, &s, draftID)
		if err != nil {
			return Draft{}, err
		}
		if dr.State != DraftOpen {
			return Draft{}, fmt.Errorf("%w: draft is closed", ErrWrongState)
		}
		if dr.Session == s.ID {
			return dr, nil
		}
		from := dr.Session
		dr.Session = s.ID
		err = m.putDraft(ctx, &dr)
		if errors.Is(err, ErrConflict) && attempt < maxRetries {
			continue
		}
		if err != nil {
			return Draft{}, err
		}
		m.moveCount(ctx, from, s.ID)
		m.emitDraft(EventDraftResumed, &s, dr.ID, m.clock.Now())
		return dr, nil
	}
}

// CloseDraft marks a draft finished (submitted or abandoned). It is kept
// until retention but no longer counts as in progress. version must be the
// draft's current version.
func (m *Manager) CloseDraft(ctx context.Context, id, draftID string, version uint64) (Draft, error) {
	s, err := m.Get(ctx, id)
	if err != nil {
		return Draft{}, err
	}
	dr, err := m.ownDraft(ctx, &s, draftID)
	if err != nil {
		return Draft{}, err
	}
	if dr.Version != version {
		return Draft{}, fmt.Errorf("%w: draft is at version %d, the close names %d", ErrConflict, dr.Version, version)
	}
	if dr.State != DraftOpen {
		return Draft{}, fmt.Errorf("%w: draft is already closed", ErrWrongState)
	}
	dr.State = DraftClosed
	dr.UpdatedAt = m.clock.Now()
	dr.ExpiresAt = dr.UpdatedAt.Add(m.p.DraftRetention)
	if err := m.putDraft(ctx, &dr); err != nil {
		return Draft{}, err
	}
	m.countDraft(ctx, dr.Session, InputDraftClosed)
	m.emitDraft(EventDraftClosed, &s, dr.ID, dr.UpdatedAt)
	return dr, nil
}

// DeleteDraft removes a draft of the owner of session id. version must be
// the draft's current version, so a stale tab cannot delete newer work; 0
// deletes whatever version there is. Deleting a draft that does not exist
// fails with ErrNotFound.
func (m *Manager) DeleteDraft(ctx context.Context, id, draftID string, version uint64) error {
	s, err := m.Get(ctx, id)
	if err != nil {
		return err
	}
	dr, err := m.ownDraft(ctx, &s, draftID)
	if err != nil {
		return err
	}
	if version != 0 && version != dr.Version {
		return fmt.Errorf("%w: draft is at version %d, the delete names %d", ErrConflict, dr.Version, version)
	}
	if err := m.store.Delete(ctx, DraftKey(dr.ID), dr.Version); err != nil {
		return err
	}
	if dr.State == DraftOpen {
		m.countDraft(ctx, dr.Session, InputDraftClosed)
	}
	m.emitDraft(EventDraftDeleted, &s, dr.ID, m.clock.Now())
	return nil
}

// ownDraft loads a draft and checks that it belongs to the owner of s. A
// draft of another owner is reported as not found, so IDs cannot be probed.
func (m *Manager) ownDraft(ctx context.Context, s *Session, draftID string) (Draft, error) {
	if err := checkID(draftID); err != nil {
		return Draft{}, err
	}
	rec, err := m.store.Get(ctx, DraftKey(draftID))
	if err != nil {
		return Draft{}, err
	}
	dr, err := decodeDraft(rec)
	if err != nil {
		return Draft{}, err
	}
	if dr.Owner != DraftOwner(s) {
		return Draft{}, ErrNotFound
	}
	return dr, nil
}

func (m *Manager) putDraft(ctx context.Context, d *Draft) error {
	rec, err := encodeDraft(d)
	if err != nil {
		return err
	}
	v, err := m.store.Put(ctx, rec)
	if err != nil {
		return err
	}
	d.Version = v
	return nil
}

// countDraft adjusts the open-draft count of session id. The draft itself is
// already stored and acknowledged; a session that has ended or gone needs no
// count, so those errors are dropped.
func (m *Manager) countDraft(ctx context.Context, id string, kind InputKind) {
	if id == "" || !ValidID(id) {
		return
	}
	_, _, _ = m.update(ctx, m.clock.Now(), id, Input{Kind: kind}, updateOpts{})
}

// moveCount moves one open draft from session `from` to session `to`.
func (m *Manager) moveCount(ctx context.Context, from, to string) {
	if from == to {
		return
	}
	m.countDraft(ctx, from, InputDraftClosed)
	m.countDraft(ctx, to, InputDraftOpened)
}

func (m *Manager) emitDraft(t EventType, s *Session, draftID string, at time.Time) {
	m.events.emit(Event{Type: t, Session: s.ID, Subject: s.Subject, Reference: s.ReferenceID, Draft: draftID, At: at})
}

// moveDrafts hands the drafts of a session that logged in to its new owner and
// ID (rule P16): a guest's drafts become the subject's, and drafts open under
// the rotated ID follow it.
func (m *Manager) moveDrafts(ctx context.Context, oldOwner, prevID string, s *Session) error {
	newOwner := DraftOwner(s)
	owners := []string{oldOwner}
	if newOwner != oldOwner {
		owners = append(owners, newOwner)
	}
	for _, owner := range owners {
		list, err := m.draftsOf(ctx, owner)
		if err != nil {
			return err
		}
		for _, d := range list {
			if d.Owner == newOwner && d.Session != prevID {
				continue // already where it belongs
			}
			d.Owner = newOwner
			if d.Session == prevID && prevID != "" {
				d.Session = s.ID
			}
			if err := m.putDraft(ctx, &d); err != nil {
				return fmt.Errorf("sessionkit: moving draft %s to the logged-in session: %w", d.ID, err)
			}
		}
	}
	return nil
}

// purgeDraft deletes a draft found in the due index once its retention is
// over.
func (m *Manager) purgeDraft(ctx context.Context, now time.Time, rec Record) (bool, error) {
	d, err := decodeDraft(rec)
	if err != nil {
		return false, err
	}
	if now.Before(d.ExpiresAt) {
		return false, nil
	}
	err = m.store.Delete(ctx, rec.Key, rec.Version)
	if errors.Is(err, ErrConflict) {
		return false, nil // saved again since the scan: not due any more
	}
	if err != nil {
		return false, err
	}
	if d.State == DraftOpen {
		m.countDraft(ctx, d.Session, InputDraftClosed)
	}
	m.events.emit(Event{Type: EventPurged, Session: d.Session, Draft: d.ID, At: now})
	return true, nil
}
