package sim

import (
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"time"
)

// ringSize is how many recent log entries are kept for failure traces.
const ringSize = 1 << 15

// logEntry is one line of the event log, with what it touches so a trace
// can pick the lines of one client or session.
type logEntry struct {
	at     time.Duration
	client int32 // -1 for the service or the whole run
	sess   int32 // model session index, or -1
	text   string
}

// logger keeps the event log: a hash of every line (for "same seed, same
// log"), the recent entries for traces, and optionally every line.
type logger struct {
	level LogLevel
	keep  bool
	names []string
	lines []string
	ring  []logEntry
	next  int
	h     hash.Hash
	buf   []byte
}

func (l *logger) init(opt Options) {
	l.level, l.keep = opt.Log, opt.KeepLog
	l.ring = make([]logEntry, 0, 1024)
	l.h = newHash()
}

// all reports whether per-message lines are logged.
func (l *logger) all() bool { return l.level >= LogAll }

func (l *logger) add(at time.Duration, client, sess int32, format string, args ...any) {
	who := "service"
	if client >= 0 {
		who = l.names[client]
	}
	l.buf = appendStamp(l.buf[:0], at)
	l.buf = append(l.buf, ' ')
	l.buf = append(l.buf, who...)
	for n := len(who); n < 8; n++ {
		l.buf = append(l.buf, ' ')
	}
	l.buf = append(l.buf, ' ')
	l.buf = fmt.Appendf(l.buf, format, args...)
	line := string(l.buf)
	l.buf = append(l.buf, '\n')
	l.h.Write(l.buf)
	if l.keep {
		l.lines = append(l.lines, line)
	}
	e := logEntry{at: at, client: client, sess: sess, text: line}
	if len(l.ring) < ringSize {
		l.ring = append(l.ring, e)
		return
	}
	l.ring[l.next] = e
	l.next = (l.next + 1) % ringSize
}

// global logs a line about the whole run.
func (l *logger) global(at time.Duration, format string, args ...any) {
	l.add(at, -1, -1, format, args...)
}

// trace returns up to n recent lines that touch client or sess, or the
// whole run, oldest first.
func (l *logger) trace(client, sess int32, n int) []string {
	var out []string
	size := len(l.ring)
	for i := 0; i < size && len(out) < n; i++ {
		e := &l.ring[(l.next-1-i+2*size)%size]
		if e.client == -1 && e.sess == -1 ||
			client >= 0 && e.client == client ||
			sess >= 0 && e.sess == sess {
			out = append(out, e.text)
		}
	}
	slices.Reverse(out)
	return out
}

func (l *logger) sum() string { return hex.EncodeToString(l.h.Sum(nil)) }
