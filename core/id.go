package core

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
)

// idBytes is the entropy of an ID: 128 bits.
const idBytes = 16

// idLen is the length of an encoded ID (unpadded URL-safe base64).
var idLen = base64.RawURLEncoding.EncodedLen(idBytes)

// IDSource supplies the random bytes of session and draft IDs. The default is
// crypto/rand; the simulator passes a seeded reader so runs repeat.
type IDSource = io.Reader

// newID draws an ID of 128 random bits, URL-safe.
func newID(src IDSource) (string, error) {
	if src == nil {
		src = rand.Reader
	}
	var b [idBytes]byte
	if _, err := io.ReadFull(src, b[:]); err != nil {
		return "", fmt.Errorf("sessionkit: drawing an id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// idAlphabet maps each byte to its value in the URL-safe base64 alphabet,
// or 0xff when it is not in it.
var idAlphabet = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = byte(i)
	}
	return t
}()

// ValidID reports whether id has the form of a sessionkit ID. It says nothing
// of whether the ID exists; it lets callers refuse forged input cheaply, with
// no allocation. It is on every keepalive's path, hence the table.
func ValidID(id string) bool {
	if len(id) != idLen {
		return false
	}
	var bad byte
	for i := 0; i < len(id); i++ {
		bad |= idAlphabet[id[i]] & 0xc0 // 0xff for a byte outside the alphabet
	}
	// 22 characters carry 132 bits for 128: the last one's low 4 are spare
	// and zero in every ID newID draws.
	return bad == 0 && idAlphabet[id[len(id)-1]]&0x0f == 0
}

func checkID(id string) error {
	if !ValidID(id) {
		return ErrInvalidID
	}
	return nil
}
