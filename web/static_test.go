package web_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/transports/httptransport"
	"github.com/sessionkit/sessionkit/transports/wstransport"
	"github.com/sessionkit/sessionkit/web"
)

func TestHandlerServesFiles(t *testing.T) {
	hs := httptest.NewServer(web.Handler())
	defer hs.Close()
	tests := []struct {
		path, file, ctype string
	}{
		{"/", "index.html", "text/html; charset=utf-8"},
		{"/sessionkit.js", "sessionkit.js", "text/javascript; charset=utf-8"},
		{"/dictation.html", "dictation.html", "text/html; charset=utf-8"},
		{"/dictation.js", "dictation.js", "text/javascript; charset=utf-8"},
		{"/forms.html", "forms.html", "text/html; charset=utf-8"},
		{"/forms.js", "forms.js", "text/javascript; charset=utf-8"},
		{"/demo.css", "demo.css", "text/css; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := http.Get(hs.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want, err := fs.ReadFile(web.FS(), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusOK || string(body) != string(want) {
				t.Fatalf("GET %s = %d with %d bytes, want 200 with %s's %d bytes", tt.path, res.StatusCode, len(body), tt.file, len(want))
			}
			h := res.Header
			if got := h.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			if got := h.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			etag := h.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			req, _ := http.NewRequest(http.MethodGet, hs.URL+tt.path, nil)
			req.Header.Set("If-None-Match", etag)
			res, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusNotModified {
				t.Errorf("revalidating with the ETag = %d, want 304", res.StatusCode)
			}
		})
	}
}

func TestHandlerRefuses(t *testing.T) {
	hs := httptest.NewServer(web.Handler())
	defer hs.Close()
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/nope.js", http.StatusNotFound},
		{"GET", "/static/sessionkit.js", http.StatusNotFound},
		{"GET", "/../web.go", http.StatusNotFound},
		{"POST", "/sessionkit.js", http.StatusMethodNotAllowed},
		{"HEAD", "/sessionkit.js", http.StatusOK},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, hs.URL+tt.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, res.StatusCode, tt.want)
		}
	}
}

func TestDemoSubject(t *testing.T) {
	tests := []struct {
		creds string
		want  string // "" for refused
	}{
		{`{"user":"ann"}`, "ann"},
		{`{"user":"  Ann Lee "}`, "Ann Lee"},
		{`{"user":"` + strings.Repeat("é", 64) + `"}`, strings.Repeat("é", 64)},
		{`{"user":"` + strings.Repeat("é", 65) + `"}`, ""},
		{`{"user":""}`, ""},
		{`{"user":"   "}`, ""},
		{`{"user":"a\u0000b"}`, ""},
		{`{"user":42}`, ""},
		{`{}`, ""},
		{`[]`, ""},
		{``, ""},
	}
	for _, tt := range tests {
		got, err := web.DemoSubject(json.RawMessage(tt.creds))
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("DemoSubject(%s) = %q, %v; want %q", tt.creds, got, err, tt.want)
		}
	}
}

func TestNewDemoNeedsManager(t *testing.T) {
	if _, err := web.NewDemo(web.DemoConfig{}); err == nil {
		t.Error("NewDemo without a Manager succeeded")
	}
}

// TestDemoEndpoints signs in at /api/ and /ws with the Go clients: the
// demo mounts both transports with the demo's authentication.
func TestDemoEndpoints(t *testing.T) {
	ctx := context.Background()
	m, err := core.New(core.Config{Store: memstore.New(), Policy: core.FormsPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	d, err := web.NewDemo(web.DemoConfig{Manager: m, HTTP: httptransport.Config{InsecureCookie: true}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(d)
	defer hs.Close()

	res, err := http.Post(hs.URL+"/api/session/login", "application/json", strings.NewReader(`{"user":"ann"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == web.DemoCookieName {
			cookie = c
		}
	}
	if res.StatusCode != http.StatusOK || cookie == nil || cookie.Secure || !cookie.HttpOnly {
		t.Fatalf("login = %d with cookies %v, want 200 and an HttpOnly cookie %q without Secure", res.StatusCode, res.Cookies(), web.DemoCookieName)
	}
	c, err := httptransport.NewClient(httptransport.ClientConfig{BaseURL: hs.URL + "/api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Login(ctx, map[string]string{"user": ""}); !httptransport.IsCode(err, httptransport.CodeLoginFailed) {
		t.Errorf("login with no name: %v, want login_failed", err)
	}

	ws, err := wstransport.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws", wstransport.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	s, err := ws.Login(ctx, json.RawMessage(`{"user":"bea"}`))
	if err != nil || s.Subject != "bea" {
		t.Fatalf("WebSocket login = %+v, %v; want subject bea", s, err)
	}
	if err := d.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-ws.Done()
	if st := ws.Status(); st.State != wstransport.StateLost || st.Reason != core.ReasonServiceRestart {
		t.Errorf("after Shutdown the Go client is %v, want lost (service_restart)", st)
	}
}
