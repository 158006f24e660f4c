package httptransport

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/sessionkit/sessionkit/core"
)

// The draft routes (rule P14) all work on the drafts of the current session's
// owner. Each checks the token and the request first, then records activity,
// which also tells a session error (401) from a draft error (404, 409), and
// only then touches the draft.

// draftRequest checks the token and the draft ID in the path, decodes the
// body into v (when v is not nil) and records activity on the session.
func (h *Handler) draftRequest(w http.ResponseWriter, r *http.Request, v any) (tok, draftID string, err error) {
	tok, e := h.requireToken(w, r)
	if e != nil {
		return "", "", e
	}
	draftID = r.PathValue("id")
	if draftID != "" && !core.ValidID(draftID) {
		return "", "", fromCore(core.ErrInvalidID, scopeDraft)
	}
	if v != nil {
		limit := h.cfg.MaxBodyBytes
		if _, ok := v.(*DraftSaveRequest); ok {
			limit = h.cfg.MaxDraftBodyBytes
		}
		if e := decodeBody(w, r, limit, v); e != nil {
			return "", "", e
		}
	}
	err = h.withSession(w, r, func(tok string) error {
		_, err := h.m.Activity(r.Context(), tok)
		return err
	})
	return tok, draftID, err
}

// saveDraft serves POST /session/drafts (201, a new draft) and
// PUT /session/drafts/{id} (200, the version named must be current).
func (h *Handler) saveDraft(w http.ResponseWriter, r *http.Request) error {
	var req DraftSaveRequest
	tok, id, err := h.draftRequest(w, r, &req)
	if err != nil {
		return err
	}
	if id != "" && req.Version == 0 {
		return apiError(http.StatusBadRequest, CodeInvalidInput, "version is required: the version of the draft this save replaces")
	}
	data, e := req.draftData()
	if e != nil {
		return e
	}
	d, err := h.m.SaveDraft(r.Context(), tok, core.DraftSave{
		ID: id, Version: req.Version, Name: req.Name, Data: data, Mode: req.Mode,
	})
	if err != nil {
		return fromCore(err, scopeDraft)
	}
	status := http.StatusOK
	if id == "" {
		status = http.StatusCreated
	}
	h.writeJSON(w, r, status, DraftReply{Draft: draftInfo(&d, tok, false), KeepAliveIntervalMS: h.intervalMS})
	return nil
}

// listDrafts serves GET /session/drafts: the owner's drafts without their
// data, most recently saved first.
func (h *Handler) listDrafts(w http.ResponseWriter, r *http.Request) error {
	tok, _, err := h.draftRequest(w, r, nil)
	if err != nil {
		return err
	}
	list, err := h.m.ListDrafts(r.Context(), tok)
	if err != nil {
		return fromCore(err, scopeDraft)
	}
	reply := DraftsReply{Drafts: make([]DraftInfo, 0, len(list)), KeepAliveIntervalMS: h.intervalMS}
	for i := range list {
		reply.Drafts = append(reply.Drafts, draftInfo(&list[i], tok, false))
	}
	h.writeJSON(w, r, http.StatusOK, reply)
	return nil
}

// loadDraft serves GET /session/drafts/{id}, with the data. Loading is the
// only way a draft's contents come back (rule P11).
func (h *Handler) loadDraft(w http.ResponseWriter, r *http.Request) error {
	tok, id, err := h.draftRequest(w, r, nil)
	if err != nil {
		return err
	}
	d, err := h.m.LoadDraft(r.Context(), tok, id)
	if err != nil {
		return fromCore(err, scopeDraft)
	}
	h.writeJSON(w, r, http.StatusOK, DraftReply{Draft: draftInfo(&d, tok, true), KeepAliveIntervalMS: h.intervalMS})
	return nil
}

// resumeDraft serves POST /session/drafts/{id}/resume: take up an open draft
// in the current session, typically after the session it was saved from
// ended. It answers with the data.
func (h *Handler) resumeDraft(w http.ResponseWriter, r *http.Request) error {
	tok, id, err := h.draftRequest(w, r, nil)
	if err != nil {
		return err
	}
	d, err := h.m.ResumeDraft(r.Context(), tok, id)
	if err != nil {
		return fromCore(err, scopeDraft)
	}
	h.writeJSON(w, r, http.StatusOK, DraftReply{Draft: draftInfo(&d, tok, true), KeepAliveIntervalMS: h.intervalMS})
	return nil
}

// closeDraft serves POST /session/drafts/{id}/close: the work is finished
// and no longer counts as in progress.
func (h *Handler) closeDraft(w http.ResponseWriter, r *http.Request) error {
	var req DraftCloseRequest
	tok, id, err := h.draftRequest(w, r, &req)
	if err != nil {
		return err
	}
	if req.Version == 0 {
		return apiError(http.StatusBadRequest, CodeInvalidInput, "version is required: the draft's current version")
	}
	d, err := h.m.CloseDraft(r.Context(), tok, id, req.Version)
	if err != nil {
		return fromCore(err, scopeDraft)
	}
	h.writeJSON(w, r, http.StatusOK, DraftReply{Draft: draftInfo(&d, tok, false), KeepAliveIntervalMS: h.intervalMS})
	return nil
}

// deleteDraft serves DELETE /session/drafts/{id}[?version=N]: 204. With a
// version, a draft saved since (by another tab) is not deleted: 409.
func (h *Handler) deleteDraft(w http.ResponseWriter, r *http.Request) error {
	tok, id, err := h.draftRequest(w, r, nil)
	if err != nil {
		return err
	}
	var version uint64
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.ParseUint(v, 10, 64); err != nil || version == 0 {
			return apiError(http.StatusBadRequest, CodeInvalidInput, "version must be a positive integer")
		}
	}
	if err := h.m.DeleteDraft(r.Context(), tok, id, version); err != nil {
		return fromCore(err, scopeDraft)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// draftInfo is the API's view of d for the session tok.
func draftInfo(d *core.Draft, tok string, withData bool) DraftInfo {
	info := DraftInfo{
		ID: d.ID, Name: d.Name, Mode: d.Mode, State: d.State, Version: d.Version,
		InSession: d.Session == tok,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC(),
	}
	if withData && len(d.Data) > 0 {
		if json.Valid(d.Data) {
			info.Data = d.Data
		} else {
			info.DataBase64 = d.Data
		}
	}
	return info
}
