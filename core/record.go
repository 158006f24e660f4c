package core

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Record keys are namespaced by kind.
const (
	sessionPrefix = "s/"
	draftPrefix   = "d/"
)

// SessionKey and DraftKey return the store key of a session or draft ID.
func SessionKey(id string) string { return sessionPrefix + id }
func DraftKey(id string) string   { return draftPrefix + id }

// indexSep separates the parts of a compound index value. Subjects and
// references are checked to contain no control characters, so it cannot
// occur inside them.
const indexSep = "\x00"

// EncodeTime encodes t as a fixed-width string whose byte order is time
// order, for index values. Times before 1970 encode as the epoch.
func EncodeTime(t time.Time) string {
	n := t.UnixNano()
	if t.Before(time.Unix(0, 0)) {
		n = 0
	}
	s := strconv.FormatUint(uint64(n), 16)
	return strings.Repeat("0", 16-len(s)) + s
}

// decodeTime reverses EncodeTime.
func decodeTime(v string) (time.Time, bool) {
	n, err := strconv.ParseUint(v, 16, 64)
	if err != nil || len(v) != 16 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(n)), true
}

// sessionRecord is the stored form of a Session.
type sessionRecord struct {
	ID           string            `json:"id"`
	ReferenceID  string            `json:"ref,omitempty"`
	Subject      string            `json:"sub,omitempty"`
	Channel      string            `json:"ch,omitempty"`
	State        State             `json:"state"`
	EndReason    Reason            `json:"reason,omitempty"`
	CreatedAt    time.Time         `json:"created"`
	LastActivity time.Time         `json:"active"`
	LastSeen     time.Time         `json:"seen"`
	AuthAt       time.Time         `json:"auth,omitzero"`
	EndedAt      time.Time         `json:"ended,omitzero"`
	Node         string            `json:"node,omitempty"`
	OpenDrafts   int               `json:"drafts,omitempty"`
	Metadata     map[string]string `json:"meta,omitempty"`
	// Epoch names the Manager instance that last wrote the activity
	// checkpoint; another instance cannot know of touches that were never
	// checkpointed, and allows for them (see Manager.load).
	Epoch string `json:"epoch,omitempty"`
}

// encodeSession returns the record of s, with the index entries for its
// stored state and deadline.
// The record holds seen as LastSeen, which is s.LastSeen unless the caller
// keeps an earlier writer's value (see Manager.store1); the due entry is
// always s's deadline.
func (m *Machine) encodeSession(s *Session, epoch string, seen time.Time) (Record, error) {
	v, err := json.Marshal(sessionRecord{
		ID: s.ID, ReferenceID: s.ReferenceID, Subject: s.Subject, Channel: s.Channel,
		State: s.State, EndReason: s.EndReason, CreatedAt: s.CreatedAt,
		LastActivity: s.LastActivity, LastSeen: seen, AuthAt: s.AuthAt,
		EndedAt: s.EndedAt, Node: s.Node, OpenDrafts: s.OpenDrafts,
		Metadata: s.Metadata, Epoch: epoch,
	})
	if err != nil {
		return Record{}, fmt.Errorf("sessionkit: encoding session: %w", err)
	}
	due, _ := m.Deadline(s)
	idx := make([]IndexEntry, 0, 4)
	idx = append(idx, IndexEntry{IndexDue, EncodeTime(due)})
	created := EncodeTime(s.CreatedAt)
	if s.ReferenceID != "" {
		idx = append(idx, IndexEntry{IndexReference, s.ReferenceID + indexSep + created})
	}
	if s.Subject != "" {
		idx = append(idx, IndexEntry{IndexSubject, s.Subject + indexSep + created})
	}
	if s.Node != "" {
		idx = append(idx, IndexEntry{IndexNode, s.Node})
	}
	return Record{Key: SessionKey(s.ID), Version: s.Version, Value: v, Index: idx}, nil
}

// decodeSession decodes a session record, returning its epoch too.
func decodeSession(r Record) (Session, string, error) {
	var sr sessionRecord
	if err := json.Unmarshal(r.Value, &sr); err != nil {
		return Session{}, "", fmt.Errorf("%w: session %q: %v", ErrCorrupt, r.Key, err)
	}
	if SessionKey(sr.ID) != r.Key {
		return Session{}, "", fmt.Errorf("%w: session %q holds id %q", ErrCorrupt, r.Key, sr.ID)
	}
	return Session{
		ID: sr.ID, ReferenceID: sr.ReferenceID, Subject: sr.Subject, Channel: sr.Channel,
		State: sr.State, EndReason: sr.EndReason, CreatedAt: sr.CreatedAt,
		LastActivity: sr.LastActivity, LastSeen: sr.LastSeen, AuthAt: sr.AuthAt,
		EndedAt: sr.EndedAt, Node: sr.Node, OpenDrafts: sr.OpenDrafts,
		Metadata: sr.Metadata, Version: r.Version,
	}, sr.Epoch, nil
}

// draftRecord is the stored form of a Draft.
type draftRecord struct {
	ID        string     `json:"id"`
	Owner     string     `json:"owner"`
	Session   string     `json:"session"`
	Name      string     `json:"name,omitempty"`
	Data      []byte     `json:"data,omitempty"`
	Mode      SaveMode   `json:"mode"`
	State     DraftState `json:"state"`
	CreatedAt time.Time  `json:"created"`
	UpdatedAt time.Time  `json:"updated"`
	ExpiresAt time.Time  `json:"expires"`
}

func encodeDraft(d *Draft) (Record, error) {
	v, err := json.Marshal(draftRecord{
		ID: d.ID, Owner: d.Owner, Session: d.Session, Name: d.Name, Data: d.Data,
		Mode: d.Mode, State: d.State, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		ExpiresAt: d.ExpiresAt,
	})
	if err != nil {
		return Record{}, fmt.Errorf("sessionkit: encoding draft: %w", err)
	}
	return Record{Key: DraftKey(d.ID), Version: d.Version, Value: v, Index: []IndexEntry{
		{IndexDue, EncodeTime(d.ExpiresAt)},
		{IndexOwner, d.Owner + indexSep + EncodeTime(d.UpdatedAt)},
	}}, nil
}

func decodeDraft(r Record) (Draft, error) {
	var dr draftRecord
	if err := json.Unmarshal(r.Value, &dr); err != nil {
		return Draft{}, fmt.Errorf("%w: draft %q: %v", ErrCorrupt, r.Key, err)
	}
	if DraftKey(dr.ID) != r.Key {
		return Draft{}, fmt.Errorf("%w: draft %q holds id %q", ErrCorrupt, r.Key, dr.ID)
	}
	return Draft{
		ID: dr.ID, Owner: dr.Owner, Session: dr.Session, Name: dr.Name, Data: dr.Data,
		Mode: dr.Mode, State: dr.State, CreatedAt: dr.CreatedAt, UpdatedAt: dr.UpdatedAt,
		ExpiresAt: dr.ExpiresAt, Version: r.Version,
	}, nil
}
