package sim

import (
	"math/bits"
	"time"
)

// timers holds re-armable timers, one slot per owner (a client's keepalive
// timer, its behaviour timer, the service's timer, the sweep). Re-arming a
// slot moves it in place, so a timer that is pushed back on every keepalive
// costs no new event and leaves no stale one.
//
// Timers due within about a minute, which is nearly all of them, sit on a
// timing wheel: one bucket per 4.2 ms of virtual time, each a list of
// slots, and a bitmap of the buckets in use. Arming, re-arming and stopping
// are O(1), and the earliest timer is found from the bitmap and the few
// slots of one bucket. Timers further away, which are few, go to a heap of
// events of their own (a queue), where re-arming or stopping one leaves a
// stale entry that is dropped when it comes first. Order is exact
// (time, then sequence number), as with a heap alone: the wheel only
// narrows where to look.
//
// With 10,000 clients every keepalive re-arms its client's slot twice (to
// the ack deadline, then to the next send); a binary heap of slots made
// that a tenth of the simulator's time.
type timers struct {
	slots []tslot
	head  []int32 // first slot of each bucket, or -1
	used  []uint64
	// far holds the timers armed beyond the wheel's span, as events whose
	// arg is the slot. Re-arming or stopping a far timer leaves its entry
	// behind; top drops such stale entries when they come first.
	far queue
	// min is the earliest slot on the wheel, or -1 when unknown.
	min int32
}

const (
	wheelShift = 22 // bucket width 2^22 ns ≈ 4.2 ms
	wheelBits  = 14 // 16,384 buckets: a span of about 70 s
	wheelSize  = 1 << wheelBits
	wheelMask  = wheelSize - 1
)

// Where a slot is armed.
const (
	unarmed uint8 = iota
	onWheel
	onFar
)

type tslot struct {
	at         time.Duration
	seq        uint64
	prev, next int32 // neighbours in the bucket's list, or -1
	where      uint8
}

func newTimers(n int) *timers {
	t := &timers{
		slots: make([]tslot, n),
		head:  make([]int32, wheelSize),
		used:  make([]uint64, wheelSize/64),
		min:   -1,
	}
	for i := range t.head {
		t.head[i] = -1
	}
	return t
}

func bucketOf(at time.Duration) int64 { return int64(at) >> wheelShift }

func (a *tslot) before(b *tslot) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// set arms slot for at, where now <= at is the current virtual time; seq
// breaks ties between equal instants.
func (t *timers) set(slot int32, at time.Duration, seq uint64, now time.Duration) {
	t.stop(slot)
	x := &t.slots[slot]
	x.at, x.seq = at, seq
	if bucketOf(at)-bucketOf(now) >= wheelSize-1 {
		x.where = onFar
		t.far.push(event{at: at, seq: seq, arg: slot})
		return
	}
	x.where = onWheel
	b := int32(bucketOf(at) & wheelMask)
	x.prev, x.next = -1, t.head[b]
	if x.next >= 0 {
		t.slots[x.next].prev = slot
	}
	t.head[b] = slot
	t.used[b>>6] |= 1 << (b & 63)
	if t.min >= 0 && x.before(&t.slots[t.min]) {
		t.min = slot
	}
}

// stop disarms slot.
func (t *timers) stop(slot int32) {
	x := &t.slots[slot]
	switch x.where {
	case onFar:
		// Its entry in far goes stale.
	case onWheel:
		if x.prev >= 0 {
			t.slots[x.prev].next = x.next
		} else {
			b := int32(bucketOf(x.at) & wheelMask)
			t.head[b] = x.next
			if x.next < 0 {
				t.used[b>>6] &^= 1 << (b & 63)
			}
		}
		if x.next >= 0 {
			t.slots[x.next].prev = x.prev
		}
		if t.min == slot {
			t.min = -1
		}
	}
	x.where = unarmed
}

// top returns the earliest armed slot and its time and sequence number, or
// ok=false when none is armed. now is the current virtual time.
func (t *timers) top(now time.Duration) (slot int32, at time.Duration, seq uint64, ok bool) {
	w := t.wheelMin(now)
	f := t.farMin()
	switch {
	case w >= 0 && (f == nil || t.slots[w].before(&tslot{at: f.at, seq: f.seq})):
		x := &t.slots[w]
		return w, x.at, x.seq, true
	case f != nil:
		return f.arg, f.at, f.seq, true
	}
	return -1, 0, 0, false
}

// farMin returns the earliest far timer still armed, or nil, dropping the
// stale entries before it.
func (t *timers) farMin() *event {
	for t.far.len() > 0 {
		e := t.far.top()
		if x := &t.slots[e.arg]; x.where == onFar && x.seq == e.seq {
			return e
		}
		t.far.pop()
	}
	return nil
}

// wheelMin returns the earliest slot on the wheel, or -1. Every slot on the
// wheel is due in [now, now+span), so the first bucket in use, going round
// from now's, holds it.
func (t *timers) wheelMin(now time.Duration) int32 {
	if t.min >= 0 {
		return t.min
	}
	b := int(bucketOf(now) & wheelMask)
	for n := 0; n <= wheelSize; {
		w := t.used[b>>6] >> (b & 63)
		if w == 0 {
			step := 64 - b&63
			b, n = (b+step)&wheelMask, n+step
			continue
		}
		b = (b + bits.TrailingZeros64(w)) & wheelMask
		m := t.head[b]
		for s := t.slots[m].next; s >= 0; s = t.slots[s].next {
			if t.slots[s].before(&t.slots[m]) {
				m = s
			}
		}
		t.min = m
		return m
	}
	return -1
}

// seqOf returns the sequence number slot is armed with, or 0 when it is not
// armed.
func (t *timers) seqOf(slot int32) uint64 {
	if t.slots[slot].where == unarmed {
		return 0
	}
	return t.slots[slot].seq
}
