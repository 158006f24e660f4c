package httptransport

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/sessionkit/sessionkit/core"
)

// create serves POST /session: a new session, always (rule P12), whatever
// cookie the request carries.
func (h *Handler) create(w http.ResponseWriter, r *http.Request) error {
	var req CreateRequest
	if e := decodeBody(w, r, h.cfg.MaxBodyBytes, &req); e != nil {
		return e
	}
	if req.ReferenceID != "" {
		if err := h.authorizeReference(r, req.ReferenceID); err != nil {
			return err
		}
	}
	s, err := h.m.Create(r.Context(), core.CreateOptions{
		Reference: req.ReferenceID, Channel: req.Channel, Metadata: req.Metadata,
	})
	if err != nil {
		return err
	}
	h.setCookie(w, &s)
	h.writeJSON(w, r, http.StatusCreated, h.sessionReply(&s))
	return nil
}

// getOrCreate serves POST /session/by-reference: the newest usable session
// of the reference, else a new one (rule P12). 201 when it created one.
func (h *Handler) getOrCreate(w http.ResponseWriter, r *http.Request) error {
	var req CreateRequest
	if e := decodeBody(w, r, h.cfg.MaxBodyBytes, &req); e != nil {
		return e
	}
	if req.ReferenceID == "" {
		return apiError(http.StatusBadRequest, CodeInvalidInput, "reference_id is required")
	}
	if err := h.authorizeReference(r, req.ReferenceID); err != nil {
		return err
	}
	s, created, err := h.m.GetOrCreate(r.Context(), req.ReferenceID, core.CreateOptions{
		Channel: req.Channel, Metadata: req.Metadata,
	})
	if err != nil {
		return err
	}
	h.setCookie(w, &s)
	reply := h.sessionReply(&s)
	reply.Created = created
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	h.writeJSON(w, r, status, reply)
	return nil
}

// get serves GET /session: the current session. It is a read, not activity,
// so a status check does not keep a session alive.
func (h *Handler) get(w http.ResponseWriter, r *http.Request) error {
	return h.withSession(w, r, func(tok string) error {
		s, err := h.m.Get(r.Context(), tok)
		if err != nil {
			return err
		}
		h.writeJSON(w, r, http.StatusOK, h.sessionReply(&s))
		return nil
	})
}

// resume serves POST /session/resume: continue a not_started or suspended
// session under its ID (rule P11); it counts as activity. It sets the
// cookie, so a client handed a token (say by the integrator's backend) can
// present it once as a bearer token and carry on with the cookie.
func (h *Handler) resume(w http.ResponseWriter, r *http.Request) error {
	return h.withSession(w, r, func(tok string) error {
		s, err := h.m.Resume(r.Context(), tok)
		if err != nil {
			return err
		}
		h.setCookie(w, &s)
		h.writeJSON(w, r, http.StatusOK, h.sessionReply(&s))
		return nil
	})
}

// login serves POST /session/login. Config.Authenticate checks the
// credentials. On a live session the ID rotates (rule P16) and the new
// cookie replaces the old one, which stops working. With no session, or
// one that has ended, login starts a new session for the subject, keeping
// the reference and channel of an ended one so the integrator can follow
// the user across sessions.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	if h.cfg.Authenticate == nil {
		return apiError(http.StatusForbidden, CodeLoginDisabled, "login is not enabled on this service")
	}
	var creds json.RawMessage
	if e := decodeBody(w, r, h.cfg.MaxBodyBytes, &creds); e != nil {
		return e
	}
	if len(creds) == 0 {
		creds = json.RawMessage("{}")
	}
	subject, err := h.cfg.Authenticate(r, creds)
	if err != nil {
		return &APIError{Status: http.StatusUnauthorized, Code: CodeLoginFailed, Message: "login failed", cause: err}
	}
	if subject == "" {
		return errors.New("httptransport: Config.Authenticate returned no subject and no error")
	}

	ctx := r.Context()
	tok, _ := h.token(r)
	var s core.Session
	loggedIn, ended := false, false
	if core.ValidID(tok) {
		s, err = h.m.Login(ctx, tok, subject)
		switch {
		case err == nil:
			loggedIn = true
		case errors.Is(err, core.ErrEnded):
			ended = true
		case errors.Is(err, core.ErrNotFound):
		default:
			return h.rotated(w, &s, tok, err)
		}
	}
	if !loggedIn {
		o := core.CreateOptions{Subject: subject}
		if ended {
			if old, err := h.m.Get(ctx, tok); errors.Is(err, core.ErrEnded) {
				o.Reference, o.Channel = old.ReferenceID, old.Channel
			}
		}
		if s, err = h.m.Create(ctx, o); err != nil {
			return h.rotated(w, &s, tok, err)
		}
		// Created with a subject it is still not_started; the login is its
		// first activity.
		if s, err = h.m.Resume(ctx, s.ID); err != nil {
			return err
		}
	}
	h.setCookie(w, &s)
	h.writeJSON(w, r, http.StatusOK, h.sessionReply(&s))
	return nil
}

