package core

import "time"

// DraftState says whether a draft is still in progress.
type DraftState string

const (
	// DraftOpen is in progress: the user may come back to it.
	DraftOpen DraftState = "open"
	// DraftClosed is finished (submitted or abandoned); it is kept until
	// retention like an open one, but no longer counts as in progress.
	DraftClosed DraftState = "closed"
)

// SaveMode says who asked for a save.
type SaveMode string

const (
	SaveAuto   SaveMode = "auto"   // the client saved on its own, e.g. on a timer or on blur
	SaveManual SaveMode = "manual" // the user asked to save
)

// MaxDraftSize bounds a draft's data, so a client cannot fill the store.
const MaxDraftSize = 1 << 20

// Draft is saved in-progress work, such as a half-filled form. It belongs to
// an owner (the subject, else the reference, else the guest session) and
// outlives the session it was saved from (rule P14).
type Draft struct {
	ID    string
	Owner string // see DraftOwner
	// Session is the session the draft is open in now; a draft resumed from
	// a new session moves to it.
	Session string
	// Name is the application's name for the work, such as a form's name.
	Name  string
	Data  []byte
	Mode  SaveMode // the mode of the last save
	State DraftState

	CreatedAt time.Time
	UpdatedAt time.Time
	// ExpiresAt is UpdatedAt + Policy.DraftRetention: the draft is purged then.
	ExpiresAt time.Time

	// Version is the store version; a save must name the version it
	// replaces, or it fails with ErrConflict.
	Version uint64
}

// DraftOwner returns the owner key of drafts saved from s: its subject, else
// its reference, else the session itself (a guest without a reference).
func DraftOwner(s *Session) string {
	switch {
	case s.Subject != "":
		return "subject:" + s.Subject
	case s.ReferenceID != "":
		return "ref:" + s.ReferenceID
	default:
		return "session:" + s.ID
	}
}

// DraftSave is a request to save a draft.
type DraftSave struct {
	// ID names the draft to update; empty creates a new draft.
	ID string
	// Version is the version being replaced (the Version of the Draft last
	// loaded or saved); it must be 0 when ID is empty.
	Version uint64
	Name    string
	Data    []byte
	Mode    SaveMode
}
