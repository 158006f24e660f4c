package web_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/sessionkit/sessionkit/core"
)

// The end-to-end tests drive the demo pages in headless Chromium against
// the demo site, and assert what the status bar shows: its state and reason
// attributes, and words that tell a person why.

// TestBrowserLive: after a sign-in the bar shows live.
func TestBrowserLive(t *testing.T) {
	srv := startServer(t, serverOptions{policy: core.RealtimePolicy()})
	ctx := newBrowser(t)
	open(t, ctx, srv.URL+"/dictation.html")
	waitBar(t, ctx, "idle", "")
	text := signIn(t, ctx, "ann")
	if !strings.Contains(text, "signed in as ann") {
		t.Errorf("live bar says %q, want it to name the user", text)
	}
	do(t, ctx, "typing", chromedp.SendKeys(chromedp.CSS("#text"), "Patient is doing well."))
	waitSaved(t, ctx) // a draft saved over the WebSocket
	screenshot(t, ctx, "status-live")
}

// TestBrowserServiceStopped: the service shuts down, closing the link with
// 4001; the bar shows the link lost because of service_restart.
func TestBrowserServiceStopped(t *testing.T) {
	srv := startServer(t, serverOptions{policy: core.RealtimePolicy()})
	ctx := newBrowser(t)
	open(t, ctx, srv.URL+"/dictation.html?reconnect=0")
	signIn(t, ctx, "ben")
	do(t, ctx, "typing", chromedp.SendKeys(chromedp.CSS("#text"), "Dictated before the restart."))
	waitSaved(t, ctx)

	srv.shutdown(t)
	text := waitBar(t, ctx, "lost", "service_restart")
	if !strings.Contains(text, "the service stopped or restarted") {
		t.Errorf("lost bar says %q, want it to say why", text)
	}
	if ro := eval[bool](t, ctx, `document.getElementById('text').readOnly`); !ro {
		t.Error("the dictation field is still editable with the link lost")
	}
	screenshot(t, ctx, "status-lost")
}

// TestBrowserSuperseded: the same user signs in in a second tab; the first
// tab's bar shows the session ended, superseded (rule P9).
func TestBrowserSuperseded(t *testing.T) {
	srv := startServer(t, serverOptions{policy: core.RealtimePolicy()})
	first := newBrowser(t)
	open(t, first, srv.URL+"/dictation.html")
	signIn(t, first, "cleo")
	do(t, first, "typing", chromedp.SendKeys(chromedp.CSS("#text"), "Started on the laptop."))
	waitSaved(t, first)

	second, _ := newTab(t, first)
	open(t, second, srv.URL+"/dictation.html")
	signIn(t, second, "cleo") // its own session: the token lives in sessionStorage, per tab

	text := waitBar(t, first, "ended", "superseded")
	if !strings.Contains(text, "you signed in somewhere else") {
		t.Errorf("ended bar says %q, want it to say why", text)
	}
	waitBar(t, second, "live", "")
	screenshot(t, first, "status-ended")
}

// TestBrowserReconnect: with reconnecting on, a service restart shows
// reconnecting with the reason while the service is down, and the page
// resumes its session once it is back (a policy that suspends on
// disconnect, with the same store).
func TestBrowserReconnect(t *testing.T) {
	p := core.ResumablePolicy()
	srv := startServer(t, serverOptions{policy: p})
	addr := srv.Listener.Addr().String()
	ctx := newBrowser(t)
	open(t, ctx, srv.URL+"/dictation.html")
	signIn(t, ctx, "dora")
	do(t, ctx, "typing", chromedp.SendKeys(chromedp.CSS("#text"), "Kept across the restart."))
	waitSaved(t, ctx)

	srv.shutdown(t)
	text := waitBar(t, ctx, "reconnecting", "service_restart")
	if !strings.Contains(text, "the service stopped or restarted") {
		t.Errorf("reconnecting bar says %q, want it to say why", text)
	}
	screenshot(t, ctx, "status-reconnecting")

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening again on %s: %v", addr, err)
	}
	again := startServer(t, serverOptions{policy: p, store: srv.store, ln: ln})
	text = waitBar(t, ctx, "live", "")
	if !strings.Contains(text, "signed in as dora") {
		t.Errorf("live bar after the restart says %q, want the same user", text)
	}
	// Resumed, not signed in anew: the user still has one session.
	list, err := again.m.ListBySubject(context.Background(), "dora")
	if err != nil || len(list) != 1 || list[0].State != core.StateActive {
		t.Errorf("dora's sessions after the restart: %+v, %v; want the one session, active", list, err)
	}
	// The same session goes on: the draft saved before the restart takes
	// the next save at the version the page holds.
	before := eval[string](t, ctx, `document.getElementById('save-state').dataset.version`)
	do(t, ctx, "typing after the restart", chromedp.SendKeys(chromedp.CSS("#text"), " And after it."))
	waitSavedAfter(t, ctx, before)
}

