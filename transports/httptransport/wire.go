package httptransport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// The JSON bodies of the API. Field names are snake_case and stable; times
// are RFC 3339 in UTC; durations are integer milliseconds.

// CreateRequest is the body of POST /session and POST /session/by-reference.
// Every field is optional for POST /session; ReferenceID is required for
// by-reference. A reference needs Config.AuthorizeReference (or
// Config.Authorize) to admit the request.
type CreateRequest struct {
	ReferenceID string            `json:"reference_id,omitempty"`
	Channel     string            `json:"channel,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// DraftSaveRequest is the body of POST /session/drafts (a new draft: Version
// 0) and PUT /session/drafts/{id} (Version required: the version being
// replaced). Data is any JSON value, stored as sent (compacted); DataBase64
// carries bytes that are not JSON. At most one of them may be set.
type DraftSaveRequest struct {
	Version    uint64          `json:"version,omitempty"`
	Name       string          `json:"name,omitempty"`
	Mode       core.SaveMode   `json:"mode"`
	Data       json.RawMessage `json:"data,omitempty"`
	DataBase64 []byte          `json:"data_base64,omitempty"`
}

// DraftCloseRequest is the body of POST /session/drafts/{id}/close.
type DraftCloseRequest struct {
	Version uint64 `json:"version"`
}

// RevokeRequest is the body of POST /admin/revoke.
type RevokeRequest struct {
	Subject string `json:"subject"`
}

// SessionInfo is a session as the API shows it. ID is set only in answers
// to the admin routes: elsewhere the token travels in Set-Cookie alone.
type SessionInfo struct {
	ID             string            `json:"id,omitempty"`
	ReferenceID    string            `json:"reference_id,omitempty"`
	Subject        string            `json:"subject,omitempty"`
	Channel        string            `json:"channel,omitempty"`
	State          core.State        `json:"state"`
	EndReason      core.Reason       `json:"end_reason,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	ExpiresAt      time.Time         `json:"expires_at"`
	LastActivityAt time.Time         `json:"last_activity_at"`
	AuthAt         time.Time         `json:"auth_at,omitzero"`
	EndedAt        time.Time         `json:"ended_at,omitzero"`
	OpenDrafts     int               `json:"open_drafts"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// SessionReply answers create, get-or-create, GET /session, resume and
// login. Deadline is the next instant the session ends by itself unless
// something happens, for DeadlineReason.
type SessionReply struct {
	Session             SessionInfo `json:"session"`
	Created             bool        `json:"created,omitempty"`
	Deadline            time.Time   `json:"deadline"`
	DeadlineReason      core.Reason `json:"deadline_reason"`
	KeepAliveIntervalMS int64       `json:"keepalive_interval_ms"`
}

// StatusReply answers a keepalive: what the client needs to schedule its next
// pulse. KeepAliveIntervalMS is 0 when the policy turns keepalives off.
type StatusReply struct {
	State               core.State  `json:"state"`
	Deadline            time.Time   `json:"deadline"`
	DeadlineReason      core.Reason `json:"deadline_reason"`
	KeepAliveIntervalMS int64       `json:"keepalive_interval_ms"`
}

// LogoutReply answers a logout. EndReason is "logout", or the reason the
// session had already ended with.
type LogoutReply struct {
	State     core.State  `json:"state"`
	EndReason core.Reason `json:"end_reason"`
}

// DraftInfo is a draft as the API shows it. Data is set when the stored bytes
// are JSON, DataBase64 otherwise; lists leave both out. InSession says the
// draft is open in the session making the request. A draft's owner and the
// session it is open in are never shown: both can contain a session token.
type DraftInfo struct {
	ID         string          `json:"id"`
	Name       string          `json:"name,omitempty"`
	Mode       core.SaveMode   `json:"mode"`
	State      core.DraftState `json:"state"`
	Version    uint64          `json:"version"`
	InSession  bool            `json:"in_session"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	ExpiresAt  time.Time       `json:"expires_at"`
	Data       json.RawMessage `json:"data,omitempty"`
	DataBase64 []byte          `json:"data_base64,omitempty"`
}

