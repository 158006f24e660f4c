package httptransport_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

func TestDrafts(t *testing.T) {
	f := newFixture(t, core.Policy{})
	tok := f.create("")

	// Save a new draft: 201, version 1, open here.
	w := f.do("POST", "/session/drafts", `{"name":"tax form","mode":"auto","data":{"field": [1, 2] }}`, withCookie(tok))
	d := wantOK[httptransport.DraftReply](t, w, http.StatusCreated)
	if d.Draft.Name != "tax form" || d.Draft.Mode != core.SaveAuto || d.Draft.State != core.DraftOpen ||
		d.Draft.Version == 0 || !d.Draft.InSession || d.KeepAliveIntervalMS != 20000 || d.Draft.Data != nil {
		t.Fatalf("saved: %+v", d)
	}
	id, v1 := d.Draft.ID, d.Draft.Version
	path := "/session/drafts/" + id

	// The session now has an open draft, and saving was activity.
	s := wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withCookie(tok)), http.StatusOK)
	if s.Session.OpenDrafts != 1 || s.Session.State != core.StateActive {
		t.Errorf("session after save: %+v", s.Session)
	}

	// Load returns the data, compacted.
	got := wantOK[httptransport.DraftReply](t, f.do("GET", path, "", withCookie(tok)), http.StatusOK).Draft
	if string(got.Data) != `{"field":[1,2]}` || string(got.Bytes()) != `{"field":[1,2]}` {
		t.Errorf("loaded data %s", got.Data)
	}

	// Update with the current version: 200 and a new version.
	w = f.do("PUT", path, `{"version":`+strconv.FormatUint(v1, 10)+`,"name":"tax form","mode":"manual","data":"v2"}`, withCookie(tok))
	v2 := wantOK[httptransport.DraftReply](t, w, http.StatusOK).Draft.Version
	if v2 <= v1 {
		t.Fatalf("version %d after %d", v2, v1)
	}
	// A stale version conflicts; a missing one is refused.
	wantErr(t, f.do("PUT", path, `{"version":`+strconv.FormatUint(v1, 10)+`,"mode":"auto"}`, withCookie(tok)),
		http.StatusConflict, httptransport.CodeVersionConflict, "")
	wantErr(t, f.do("PUT", path, `{"mode":"auto"}`, withCookie(tok)), http.StatusBadRequest, httptransport.CodeInvalidInput, "")
	wantErr(t, f.do("PUT", path, `{"version":`+strconv.FormatUint(v2, 10)+`,"mode":"sometimes"}`, withCookie(tok)),
		http.StatusBadRequest, httptransport.CodeInvalidInput, "")
	wantErr(t, f.do("POST", "/session/drafts", `{"version":3,"mode":"auto"}`, withCookie(tok)),
		http.StatusBadRequest, httptransport.CodeInvalidInput, "")
	wantErr(t, f.do("POST", "/session/drafts", `{"mode":"auto","data":1,"data_base64":"AAE="}`, withCookie(tok)),
		http.StatusBadRequest, httptransport.CodeInvalidInput, "")

	// Data comes back byte for byte, HTML characters included.
	w = f.do("POST", "/session/drafts", `{"mode":"auto","data":{"html":"<b>&</b>"}}`, withCookie(tok))
	html := wantOK[httptransport.DraftReply](t, w, http.StatusCreated).Draft
	got = wantOK[httptransport.DraftReply](t, f.do("GET", "/session/drafts/"+html.ID, "", withCookie(tok)), http.StatusOK).Draft
	if string(got.Data) != `{"html":"<b>&</b>"}` {
		t.Errorf("html data came back as %s", got.Data)
	}
	if w := f.do("DELETE", "/session/drafts/"+html.ID, "", withCookie(tok)); w.Code != http.StatusNoContent {
		t.Fatal(w.Code)
	}

	// Bytes that are not JSON travel in base64.
	f.advance(time.Second)
	w = f.do("POST", "/session/drafts", `{"mode":"manual","data_base64":"AP8B"}`, withCookie(tok))
	bin := wantOK[httptransport.DraftReply](t, w, http.StatusCreated).Draft
	got = wantOK[httptransport.DraftReply](t, f.do("GET", "/session/drafts/"+bin.ID, "", withCookie(tok)), http.StatusOK).Draft
	if got.Data != nil || string(got.DataBase64) != "\x00\xff\x01" {
		t.Errorf("binary draft: %+v", got)
	}

	// List: most recent first, without data.
	list := wantOK[httptransport.DraftsReply](t, f.do("GET", "/session/drafts", "", withCookie(tok)), http.StatusOK)
	if len(list.Drafts) != 2 || list.Drafts[0].ID != bin.ID || list.Drafts[1].ID != id ||
		list.Drafts[0].Data != nil || list.Drafts[0].DataBase64 != nil || list.KeepAliveIntervalMS != 20000 {
		t.Errorf("list: %+v", list)
	}

	// Close: needs the current version; then it is closed for good.
	wantErr(t, f.do("POST", path+"/close", `{}`, withCookie(tok)), http.StatusBadRequest, httptransport.CodeInvalidInput, "")
	wantErr(t, f.do("POST", path+"/close", `{"version":`+strconv.FormatUint(v1, 10)+`}`, withCookie(tok)),
		http.StatusConflict, httptransport.CodeVersionConflict, "")
	w = f.do("POST", path+"/close", `{"version":`+strconv.FormatUint(v2, 10)+`}`, withCookie(tok))
	closed := wantOK[httptransport.DraftReply](t, w, http.StatusOK).Draft
	if closed.State != core.DraftClosed {
		t.Errorf("closed: %+v", closed)
	}
	vc := strconv.FormatUint(closed.Version, 10)
	wantErr(t, f.do("POST", path+"/close", `{"version":`+vc+`}`, withCookie(tok)), http.StatusConflict, httptransport.CodeWrongState, "")
	wantErr(t, f.do("PUT", path, `{"version":`+vc+`,"mode":"auto"}`, withCookie(tok)), http.StatusConflict, httptransport.CodeWrongState, "")
	wantErr(t, f.do("POST", path+"/resume", "", withCookie(tok)), http.StatusConflict, httptransport.CodeWrongState, "")

	// Delete: 204, then it is gone.
	if w := f.do("DELETE", path, "", withCookie(tok)); w.Code != http.StatusNoContent || w.Header().Get(httptransport.HeaderKeepAliveInterval) == "" {
		t.Fatalf("delete: %d %s", w.Code, w.Body)
	}
	wantErr(t, f.do("DELETE", path, "", withCookie(tok)), http.StatusNotFound, httptransport.CodeDraftNotFound, "")
	wantErr(t, f.do("GET", path, "", withCookie(tok)), http.StatusNotFound, httptransport.CodeDraftNotFound, "")
	wantErr(t, f.do("POST", path+"/resume", "", withCookie(tok)), http.StatusNotFound, httptransport.CodeDraftNotFound, "")
	wantErr(t, f.do("POST", path+"/close", `{"version":1}`, withCookie(tok)), http.StatusNotFound, httptransport.CodeDraftNotFound, "")
	wantErr(t, f.do("PUT", path, `{"version":1,"mode":"auto"}`, withCookie(tok)), http.StatusNotFound, httptransport.CodeDraftNotFound, "")

	// A draft ID that is not of the form of an ID.
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		wantErr(t, f.do(m, "/session/drafts/not-an-id", `{"version":1,"mode":"auto"}`, withCookie(tok)),
			http.StatusBadRequest, httptransport.CodeInvalidID, "")
	}

	// Another owner's draft is not found, so IDs cannot be probed.
	other := f.create("")
	wantErr(t, f.do("GET", "/session/drafts/"+bin.ID, "", withCookie(other)), http.StatusNotFound, httptransport.CodeDraftNotFound, "")

	// A draft of an ended session is refused as a session error.
	f.do("POST", "/session/logout", "", withCookie(tok))
	wantErr(t, f.do("GET", "/session/drafts/"+bin.ID, "", withCookie(tok)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonLogout)
}