// rotated hands out the new token of a login or create that failed after
// storing the session (core returns the session with the error when, say,
// superseding older sessions failed): the old token no longer works, so
// without the new one the client would be locked out.
func (h *Handler) rotated(w http.ResponseWriter, s *core.Session, old string, err error) error {
	if s.ID != "" && s.ID != old {
		h.setCookie(w, s)
	}
	return err
}

// keepAlive serves POST /session/keepalive (rules P4, P5): it resets the idle
// clock as the policy says and answers the interval and the deadline.
func (h *Handler) keepAlive(w http.ResponseWriter, r *http.Request) error {
	return h.withSession(w, r, func(tok string) error {
		st, err := h.m.KeepAlive(r.Context(), tok)
		if errors.Is(err, core.ErrWrongState) {
			return &APIError{Status: http.StatusConflict, Code: CodeKeepAliveDisabled,
				Message: "keepalives are turned off by the policy", cause: err}
		}
		if err != nil {
			return err
		}
		h.writeJSON(w, r, http.StatusOK, h.statusReply(st))
		return nil
	})
}

// logout serves POST /session/logout (rule P8) and clears the cookie. A
// session that had already ended answers 200 with the reason it ended with.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) error {
	return h.withSession(w, r, func(tok string) error {
		err := h.m.Logout(r.Context(), tok)
		reason := core.ReasonLogout
		if why, ended := core.EndReason(err); ended {
			reason, err = why, nil
		}
		if err != nil {
			return err
		}
		h.clearCookie(w)
		h.writeJSON(w, r, http.StatusOK, LogoutReply{State: core.StateEnded, EndReason: reason})
		return nil
	})
}

// withSession runs fn with the request's token, mapping fn's error as one
// about the session, and clearing the cookie when the session is no use.
func (h *Handler) withSession(w http.ResponseWriter, r *http.Request, fn func(tok string) error) error {
	tok, e := h.requireToken(w, r)
	if e != nil {
		return e
	}
	if err := fn(tok); err != nil {
		e := fromCore(err, scopeSession)
		_, src := h.token(r)
		h.forget(w, src, e)
		return e
	}
	return nil
}

func (h *Handler) statusReply(st core.Status) StatusReply {
	return StatusReply{State: st.State, Deadline: st.Deadline.UTC(), DeadlineReason: st.DeadlineReason,
		KeepAliveIntervalMS: st.Interval.Milliseconds()}
}

// authorizeReference decides whether r may name reference ref.
func (h *Handler) authorizeReference(r *http.Request, ref string) error {
	var err error
	switch {
	case h.cfg.AuthorizeReference != nil:
		err = h.cfg.AuthorizeReference(r, ref)
	case h.cfg.Authorize != nil:
		err = h.cfg.Authorize(r)
	default:
		return apiError(http.StatusForbidden, CodeForbidden,
			"sessions with a reference_id are the integrator's to create, and no authorizer is configured")
	}
	if err != nil {
		return &APIError{Status: http.StatusForbidden, Code: CodeForbidden, Message: "not allowed to use this reference_id", cause: err}
	}
	return nil
}
