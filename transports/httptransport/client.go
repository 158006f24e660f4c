package httptransport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// ClientConfig configures a Client. Only BaseURL is required.
type ClientConfig struct {
	// BaseURL is where the Handler is mounted, such as
	// "https://app.example/api/sessionkit".
	BaseURL string
	// HTTPClient sends the requests; nil means http.DefaultClient. Admin
	// credentials, when the Authorizer wants some, go in its Transport.
	HTTPClient *http.Client
	// CookieName is the session cookie the Handler sets; empty means
	// DefaultCookieName.
	CookieName string
	// Token is a session token to start with, such as one the integrator's
	// backend handed out.
	Token string
}

// maxReplyBytes bounds the answers a Client reads: a draft of
// core.MaxDraftSize in base64, and the rest.
const maxReplyBytes = DefaultMaxDraftBodyBytes

// Client calls the JSON API. It holds the session token: it takes it from
// the Set-Cookie of the answers that hand one out (create, get-or-create,
// resume, login), drops it on the cookie a logout clears, and sends it as
// an "Authorization: Bearer" header. It never puts the token in a URL.
// Errors from the API are *APIError. A Client is safe for concurrent use.
type Client struct {
	base   *url.URL
	hc     *http.Client
	cookie string

	mu    sync.Mutex
	token string
}

// NewClient returns a Client for cfg.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("httptransport: ClientConfig.BaseURL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("httptransport: ClientConfig.BaseURL %q: want an http or https URL", cfg.BaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("httptransport: ClientConfig.BaseURL %q: no query or fragment, please", cfg.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	c := &Client{base: u, hc: cfg.HTTPClient, cookie: cfg.CookieName, token: cfg.Token}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if c.cookie == "" {
		c.cookie = DefaultCookieName
	}
	return c, nil
}

// Token returns the session token the Client holds, or "".
func (c *Client) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// SetToken replaces the session token; "" drops it.
func (c *Client) SetToken(tok string) {
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
}

// Create starts a new session (POST /session) and holds its token.
func (c *Client) Create(ctx context.Context, req CreateRequest) (*SessionReply, error) {
	var reply SessionReply
	return &reply, c.do(ctx, http.MethodPost, "/session", req, &reply)
}

// GetOrCreate returns the newest usable session of req.ReferenceID, or a new
// one (POST /session/by-reference); reply.Created tells which. It holds the
// session's token.
func (c *Client) GetOrCreate(ctx context.Context, req CreateRequest) (*SessionReply, error) {
	var reply SessionReply
	return &reply, c.do(ctx, http.MethodPost, "/session/by-reference", req, &reply)
}

// Session returns the current session (GET /session) without counting as
// activity.
func (c *Client) Session(ctx context.Context) (*SessionReply, error) {
	var reply SessionReply
	return &reply, c.do(ctx, http.MethodGet, "/session", nil, &reply)
}

// Resume continues the session the Client holds (POST /session/resume).
func (c *Client) Resume(ctx context.Context) (*SessionReply, error) {
	var reply SessionReply
	return &reply, c.do(ctx, http.MethodPost, "/session/resume", nil, &reply)
}

// Login sends credentials, which the application's Authenticate reads, to
// POST /session/login and holds the rotated token.
func (c *Client) Login(ctx context.Context, credentials any) (*SessionReply, error) {
	var reply SessionReply
	return &reply, c.do(ctx, http.MethodPost, "/session/login", credentials, &reply)
}

// KeepAlive sends a pulse (POST /session/keepalive).
func (c *Client) KeepAlive(ctx context.Context) (*StatusReply, error) {
	var reply StatusReply
	return &reply, c.do(ctx, http.MethodPost, "/session/keepalive", nil, &reply)
}

// Logout ends the session (POST /session/logout) and drops the token.
func (c *Client) Logout(ctx context.Context) (*LogoutReply, error) {
	var reply LogoutReply
	return &reply, c.do(ctx, http.MethodPost, "/session/logout", nil, &reply)
}

// Drafts lists the drafts of the session's owner, without their data.
func (c *Client) Drafts(ctx context.Context) (*DraftsReply, error) {
	var reply DraftsReply
	return &reply, c.do(ctx, http.MethodGet, "/session/drafts", nil, &reply)
}

// SaveDraft saves a new draft when id is "" (req.Version 0), else draft id
// at req.Version.
func (c *Client) SaveDraft(ctx context.Context, id string, req DraftSaveRequest) (*DraftReply, error) {
	var reply DraftReply
	if id == "" {
		return &reply, c.do(ctx, http.MethodPost, "/session/drafts", req, &reply)
	}
	return &reply, c.do(ctx, http.MethodPut, draftPath(id, ""), req, &reply)
}

