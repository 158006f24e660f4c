package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
)

// linkDomain separates these signatures from anything else the key might
// ever sign.
const linkDomain = "sessionkit-onboarding-link-v1\x00"

// Errors of verify. They go to the log or the 403 body; none says which
// part of a forged link was wrong beyond what its holder already knows.
var (
	errNoReference = errors.New("onboarding: the link names no reference")
	errNoSignature = errors.New("onboarding: the link carries no signature")
	errBadSig      = errors.New("onboarding: the link's signature does not match its reference")
)

// linkSigner signs and checks resume links. A link names the integrator's
// client reference and carries an HMAC of it, never a session token: the
// token is handed out only in the Set-Cookie of the API's answer.
//
// A link is a bearer credential for the reference: whoever holds it gets the
// reference's session and drafts. A real integrator keeps the key secret
// and stable (a restart with a new key would void every link sent out),
// may add an expiry or a nonce to the signed text, and sends links only to
// the customer.
type linkSigner struct{ key []byte }

func (s linkSigner) mac(ref string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(linkDomain))
	m.Write([]byte(ref))
	return m.Sum(nil)
}

// sign returns the signature of ref, URL-safe base64.
func (s linkSigner) sign(ref string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(ref))
}

// verify checks sig against ref in constant time.
func (s linkSigner) verify(ref, sig string) error {
	switch {
	case ref == "":
		return errNoReference
	case sig == "":
		return errNoSignature
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(ref)) {
		return errBadSig
	}
	return nil
}

// link returns the resume link of ref under base ("http://127.0.0.1:8082").
func (s linkSigner) link(base, ref string) string {
	return base + "/start?" + url.Values{"ref": {ref}, "sig": {s.sign(ref)}}.Encode()
}