// Bytes returns the draft's data as stored, from whichever field holds it.
func (d *DraftInfo) Bytes() []byte {
	if len(d.Data) > 0 {
		return d.Data
	}
	return d.DataBase64
}

// DraftReply answers the routes about one draft.
type DraftReply struct {
	Draft               DraftInfo `json:"draft"`
	KeepAliveIntervalMS int64     `json:"keepalive_interval_ms"`
}

// DraftsReply answers GET /session/drafts, most recently saved first.
type DraftsReply struct {
	Drafts              []DraftInfo `json:"drafts"`
	KeepAliveIntervalMS int64       `json:"keepalive_interval_ms"`
}

// SessionsReply answers GET /admin/sessions, newest first.
type SessionsReply struct {
	Sessions            []SessionInfo `json:"sessions"`
	KeepAliveIntervalMS int64         `json:"keepalive_interval_ms"`
}

// RevokeReply answers POST /admin/revoke: how many live sessions it ended.
type RevokeReply struct {
	Revoked int `json:"revoked"`
}

// decodeBody reads the request body, of at most limit bytes, as one JSON
// object into v. An empty body leaves v as it is: every route that takes a
// body has defaults or says what is missing. It refuses, with an *APIError:
// a body that is not application/json (415), a body over limit (413),
// anything but a single JSON object, unknown fields and values of the wrong
// type (400).
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) *APIError {
	ct := r.Header.Get("Content-Type")
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	if ct != "" && !isJSON(ct) {
		return unsupported(ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return apiError(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			fmt.Sprintf("the body is over %d bytes", limit))
	}
	if err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: CodeMalformedJSON, Message: "reading the body failed", cause: err}
	}
	if len(body) == 0 {
		return nil
	}
	if ct == "" {
		return unsupported(ct)
	}
	return decodeJSON(body, v)
}

func unsupported(ct string) *APIError {
	if ct == "" {
		ct = "none"
	}
	return apiError(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
		fmt.Sprintf("the body must be application/json, not %s", ct))
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// jsonSpace is the whitespace JSON allows between tokens (RFC 8259).
const jsonSpace = " \t\r\n"

// decodeJSON decodes body, which must be exactly one JSON object, into v,
// refusing unknown fields.
func decodeJSON(body []byte, v any) *APIError {
	malformed := func(msg string) *APIError {
		return apiError(http.StatusBadRequest, CodeMalformedJSON, msg)
	}
	trimmed := bytes.TrimLeft(body, jsonSpace)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return malformed("the body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return malformed(fmt.Sprintf("field %q must be %s", te.Field, te.Type))
		}
		return malformed("the body is not valid JSON for this request: " + err.Error())
	}
	// Only JSON's own whitespace may follow: bytes.TrimSpace would let
	// "\f" or U+00A0 through.
	if len(bytes.Trim(body[dec.InputOffset():], jsonSpace)) > 0 {
		return malformed("the body holds more than one JSON value")
	}
	return nil
}

// draftData returns the bytes a save request stores.
func (d *DraftSaveRequest) draftData() ([]byte, *APIError) {
	raw := d.Data
	if bytes.Equal(raw, []byte("null")) {
		raw = nil
	}
	switch {
	case len(raw) > 0 && len(d.DataBase64) > 0:
		return nil, apiError(http.StatusBadRequest, CodeInvalidInput, "set data or data_base64, not both")
	case len(d.DataBase64) > 0:
		return d.DataBase64, nil
	case len(raw) == 0:
		return nil, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, apiError(http.StatusBadRequest, CodeMalformedJSON, "data is not valid JSON")
	}
	return buf.Bytes(), nil
}
