// Package httptransport carries sessionkit sessions over plain HTTP: a JSON
// API handler, net/http middleware for the application's own routes, and a Go
// client for the API.
//
// The session token (the session ID) travels in a cookie, named
// "__Host-sessionkit" by default and set Secure, HttpOnly, SameSite=Lax,
// Path=/, or in an "Authorization: Bearer" header. It is never read from a
// URL: a request that offers one in its query string is refused with
// CodeTokenInURL before anything else happens. The token is delivered only in
// Set-Cookie, which browser scripts cannot read; JSON bodies never carry it,
// except in the answers of the integrator's admin routes. Non-browser clients,
// such as Client, read it from Set-Cookie and send it back as a bearer token.
//
// Every answer about a session tells the client its keepalive interval, in
// the HeaderKeepAliveInterval header and, in JSON bodies, the
// keepalive_interval_ms field. Errors have one shape,
// {"error":{"code":...,"message":...,"reason":...}}, with a stable code; the
// mapping from core's errors is in errors.go and docs/http-api.md.
//
// The package starts no goroutine: the application runs core.Manager.Run.
package httptransport
