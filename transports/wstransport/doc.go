// Package wstransport serves sessionkit sessions over WebSocket
// (github.com/coder/websocket) and provides the Go client.
//
// The protocol is JSON messages, one per text frame, described with the
// close-code table in docs/protocol.md. A client connects, receives a hello
// with the keepalive interval and timeouts (rule P4), and logs in with the
// application's credentials or resumes a session by its ID. The ID never
// appears in a URL. While connected the client sends a keepalive every
// interval and the service acks each one with the session's deadline; the
// service probes a connection silent past the interval and closes one
// silent for LivenessTimeout, and the client treats a late ack as a lost
// link (rule P6). Close codes 4000–4499 let the client reconnect and try to
// resume; 4500–4999 mean the session ended and the user must log in again.
//
// The Server is an http.Handler with one reading goroutine per connection
// and one liveness timer for all of them, served by Run. The Client runs
// the same core/liveness machine as the simulator and the browser client,
// on a clock seam so tests can drive it.
package wstransport
