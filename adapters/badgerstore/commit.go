package badgerstore

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/dgraph-io/badger/v4"

	"github.com/sessionkit/sessionkit/core"
)

// Group commit.
//
// With SyncWrites badger syncs its write-ahead log once per transaction,
// even when it writes many transactions together, so a store that gave each
// Put its own transaction could not do more writes per second than the disk
// does syncs, however many callers wait. Instead, writes queue up and one
// caller at a time, the leader, takes everything queued (up to maxGroup
// operations) and applies it in one transaction: one sync for the group.
// Callers that find a leader at work wait; when the leader is done it hands
// the role to the first waiting operation's caller. No goroutine is started.
//
// Operations in a group are applied in queue order within one transaction,
// and each reads the writes of those before it, so each is checked exactly
// as if it ran alone: of two Puts of one key at the same version in one
// group, the second fails with core.ErrConflict. Since every write to a
// record or index key goes through the group, badger never reports a
// conflict between them; should it, or should the group outgrow a badger
// transaction, the group is split in halves and retried.

// maxGroup caps the operations of one group transaction.
const maxGroup = 512

// writeOp is one Put or Delete waiting to be applied.
type writeOp struct {
	rec core.Record // for a Delete, only Key and Version
	del bool

	version uint64 // result of a Put
	err     error  // result

	// wake receives true when the op's caller is to lead, and false once
	// the result is set. It holds one message so the sender never waits.
	wake chan bool
}

func newOp(rec core.Record, del bool) *writeOp {
	return &writeOp{rec: rec, del: del, wake: make(chan bool, 1)}
}

// committer holds the queue of operations waiting for a leader.
type committer struct {
	mu      sync.Mutex
	queue   []*writeOp
	leading bool
}

// write applies ops and returns when every one has its result.
func (s *Store) write(ops ...*writeOp) {
	c := &s.commit
	c.mu.Lock()
	c.queue = append(c.queue, ops...)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	if lead {
		s.lead()
	}
	for _, op := range ops {
		for <-op.wake {
			s.lead()
		}
	}
}

// lead applies one group from the head of the queue, passes the lead on if
// more is queued, and then releases the group's callers. Should applying
// panic (badger panics on some damaged data), the group fails and the lead
// still passes on before the panic continues, so a caller that recovers
// (net/http does) leaves no writer waiting forever.
func (s *Store) lead() {
	c := &s.commit
	c.mu.Lock()
	n := min(len(c.queue), maxGroup)
	group := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()

	applied := false
	defer func() {
		if !applied {
			for _, op := range group {
				op.version, op.err = 0, errAborted
			}
		}
		c.mu.Lock()
		if len(c.queue) > 0 {
			c.queue[0].wake <- true
		} else {
			c.leading = false
			c.queue = nil
		}
		c.mu.Unlock()
		for _, op := range group {
			op.wake <- false
		}
	}()
	s.apply(group)
	applied = true
}

// errAborted is the result of writes whose group transaction panicked; they
// may or may not have been committed.
var errAborted = errors.New("badgerstore: write aborted by a panic in badger; it may or may not have been applied")

// apply writes group in one transaction and sets each op's result.
func (s *Store) apply(group []*writeOp) {
	for attempt := 1; ; attempt++ {
		err := s.applyOnce(group)
		if err == nil {
			return
		}
		retry := errors.Is(err, badger.ErrConflict) || errors.Is(err, badger.ErrTxnTooBig)
		if retry && len(group) > 1 {
			s.apply(group[:len(group)/2])
			s.apply(group[len(group)/2:])
			return
		}
		if errors.Is(err, badger.ErrConflict) && attempt < maxAttempts {
			continue
		}
		for _, op := range group {
			if op.err == nil {
				op.version, op.err = 0, translate(opName(op), op.rec.Key, err)
			}
		}
		return
	}
}

// applyOnce stages every op of group in one transaction and commits it,
// with the version mark if the group used new versions. An op the store
// refuses (a stale version, an undecodable record) gets its own error and
// stages nothing; an error of the transaction as a whole is returned, with
// the ops' results cleared for a retry. Versions drawn for a transaction
// that fails are skipped, never reused.
func (s *Store) applyOnce(group []*writeOp) error {
	if s.beforeApply != nil {
		s.beforeApply()
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	mark := s.lastVersion
	var err error
	for _, op := range group {
		op.version, op.err = 0, nil
		if op.del {
			_, err = stageDelete(txn, op.rec.Key, op.rec.Version)
		} else {
			op.version, err = s.stagePut(txn, op.rec)
		}
		if errors.Is(err, core.ErrConflict) || errors.Is(err, core.ErrCorrupt) {
			op.version, op.err = 0, translate(opName(op), op.rec.Key, err)
			err = nil
			continue
		}
		if err != nil {
			break
		}
	}
	if err == nil && s.lastVersion != mark {
		err = txn.Set(metaVersion, binary.BigEndian.AppendUint64(nil, s.lastVersion))
	}
	if err == nil {
		err = txn.Commit()
	}
	if err != nil {
		for _, op := range group {
			op.version, op.err = 0, nil
		}
	}
	return err
}

func opName(op *writeOp) string {
	if op.del {
		return "delete"
	}
	return "put"
}
