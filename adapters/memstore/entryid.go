package memstore

import (
	"fmt"
	"strings"
)

// Index entries live in one memdb table whose id is the tuple (index name,
// entry value, record key), encoded so that comparing ids as bytes compares
// the tuples field by field. memdb's own CompoundIndex of StringFieldIndexes
// ends each field with a 0x00 byte, which is not enough when the fields
// themselves may hold 0x00: ("a", "\x00b") and ("a\x00", "b") would both
// become "a\x00\x00b\x00". Here each field has every 0x00 written as
// 0x00 0xff and ends with 0x00 0x01 (the escaping of FoundationDB's tuple
// layer, with a two-byte terminator), so:
//
//   - no encoded field is a prefix of another, and
//   - a shorter field sorts before any longer one it is a prefix of, since
//     the terminator's 0x00 0x01 sorts below both a real byte and an escaped
//     0x00 (0x00 0xff).

const (
	escZero = "\x00\xff" // a 0x00 byte inside a field
	endMark = "\x00\x01" // the end of a field
	endPast = "\x00\x02" // above endMark, below escZero: past every field with this prefix
)

// appendField appends the encoding of f to b.
func appendField(b *strings.Builder, f string) {
	for {
		i := strings.IndexByte(f, 0)
		if i < 0 {
			break
		}
		b.WriteString(f[:i])
		b.WriteString(escZero)
		f = f[i+1:]
	}
	b.WriteString(f)
	b.WriteString(endMark)
}

// entryID is the id of the entry (name, value) of the record under key.
func entryID(name, value, key string) string {
	var b strings.Builder
	b.Grow(len(name) + len(value) + len(key) + 3*len(endMark))
	appendField(&b, name)
	appendField(&b, value)
	appendField(&b, key)
	return b.String()
}

// boundID sorts below the ids of every entry (name, v, key) for any key, and
// above those of every entry (name, u, key) with u < v. No entry has it as
// its id.
func boundID(name, v string) string {
	var b strings.Builder
	b.Grow(len(name) + len(v) + 2*len(endMark))
	appendField(&b, name)
	appendField(&b, v)
	return b.String()
}

// indexEnd sorts above the ids of every entry of index name and below those
// of every other index that sorts after it. No entry has it as its id.
func indexEnd(name string) string {
	var b strings.Builder
	appendField(&b, name)
	return strings.TrimSuffix(b.String(), endMark) + endPast
}

// rawIndex is a memdb indexer that indexes an object by the string id
// returns, unchanged: the ids above are already encoded.
type rawIndex func(obj any) string

// FromObject implements memdb.SingleIndexer.
func (id rawIndex) FromObject(obj any) (bool, []byte, error) {
	return true, []byte(id(obj)), nil
}

// FromArgs implements memdb.Indexer. It takes one string: a record key or
// an encoded entry id or bound.
func (id rawIndex) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("memstore: index takes 1 argument, got %d", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("memstore: index argument is %T, want string", args[0])
	}
	// Never nil, even for "": memdb takes a nil value to mean "no
	// argument" and would answer First with the table's first row.
	b := make([]byte, len(s))
	copy(b, s)
	return b, nil
}
