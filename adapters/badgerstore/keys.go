package badgerstore

import "bytes"

// Key layout. Every badger key starts with a one-byte kind:
//
//	'm' <name>                                  store metadata: format marker, version mark
//	'r' <record key>                            a record: its encoded value (see record.go)
//	'i' esc(<index name>) esc(<entry value>) <record key>
//	                                            an index entry; the badger value is empty
//
// esc makes a string self-delimiting while keeping byte order: every 0x00 byte
// becomes 0x00 0xff and the string ends with 0x00 0x01. For strings a < b
// (byte order, a prefix sorting first), esc(a)+x < esc(b)+y for any x and y,
// so index keys sort by (index name, entry value, record key) whatever bytes
// the names, values and keys hold. The record key is last and needs no escape.
//
// A Range [From, To) of an index is then the badger key range
// [ 'i' esc(name) escBody(From), 'i' esc(name) escBody(To) ), where escBody is
// esc without its terminator, and an empty To stands for the end of the index,
// 'i' esc(name) with its terminator's last byte incremented.
const (
	kindMeta   = 'm'
	kindRecord = 'r'
	kindIndex  = 'i'

	escByte  = 0x00 // escaped as escByte escFF
	escFF    = 0xff
	termByte = 0x01 // esc terminator is escByte termByte
)

var (
	metaFormat  = []byte{kindMeta, 'f', 'o', 'r', 'm', 'a', 't'}
	metaVersion = []byte{kindMeta, 'v', 'e', 'r', 's', 'i', 'o', 'n'}
)

// formatMarker is stored under metaFormat. A store refuses a directory that
// holds a different marker, so a future incompatible layout fails loudly.
const formatMarker = "sessionkit/badgerstore/1"

// recordKey returns the badger key of the record with key k.
func recordKey(k string) []byte {
	b := make([]byte, 0, 1+len(k))
	b = append(b, kindRecord)
	return append(b, k...)
}

// appendEscBody appends s with every 0x00 byte escaped, without terminator.
func appendEscBody(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == escByte {
			b = append(b, escByte, escFF)
		} else {
			b = append(b, s[i])
		}
	}
	return b
}

// appendEsc appends s escaped and terminated.
func appendEsc(b []byte, s string) []byte {
	return append(appendEscBody(b, s), escByte, termByte)
}

// indexPrefix returns the prefix shared by every key of index name.
func indexPrefix(name string) []byte {
	return appendEsc([]byte{kindIndex}, name)
}

// indexKey returns the badger key of the entry (name, value) of record k.
func indexKey(name, value, k string) []byte {
	b := make([]byte, 0, 1+len(name)+len(value)+len(k)+6)
	b = append(b, kindIndex)
	b = appendEsc(b, name)
	b = appendEsc(b, value)
	return append(b, k...)
}

// indexBounds returns the badger keys lo (inclusive) and hi (exclusive)
// enclosing the entries of index name whose value v has from <= v < to; an
// empty to means no upper bound.
func indexBounds(name, from, to string) (lo, hi []byte) {
	prefix := indexPrefix(name)
	lo = appendEscBody(bytes.Clone(prefix), from)
	if to == "" {
		hi = bytes.Clone(prefix)
		hi[len(hi)-1]++ // the terminator's last byte is termByte, never 0xff
	} else {
		hi = appendEscBody(bytes.Clone(prefix), to)
	}
	return lo, hi
}

// splitIndexKey returns the entry value and record key of an index key of
// index name, and false if the key is not well formed.
func splitIndexKey(prefix, key []byte) (value []byte, recKey []byte, ok bool) {
	if !bytes.HasPrefix(key, prefix) {
		return nil, nil, false
	}
	rest := key[len(prefix):]
	for i := 0; i+1 < len(rest); i++ {
		if rest[i] != escByte {
			value = append(value, rest[i])
			continue
		}
		switch rest[i+1] {
		case escFF:
			value = append(value, escByte)
			i++
		case termByte:
			return value, rest[i+2:], true
		default:
			return nil, nil, false
		}
	}
	return nil, nil, false
}
