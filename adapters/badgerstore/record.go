package badgerstore

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/sessionkit/sessionkit/core"
)

// recordFormat is the first byte of every encoded record, so a later layout
// can be told apart from this one.
const recordFormat = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// encodeRecord returns the badger value stored under a record's key: the
// format byte, a CRC-32C of the rest, the version, the index entries (which
// Put and Delete need to remove the record's old index keys) and the
// caller's value, in that order:
//
//	format:1 crc:4 version:uvarint n:uvarint n×(len:uvarint name len:uvarint value) value
//
// The checksum is ours because badger does not check values kept inline in
// its tables when it reads them: a damaged record must read as
// core.ErrCorrupt, never as different bytes.
func encodeRecord(version uint64, index []core.IndexEntry, value []byte) []byte {
	size := 5 + binary.MaxVarintLen64*2 + len(value)
	for _, e := range index {
		size += 2*binary.MaxVarintLen64 + len(e.Name) + len(e.Value)
	}
	b := make([]byte, 0, size)
	b = append(b, recordFormat, 0, 0, 0, 0)
	b = binary.AppendUvarint(b, version)
	b = binary.AppendUvarint(b, uint64(len(index)))
	for _, e := range index {
		b = binary.AppendUvarint(b, uint64(len(e.Name)))
		b = append(b, e.Name...)
		b = binary.AppendUvarint(b, uint64(len(e.Value)))
		b = append(b, e.Value...)
	}
	b = append(b, value...)
	binary.LittleEndian.PutUint32(b[1:5], crc(b[5:]))
	return b
}

// decodeRecord parses a value written by encodeRecord into a Record that owns
// all its memory (b may be badger's and is not retained). A value that does
// not parse is reported as core.ErrCorrupt, naming the key.
func decodeRecord(key string, b []byte) (core.Record, error) {
	corrupt := func(what string) (core.Record, error) {
		return core.Record{}, fmt.Errorf("record %q: %s: %w", key, what, core.ErrCorrupt)
	}
	if len(b) < 5 || b[0] != recordFormat {
		return corrupt("unknown format")
	}
	if crc(b[5:]) != binary.LittleEndian.Uint32(b[1:5]) {
		return corrupt("checksum mismatch")
	}
	b = b[5:]
	version, n := binary.Uvarint(b)
	if n <= 0 || version == 0 {
		return corrupt("bad version")
	}
	b = b[n:]
	count, n := binary.Uvarint(b)
	// Each entry takes at least two bytes, which bounds count before we
	// allocate for it.
	if n <= 0 || count > uint64(len(b)-n)/2 {
		return corrupt("bad index count")
	}
	b = b[n:]
	rec := core.Record{Key: key, Version: version}
	if count > 0 {
		rec.Index = make([]core.IndexEntry, count)
	}
	for i := range rec.Index {
		var ok bool
		if rec.Index[i].Name, b, ok = readString(b); !ok {
			return corrupt("bad index name")
		}
		if rec.Index[i].Value, b, ok = readString(b); !ok {
			return corrupt("bad index value")
		}
	}
	rec.Value = append([]byte(nil), b...)
	return rec, nil
}

// readString reads a uvarint length and that many bytes.
func readString(b []byte) (string, []byte, bool) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return "", nil, false
	}
	b = b[n:]
	return string(b[:l]), b[l:], true
}
