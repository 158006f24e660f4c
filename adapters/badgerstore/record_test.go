package badgerstore

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sessionkit/sessionkit/core"
)

func TestRecordRoundTrip(t *testing.T) {
	tests := []core.Record{
		{Key: "s/1", Version: 1},
		{Key: "s/2", Version: 1 << 60, Value: []byte("value\x00\xff")},
		{Key: "d/3", Version: 7, Value: []byte("v"), Index: []core.IndexEntry{
			{Name: core.IndexOwner, Value: "u\x00x"}, {Name: core.IndexDue, Value: ""},
		}},
	}
	for _, want := range tests {
		got, err := decodeRecord(want.Key, encodeRecord(want.Version, want.Index, want.Value))
		if err != nil {
			t.Fatalf("decode %q: %v", want.Key, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip = %+v, want %+v", got, want)
		}
	}
}

func TestRecordCorrupt(t *testing.T) {
	good := encodeRecord(9, []core.IndexEntry{{Name: "due", Value: "x"}}, []byte("hello"))
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x40
		return b
	}
	tests := map[string][]byte{
		"empty":        nil,
		"format":       flip(0),
		"checksum":     flip(2),
		"version":      flip(5),
		"value":        flip(len(good) - 1),
		"truncated":    good[:len(good)-3],
		"header only":  good[:5],
		"zero version": encodeRecord(0, nil, nil),
		// Well-checksummed values whose lengths run past the end.
		"entry overruns": reencode(encodeRecord(1, []core.IndexEntry{{Name: "n", Value: "v"}}, nil)[:9]),
		"huge count":     reencode([]byte{recordFormat, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x0f}),
	}
	for name, b := range tests {
		if _, err := decodeRecord("k", b); !errors.Is(err, core.ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", name, err)
		}
	}
}

// reencode fixes the checksum of a hand-made value so decoding gets past it.
func reencode(b []byte) []byte {
	b = append([]byte(nil), b...)
	sum := crc(b[5:])
	b[1], b[2], b[3], b[4] = byte(sum), byte(sum>>8), byte(sum>>16), byte(sum>>24)
	return b
}