func TestDraftResumedFromANewSession(t *testing.T) {
	f := newFixture(t, core.Policy{IdleTimeout: 10 * time.Minute})
	first := f.login("", "ann")
	w := f.do("POST", "/session/drafts", `{"mode":"auto","data":{"step":3}}`, withCookie(first))
	id := wantOK[httptransport.DraftReply](t, w, http.StatusCreated).Draft.ID
	f.advance(11 * time.Minute) // the session idles out; the draft stays

	second := f.login(first, "ann")
	list := wantOK[httptransport.DraftsReply](t, f.do("GET", "/session/drafts", "", withCookie(second)), http.StatusOK)
	if len(list.Drafts) != 1 || list.Drafts[0].InSession {
		t.Fatalf("drafts in the new session: %+v", list.Drafts)
	}
	got := wantOK[httptransport.DraftReply](t, f.do("POST", "/session/drafts/"+id+"/resume", "", withCookie(second)), http.StatusOK).Draft
	if !got.InSession || string(got.Data) != `{"step":3}` {
		t.Errorf("resumed: %+v", got)
	}
	s := wantOK[httptransport.SessionReply](t, f.do("GET", "/session", "", withCookie(second)), http.StatusOK)
	if s.Session.OpenDrafts != 1 {
		t.Errorf("open drafts %d", s.Session.OpenDrafts)
	}
}