// TestBrowserKeepalive: with a one-second interval the page keeps its
// session alive with keepalives the service acks, scheduled from each ack.
func TestBrowserKeepalive(t *testing.T) {
	p := core.RealtimePolicy()
	p.KeepAlive.Interval = time.Second
	srv := startServer(t, serverOptions{policy: p})
	ctx := newBrowser(t)
	open(t, ctx, srv.URL+"/dictation.html")
	signIn(t, ctx, "fay")
	wctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.Poll[bool](`document.querySelector('sessionkit-status').client.stats.acks >= 3`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0))); err != nil {
		t.Fatalf("waiting for three acks: %v", err)
	}
	stats := eval[map[string]int](t, ctx, `document.querySelector('sessionkit-status').client.stats`)
	if stats["staleAcks"] != 0 || stats["keepalives"] < 3 {
		t.Errorf("client stats = %v, want 3 or more keepalives and no stale acks", stats)
	}
	waitBar(t, ctx, "live", "")
	if st := srv.demo.WS.Stats(); st.Lost != 0 {
		t.Errorf("service stats = %+v, want no connection lost", st)
	}
}

// TestBrowserFrozenTab: a frozen tab answers no probe; the service drops
// its connection at the liveness timeout and, under RealtimePolicy, ends
// the session (rule P7). When the tab thaws it finds out: it reconnects,
// the service refuses to resume the ended session, and the bar says the
// session ended because the connection was lost.
func TestBrowserFrozenTab(t *testing.T) {
	p := core.RealtimePolicy()
	p.KeepAlive.Interval = time.Second
	p.KeepAlive.LivenessTimeout = 2500 * time.Millisecond
	srv := startServer(t, serverOptions{policy: p})
	events := srv.m.Subscribe(64)
	defer events.Close()
	ctx := newBrowser(t)
	open(t, ctx, srv.URL+"/dictation.html")
	signIn(t, ctx, "gus")

	lifecycle(t, ctx, page.SetWebLifecycleStateStateFrozen)
	deadline := time.After(waitFor)
	for ended := false; !ended; {
		select {
		case e := <-events.C:
			ended = e.Type == core.EventEnded
			if ended && e.Reason != core.ReasonConnectionLost {
				t.Fatalf("the session ended with %s, want connection_lost", e.Reason)
			}
		case <-deadline:
			t.Fatal("the service did not drop the frozen tab")
		}
	}
	if st := srv.demo.WS.Stats(); st.Lost != 1 || st.Probes == 0 {
		t.Errorf("service stats = %+v, want probes and one connection lost", st)
	}
	lifecycle(t, ctx, page.SetWebLifecycleStateStateActive)
	text := waitBar(t, ctx, "ended", "connection_lost")
	if !strings.Contains(text, "the connection dropped or stopped answering") {
		t.Errorf("ended bar says %q, want it to say why", text)
	}
}

