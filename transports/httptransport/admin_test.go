package httptransport_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
)

func TestAdmin(t *testing.T) {
	f := newFixture(t, core.Policy{})
	a := sessionCookie(t, f.do("POST", "/session", `{"reference_id":"cust-1"}`, asAdmin())).Value
	f.advance(time.Second)
	b := sessionCookie(t, f.do("POST", "/session", `{"reference_id":"cust-1"}`, asAdmin())).Value
	ann := f.login(b, "ann")
	f.advance(time.Second)
	ann2 := f.login("", "ann")

	w := f.do("GET", "/admin/sessions?reference=cust-1", "", asAdmin())
	list := wantOK[httptransport.SessionsReply](t, w, http.StatusOK)
	if len(list.Sessions) != 2 || list.Sessions[0].ID != ann || list.Sessions[1].ID != a ||
		list.Sessions[0].Subject != "ann" || list.Sessions[1].State != core.StateNotStarted {
		t.Errorf("by reference: %s", w.Body)
	}
	list = wantOK[httptransport.SessionsReply](t, f.do("GET", "/admin/sessions?subject=ann", "", asAdmin()), http.StatusOK)
	if len(list.Sessions) != 2 || list.Sessions[0].ID != ann2 || list.Sessions[1].ID != ann {
		t.Errorf("by subject: %+v", list.Sessions)
	}
	list = wantOK[httptransport.SessionsReply](t, f.do("GET", "/admin/sessions?subject=nobody", "", asAdmin()), http.StatusOK)
	if list.Sessions == nil || len(list.Sessions) != 0 {
		t.Errorf("no sessions: %+v", list)
	}
	for _, q := range []string{"", "?reference=x&subject=y", "?reference="} {
		wantErr(t, f.do("GET", "/admin/sessions"+q, "", asAdmin()), http.StatusBadRequest, httptransport.CodeInvalidInput, "")
	}

	rev := wantOK[httptransport.RevokeReply](t, f.do("POST", "/admin/revoke", `{"subject":"ann"}`, asAdmin()), http.StatusOK)
	if rev.Revoked != 2 {
		t.Errorf("revoked %d, want 2", rev.Revoked)
	}
	wantErr(t, f.do("GET", "/session", "", withCookie(ann)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonRevoked)
	wantErr(t, f.do("GET", "/app/x", "", withCookie(ann2)), http.StatusUnauthorized, httptransport.CodeSessionEnded, core.ReasonRevoked)
	rev = wantOK[httptransport.RevokeReply](t, f.do("POST", "/admin/revoke", `{"subject":"ann"}`, asAdmin()), http.StatusOK)
	if rev.Revoked != 0 {
		t.Errorf("revoked again %d", rev.Revoked)
	}
	wantErr(t, f.do("POST", "/admin/revoke", `{}`, asAdmin()), http.StatusBadRequest, httptransport.CodeInvalidInput, "")

	// Without the key, refused; without an authorizer, disabled.
	writes := f.writes()
	wantErr(t, f.do("GET", "/admin/sessions?reference=cust-1", ""), http.StatusForbidden, httptransport.CodeForbidden, "")
	wantErr(t, f.do("POST", "/admin/revoke", `{"subject":"bob"}`, withCookie(a)), http.StatusForbidden, httptransport.CodeForbidden, "")
	if f.writes() != writes {
		t.Error("a refused admin request wrote")
	}
	f = newFixture(t, core.Policy{}, func(c *httptransport.Config) { c.Authorize = nil })
	wantErr(t, f.do("GET", "/admin/sessions?subject=ann", "", asAdmin()), http.StatusForbidden, httptransport.CodeAdminDisabled, "")
	wantErr(t, f.do("POST", "/admin/revoke", `{"subject":"ann"}`, asAdmin()), http.StatusForbidden, httptransport.CodeAdminDisabled, "")
}
