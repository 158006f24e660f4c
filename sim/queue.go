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

// queue is a binary min-heap of one-shot events.
type queue struct{ h []event }

func (q *queue) len() int { return len(q.h) }

func (q *queue) push(e event) {
	q.h = append(q.h, e)
	i := len(q.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.h[i].before(&q.h[p]) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *queue) top() *event { return &q.h[0] }

func (q *queue) pop() event {
	e := q.h[0]
	n := len(q.h) - 1
	q.h[0] = q.h[n]
	q.h[n] = event{}
	q.h = q.h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && q.h[r].before(&q.h[l]) {
			m = r
		}
		if !q.h[m].before(&q.h[i]) {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return e
}

// timers holds re-armable timers, one slot per owner (a client's keepalive
// timer, its behaviour timer, the service's timer, the sweep). Re-arming a
// slot moves it in place, so a timer that is pushed back on every keepalive
// costs one sift, not a new event and a stale one.
type timers struct {
	at   []time.Duration
	seq  []uint64
	pos  []int32 // index in heap, or -1 when not armed
	heap []int32
}

func newTimers(n int) *timers {
	t := &timers{
		at:   make([]time.Duration, n),
		seq:  make([]uint64, n),
		pos:  make([]int32, n),
		heap: make([]int32, 0, n),
	}
	for i := range t.pos {
		t.pos[i] = -1
	}
	return t
}

func (t *timers) less(i, j int) bool {
	a, b := t.heap[i], t.heap[j]
	if t.at[a] != t.at[b] {
		return t.at[a] < t.at[b]
	}
	return t.seq[a] < t.seq[b]
}

func (t *timers) swap(i, j int) {
	h := t.heap
	h[i], h[j] = h[j], h[i]
	t.pos[h[i]] = int32(i)
	t.pos[h[j]] = int32(j)
}

func (t *timers) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *timers) down(i int) bool {
	i0, n := i, len(t.heap)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && t.less(r, l) {
			m = r
		}
		if !t.less(m, i) {
			break
		}
		t.swap(i, m)
		i = m
	}
	return i != i0
}

// set arms slot for at; seq breaks ties between equal instants.
func (t *timers) set(slot int32, at time.Duration, seq uint64) {
	t.at[slot], t.seq[slot] = at, seq
	if p := t.pos[slot]; p >= 0 {
		if !t.down(int(p)) {
			t.up(int(p))
		}
		return
	}
	t.heap = append(t.heap, slot)
	t.pos[slot] = int32(len(t.heap) - 1)
	t.up(len(t.heap) - 1)
}

// stop disarms slot.
func (t *timers) stop(slot int32) {
	p := t.pos[slot]
	if p < 0 {
		return
	}
	last := len(t.heap) - 1
	if int(p) != last {
		t.swap(int(p), last)
	}
	t.heap = t.heap[:last]
	t.pos[slot] = -1
	if int(p) != last {
		if !t.down(int(p)) {
			t.up(int(p))
		}
	}
}

// top returns the earliest armed slot, or -1.
func (t *timers) top() int32 {
	if len(t.heap) == 0 {
		return -1
	}
	return t.heap[0]
}