// lifecycle freezes or thaws the tab's page.
func lifecycle(t *testing.T, ctx context.Context, state page.SetWebLifecycleStateState) {
	t.Helper()
	do(t, ctx, "setting the page "+string(state), func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.SetWebLifecycleState, page.SetWebLifecycleStateParams{State: state})
		return chromedp.Void{}, err
	})
}

// TestBrowserFormResumedAfterIdleTimeout: a form is typed and autosaved,
// the browser closed; the session times out while the user is away (the
// Manager's clock moves 16 minutes, past FormsPolicy's 15-minute idle
// timeout, and a sweep ends it). The user comes back: the page says the
// session ended for inactivity; after signing in again the draft resumes
// with the typed text back in the field.
func TestBrowserFormResumedAfterIdleTimeout(t *testing.T) {
	clk := clock.NewMock()
	clk.Set(time.Now().Truncate(time.Second)) // the cookie's expiry is server time plus the TTL
	srv := startServer(t, serverOptions{policy: core.FormsPolicy(), clock: clk})
	browser := newBrowser(t)

	tab, closeTab := newTab(t, browser)
	open(t, tab, srv.URL+"/forms.html")
	waitBar(t, tab, "idle", "")
	signIn(t, tab, "erin")
	const title = "Broken window"
	const notes = "A ball came through the kitchen window on Sunday.\nGlazier's quote attached."
	do(t, tab, "filling the claim form",
		chromedp.Click(chromedp.CSS("#new")),
		chromedp.WaitVisible(chromedp.CSS("#claim")),
		chromedp.SendKeys(chromedp.CSS(`#claim [name=title]`), title),
		chromedp.SendKeys(chromedp.CSS(`#claim [name=notes]`), notes),
	)
	waitSaved(t, tab)
	if got := eval[string](t, tab, `document.querySelector('#claim [name=notes]').value`); got != notes {
		t.Fatalf("typed notes = %q, want %q", got, notes)
	}
	closeTab() // the browser window closes; the pulse stops with it

	clk.Add(16 * time.Minute)
	res, err := srv.m.Sweep(context.Background(), clk.Now())
	if err != nil || res.Ended != 1 {
		t.Fatalf("Sweep 16 min later = %+v, %v; want the session ended", res, err)
	}

	open(t, browser, srv.URL+"/forms.html")
	text := waitBar(t, browser, "ended", "idle_timeout")
	if !strings.Contains(text, "no activity for too long") {
		t.Errorf("ended bar says %q, want it to say why", text)
	}
	screenshot(t, browser, "forms-ended")

	signIn(t, browser, "erin")
	do(t, browser, "resuming the draft",
		chromedp.WaitVisible(chromedp.CSS("#drafts button.resume")),
		chromedp.Click(chromedp.CSS("#drafts button.resume")),
		chromedp.WaitVisible(chromedp.CSS("#claim")),
	)
	if got := eval[string](t, browser, `document.querySelector('#claim [name=notes]').value`); got != notes {
		t.Errorf("notes after resuming = %q, want %q", got, notes)
	}
	if got := eval[string](t, browser, `document.querySelector('#claim [name=title]').value`); got != title {
		t.Errorf("title after resuming = %q, want %q", got, title)
	}
	waitBar(t, browser, "live", "")
	screenshot(t, browser, "forms-resumed")
}

// waitSaved waits until the page's draft is saved: typing stopped, and
// the autosave's last save is acknowledged.
func waitSaved(t *testing.T, ctx context.Context) { t.Helper(); waitSavedAfter(t, ctx, "0") }

// waitSavedAfter waits until the page's draft is saved at a version above
// the one given.
func waitSavedAfter(t *testing.T, ctx context.Context, version string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	_, err := chromedp.Run(wctx, chromedp.Poll[bool](fmt.Sprintf(`(() => {
  const s = document.getElementById('save-state');
  return s.dataset.state === 'saved' && Number(s.dataset.version) > %s;
})()`, version), chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		state := eval[string](t, ctx, `document.getElementById('save-state').textContent`)
		t.Fatalf("waiting for the autosave: %v; the page says %q", err, state)
	}
}