// LoadDraft returns draft id with its data.
func (c *Client) LoadDraft(ctx context.Context, id string) (*DraftReply, error) {
	var reply DraftReply
	return &reply, c.do(ctx, http.MethodGet, draftPath(id, ""), nil, &reply)
}

// ResumeDraft takes up draft id in the current session and returns it with
// its data.
func (c *Client) ResumeDraft(ctx context.Context, id string) (*DraftReply, error) {
	var reply DraftReply
	return &reply, c.do(ctx, http.MethodPost, draftPath(id, "/resume"), nil, &reply)
}

// CloseDraft marks draft id, at version, finished.
func (c *Client) CloseDraft(ctx context.Context, id string, version uint64) (*DraftReply, error) {
	var reply DraftReply
	return &reply, c.do(ctx, http.MethodPost, draftPath(id, "/close"), DraftCloseRequest{Version: version}, &reply)
}

// DeleteDraft deletes draft id. With version > 0 it deletes only that
// version (a newer save makes it fail with a version conflict); 0 deletes
// whatever version there is.
func (c *Client) DeleteDraft(ctx context.Context, id string, version uint64) error {
	path := draftPath(id, "")
	if version > 0 {
		path += "?" + url.Values{"version": {strconv.FormatUint(version, 10)}}.Encode()
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// SessionsByReference lists the sessions of a client reference, newest
// first (admin).
func (c *Client) SessionsByReference(ctx context.Context, ref string) (*SessionsReply, error) {
	var reply SessionsReply
	return &reply, c.do(ctx, http.MethodGet, "/admin/sessions?"+url.Values{"reference": {ref}}.Encode(), nil, &reply)
}

// SessionsBySubject lists the sessions of a subject, newest first (admin).
func (c *Client) SessionsBySubject(ctx context.Context, subject string) (*SessionsReply, error) {
	var reply SessionsReply
	return &reply, c.do(ctx, http.MethodGet, "/admin/sessions?"+url.Values{"subject": {subject}}.Encode(), nil, &reply)
}

// Revoke ends every live session of subject (admin) and returns how many.
func (c *Client) Revoke(ctx context.Context, subject string) (int, error) {
	var reply RevokeReply
	err := c.do(ctx, http.MethodPost, "/admin/revoke", RevokeRequest{Subject: subject}, &reply)
	return reply.Revoked, err
}

func draftPath(id, suffix string) string {
	return "/session/drafts/" + url.PathEscape(id) + suffix
}

// do sends one request: body (when not nil) as JSON, the token as a bearer
// header. It decodes a 2xx answer into reply and anything else into an
// *APIError, and takes up a token handed out in Set-Cookie.
func (c *Client) do(ctx context.Context, method, path string, body, reply any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("httptransport: encoding the request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	rel, err := url.Parse(path)
	if err != nil {
		return fmt.Errorf("httptransport: %w", err)
	}
	u := *c.base
	u.Path += rel.Path
	u.RawQuery = rel.RawQuery
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("httptransport: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := c.Token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("httptransport: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	c.takeToken(resp)
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return fmt.Errorf("httptransport: %s %s: reading the answer: %w", method, path, err)
	}
	if len(b) > maxReplyBytes {
		return fmt.Errorf("httptransport: %s %s: answer over %d bytes", method, path, maxReplyBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answerError(resp.StatusCode, b)
	}
	if reply == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(b, reply); err != nil {
		return fmt.Errorf("httptransport: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// takeToken holds the token a response hands out, or drops it when the
// response clears the cookie.
func (c *Client) takeToken(resp *http.Response) {
	for _, ck := range resp.Cookies() {
		if ck.Name != c.cookie {
			continue
		}
		if ck.MaxAge < 0 || ck.Value == "" {
			c.SetToken("")
		} else {
			c.SetToken(ck.Value)
		}
	}
}

// answerError decodes an error answer; one that is not ours (a proxy's, say)
// keeps its status with an empty code.
func answerError(status int, b []byte) error {
	var body errorBody
	if err := json.Unmarshal(b, &body); err != nil || body.Error == nil || body.Error.Code == "" {
		return &APIError{Status: status, Message: http.StatusText(status)}
	}
	body.Error.Status = status
	return body.Error
}

var _ error = (*APIError)(nil)

// IsCode reports whether err is an *APIError with the given code.
func IsCode(err error, code string) bool {
	e, ok := errors.AsType[*APIError](err)
	return ok && e.Code == code
}
