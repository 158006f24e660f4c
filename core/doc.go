// Package core is sessionkit's policy engine: the session and draft types, the
// Policy that governs them, a pure state machine (Step) that decides what
// happens to a session, and the Manager that applies those decisions against
// a Store.
//
// core imports no adapter, transport or simulator. Time is always an
// argument or comes from a Clock; randomness comes from an IDSource.
package core
