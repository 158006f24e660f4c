package core

import "context"

// Record is the unit a Store keeps: an opaque value under a unique key, with a
// version for compare-and-set and the index entries core computed for it.
//
// The store never interprets Value and never decides anything from it: expiry,
// ownership and ordering are core's, expressed through Index entries.
type Record struct {
	// Key identifies the record. Core namespaces keys by kind ("s/" for a
	// session, "d/" for a draft); a store treats them as opaque strings.
	Key string

	// Version is the store's version of the record. Get and Scan return the
	// current version. Put takes the version the caller last read (0 when the
	// record must not exist yet) and returns the new one.
	Version uint64

	// Value is the encoded record. Stores copy it on Put and return copies.
	Value []byte

	// Index lists the secondary index entries of the record. A record has at
	// most one entry per index name. Put replaces the record's entries as a
	// whole, atomically with the value: a reader never sees a record under an
	// index entry it no longer has.
	Index []IndexEntry
}

// IndexEntry places a record in a secondary index under a value. Values
// compare as byte strings: core encodes times and numbers so that byte order
// is their natural order.
type IndexEntry struct {
	Name  string
	Value string
}

// Index names core uses. A store must support every name it is given; these
// are listed so adapters can preallocate tables.
const (
	IndexReference = "ref"     // sessions by reference, newest first within a reference
	IndexSubject   = "subject" // sessions by subject
	IndexDue       = "due"     // sessions and drafts by their next deadline
	IndexNode      = "node"    // sessions by the node holding a connection
	IndexOwner     = "owner"   // drafts by owner
)

// Indexes lists every index name core writes, in a stable order.
var Indexes = []string{IndexReference, IndexSubject, IndexDue, IndexNode, IndexOwner}

// Range selects the entries of one index whose value v satisfies
// From <= v < To, ordered by (value, key). An empty To means no upper bound.
// Reverse returns them in descending order. Limit > 0 caps how many are
// returned; 0 means no cap.
type Range struct {
	Index   string
	From    string
	To      string
	Reverse bool
	Limit   int
}

// Prefix returns the Range of index entries whose value starts with p.
func Prefix(index, p string) Range {
	return Range{Index: index, From: p, To: prefixEnd(p)}
}

// prefixEnd returns the smallest string greater than every string with
// prefix p, or "" when there is none (p is empty or all 0xff).
func prefixEnd(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

// Store keeps versioned records and their secondary indexes. It is the whole
// of what core needs from persistence; adapters implement it on a backend.
//
// The contract, which core/storetest checks:
//
//   - Get returns ErrNotFound (checked with errors.Is) for a missing key.
//   - Put with Version 0 creates the record and fails with ErrConflict if the
//     key exists. Put with Version n > 0 replaces the record only if its
//     current version is n, and fails with ErrConflict otherwise (including
//     when the record is missing). Of concurrent Puts with the same version,
//     exactly one succeeds. A successful Put returns the new version, which is
//     greater than every earlier version of the key; versions are not reused
//     after a Delete.
//   - Put is durable when it returns, to the degree the adapter documents:
//     core acknowledges draft saves on that return.
//   - Delete with Version 0 removes the record unconditionally; with Version
//     n > 0 only if the current version is n (else ErrConflict). Deleting a
//     missing key is a no-op and returns nil, whatever the Version.
//   - Index entries are written and removed atomically with their record.
//   - Scan returns the records with an entry in r.Index inside the range,
//     ordered by (entry value, key), reversed if asked, capped by r.Limit (0
//     or negative: no cap). It answers from an index, never by reading every
//     record.
//   - Keys are non-empty; keys, index values and values may hold any bytes.
//     Index names are plain ASCII. Core gives a record at most one entry per
//     index name; a store may refuse a record that breaks this with
//     ErrInvalidInput. The order of a returned record's Index is not
//     significant.
//   - Within a PutBatch, records are applied in order, so the same key twice
//     behaves as two Puts in sequence.
//   - Returned records and slices are copies owned by the caller; the store
//     does not retain the caller's Record, Value or Index after a call.
//   - Every method honours ctx: a call with a cancelled context returns an
//     error wrapping ctx.Err() and changes nothing.
//   - The store never reads the clock and never expires anything by itself.
//   - A Store is safe for concurrent use.
type Store interface {
	Get(ctx context.Context, key string) (Record, error)
	Put(ctx context.Context, rec Record) (version uint64, err error)
	Delete(ctx context.Context, key string, version uint64) error
	Scan(ctx context.Context, r Range) ([]Record, error)
}

// BatchStore is an optional Store that writes many records in one round trip,
// which core uses to flush coalesced activity checkpoints. Each record is
// checked and written as Put would write it, independently of the others; the
// results line up with recs. A failure of the batch as a whole (a cancelled
// context, a closed store) is reported in every result.
type BatchStore interface {
	Store
	PutBatch(ctx context.Context, recs []Record) []PutResult
}

// PutResult is the outcome of one record of a PutBatch.
type PutResult struct {
	Version uint64
	Err     error
}
