package sim

import "time"

// evKind says what an event does when its time comes.
type evKind uint8

const (
	evToServer     evKind = iota + 1 // a message reaches the server
	evToClient                       // a message reaches a client
	evAction                         // a timeline action starts (arg: index)
	evActionEnd                      // a timeline action with a duration ends (arg: index)
	evFlap                           // a flapping link toggles (arg: index)
	evServerUp                       // the stopped service starts again
	evCheckSession                   // oracle: a session past its deadline must have ended
)

// event is one thing scheduled at a virtual instant. Events are values kept
// in a slice, so the hot path (keepalives and their answers) allocates
// nothing; bulky message contents travel behind p.
type event struct {
	at     time.Duration
	seq    uint64
	kind   evKind
	op     op
	client int32
	gen    uint32
	n      uint64 // keepalive sequence or request number
	arg    int32
	p      *payload
}

// before orders events by time, then by the order they were scheduled in,
// which makes every run of a seed take the same path.
func (e *event) before(f *event) bool {
	if e.at != f.at {
		return e.at < f.at
	}
	return e.seq < f.seq
}

// queue is a 4-ary min-heap of one-shot events. Four children to a node
// halve the depth of a binary heap, and a node's children sit side by side
// in memory, so a pop reads fewer, adjacent cache lines.
type queue struct{ h []event }

func (q *queue) len() int { return len(q.h) }

func (q *queue) push(e event) {
	q.h = append(q.h, e)
	h := q.h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

func (q *queue) top() *event { return &q.h[0] }

func (q *queue) pop() event {
	h := q.h
	top := h[0]
	n := len(h) - 1
	e := h[n]
	h[n] = event{}
	q.h = h[:n]
	h = h[:n]
	if n > 0 {
		i := 0
		for {
			c := 4*i + 1
			if c >= n {
				break
			}
			m := c
			for j := c + 1; j < c+4 && j < n; j++ {
				if h[j].before(&h[m]) {
					m = j
				}
			}
			if !h[m].before(&e) {
				break
			}
			h[i] = h[m]
			i = m
		}
		h[i] = e
	}
	return top
}
