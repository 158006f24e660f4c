package httptransport

import (
	"net/http"

	"github.com/sessionkit/sessionkit/core"
)

// The admin routes are for the integrator's backend, behind Config.Authorize.
// Their answers carry session IDs, which are tokens: they are for the
// backend, never for a browser.

// admit runs Config.Authorize.
func (h *Handler) admit(r *http.Request) error {
	if h.cfg.Authorize == nil {
		return apiError(http.StatusForbidden, CodeAdminDisabled, "the admin routes are not enabled on this service")
	}
	if err := h.cfg.Authorize(r); err != nil {
		return &APIError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "not allowed", cause: err}
	}
	return nil
}

// adminSessions serves GET /admin/sessions?reference=R (rule P12) or
// ?subject=S (rule P15): every session, newest first, with its state.
func (h *Handler) adminSessions(w http.ResponseWriter, r *http.Request) error {
	if err := h.admit(r); err != nil {
		return err
	}
	q := r.URL.Query()
	ref, subject := q.Get("reference"), q.Get("subject")
	var (
		list []core.Session
		err  error
	)
	switch {
	case (ref == "") == (subject == ""):
		return apiError(http.StatusBadRequest, CodeInvalidInput, "give exactly one of the query parameters reference and subject")
	case ref != "":
		list, err = h.m.ListByReference(r.Context(), ref)
	default:
		list, err = h.m.ListBySubject(r.Context(), subject)
	}
	if err != nil {
		return err
	}
	reply := SessionsReply{Sessions: make([]SessionInfo, 0, len(list)), KeepAliveIntervalMS: h.intervalMS}
	for i := range list {
		reply.Sessions = append(reply.Sessions, h.sessionInfo(&list[i], true))
	}
	h.writeJSON(w, r, http.StatusOK, reply)
	return nil
}

// adminRevoke serves POST /admin/revoke: end every live session of a subject
// with reason revoked (rule P15).
func (h *Handler) adminRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := h.admit(r); err != nil {
		return err
	}
	var req RevokeRequest
	if e := decodeBody(w, r, h.cfg.MaxBodyBytes, &req); e != nil {
		return e
	}
	if req.Subject == "" {
		return apiError(http.StatusBadRequest, CodeInvalidInput, "subject is required")
	}
	n, err := h.m.Revoke(r.Context(), req.Subject)
	if err != nil {
		return err
	}
	h.writeJSON(w, r, http.StatusOK, RevokeReply{Revoked: n})
	return nil
}
