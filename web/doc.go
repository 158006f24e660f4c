// Package web serves sessionkit's browser client and demo pages.
//
// The client is static/sessionkit.js, a plain ES module with no build step:
// SessionClient speaks the WebSocket protocol (docs/protocol.md) and keeps
// the session alive by the same liveness rules as core/liveness.Client;
// FormsClient speaks the HTTP API (docs/http-api.md) with a keepalive pulse
// only while a form is in progress; DraftAutosave saves a form's work; and
// the <sessionkit-status> element shows whether the session is live,
// reconnecting, lost or ended, and why.
//
// Handler serves the embedded files. NewDemo mounts them with a WebSocket
// endpoint at /ws and the HTTP API at /api/, for `sessionkit serve` and the
// examples.
package web
