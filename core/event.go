package core

import (
	"sync"
	"sync/atomic"
	"time"
)

// EventType names a change to a session or draft.
type EventType string

// Event types. Every stored change emits one (rule P18).
const (
	EventCreated   EventType = "created"
	EventStarted   EventType = "started"   // first activity of a not_started session
	EventLogin     EventType = "login"     // authenticated; the ID rotated when PreviousID is set
	EventResumed   EventType = "resumed"   // a suspended session continued
	EventAttached  EventType = "attached"  // a connection attached on a node
	EventSuspended EventType = "suspended" // the last connection went away under DisconnectSuspend
	EventEnded     EventType = "ended"     // Reason says why
	EventPurged    EventType = "purged"    // a tombstone or draft was removed after retention

	EventDraftSaved   EventType = "draft_saved"
	EventDraftClosed  EventType = "draft_closed"
	EventDraftDeleted EventType = "draft_deleted"
	EventDraftResumed EventType = "draft_resumed" // a draft was taken up by another session
)

// Event describes one stored change. It is emitted after the change is in the
// store.
type Event struct {
	Type       EventType
	Session    string // the session ID (the new one after a rotation)
	PreviousID string // the ID before rotation, for EventLogin
	Subject    string
	Reference  string
	Reason     Reason // for EventEnded
	Draft      string // the draft ID, for draft events
	At         time.Time
}

// Subscription receives events on C until Close. A subscriber that falls
// behind loses events rather than slowing the engine; Dropped counts them.
type Subscription struct {
	C       <-chan Event
	c       chan Event
	dropped atomic.Uint64
	hub     *hub
}

// Dropped returns how many events this subscriber missed because its buffer
// was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close stops delivery and closes C. It is safe to call more than once.
func (s *Subscription) Close() { s.hub.remove(s) }

// hub fans events out to subscribers without ever blocking the sender.
type hub struct {
	mu   sync.RWMutex
	subs map[*Subscription]struct{}
}

func (h *hub) add(buf int) *Subscription {
	if buf < 1 {
		buf = 1
	}
	c := make(chan Event, buf)
	s := &Subscription{C: c, c: c, hub: h}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[*Subscription]struct{})
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) remove(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.c)
	}
}

func (h *hub) emit(e Event) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		select {
		case s.c <- e:
		default:
			s.dropped.Add(1)
		}
	}
}
