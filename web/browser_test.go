package web_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/web"
)

// updateScreenshots writes the screenshots of the end-to-end tests to
// docs/screenshots, for the README. SESSIONKIT_SCREENSHOTS=dir writes them
// to dir instead. Without either they go to a temporary directory.
var updateScreenshots = flag.Bool("update-screenshots", false, "write the browser tests' screenshots to docs/screenshots")

// Chromium flags: headless with no GPU, sandbox or first-run UI, and quiet:
// no QUIC, component updates, sync or background requests, so that the
// only traffic is the test's.
var chromiumFlags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
}

// waitFor bounds each wait for the page; the suite's own pace is set by
// the servers and the pages, not by this.
const waitFor = 15 * time.Second

// chromium returns the browser to drive: $SESSIONKIT_CHROMIUM, else
// /usr/bin/chromium, else chromium or chromium-browser on the PATH. When
// there is none the test is skipped, except under CI, where skipping would
// hide that the browser tests never ran.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("SESSIONKIT_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("SESSIONKIT_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "no Chromium: install Debian's chromium package, or set SESSIONKIT_CHROMIUM to a Chrome or Chromium binary"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: the browser tests must run)")
	}
	t.Skip(msg)
	return ""
}

// newBrowser starts Chromium with a fresh profile and returns the context
// of its first tab. The browser stops when the test ends.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium(t)), chromedp.UserDataDir(t.TempDir())}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// newTab opens another tab (in its own window, so it renders) of the
// browser of ctx, sharing its cookies. Cancel it to close the tab.
func newTab(t *testing.T, ctx context.Context) (context.Context, context.CancelFunc) {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	return tab, cancel
}

// do runs actions on the tab of ctx within waitFor.
func do(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates expr in the page, awaiting a promise, and decodes its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, awaitPromise))
	if err != nil {
		t.Fatalf("evaluating %.80q: %v", expr, err)
	}
	return v
}

func awaitPromise(p *runtime.EvaluateParams) { yes := true; p.AwaitPromise = &yes }

// barExpr reads the page's status bar as "state (reason): text".
const barExpr = `(() => {
  const b = document.querySelector('sessionkit-status');
  if (!b) return 'no status bar';
  return b.getAttribute('state') + ' (' + b.getAttribute('reason') + '): ' + b.textContent;
})()`

// waitBar waits until the page's status bar shows state with reason (""
// for none) and returns its text, which must explain the reason to a
// person. It polls in the page, so it sees the bar as the user does.
func waitBar(t *testing.T, ctx context.Context, state, reason string) string {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	pred := fmt.Sprintf(`(() => {
  const b = document.querySelector('sessionkit-status');
  return b && b.getAttribute('state') === %q && b.getAttribute('reason') === %q ? b.textContent : '';
})()`, state, reason)
	text, err := chromedp.Run(wctx, chromedp.Poll[string](pred,
		chromedp.WithPollingInterval(25*time.Millisecond), chromedp.WithPollingTimeout(0)))
	if err != nil {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		now, _ := chromedp.Run(rctx, chromedp.Evaluate[string](barExpr))
		t.Fatalf("waiting for the status bar to show %s (%s): %v; it shows %q", state, reason, err, now)
	}
	return text
}

// screenshot captures the tab's viewport as a PNG and saves it as name
// (see updateScreenshots). It checks the image is a PNG of the viewport.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	img, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		// A tab must be in front to render a frame to capture.
		if _, err := cdp.Call(ctx, tg, page.BringToFront, cdp.Empty{}); err != nil {
			return nil, err
		}
		return chromedp.CaptureScreenshot()(ctx, tg)
	})
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != viewportWidth || cfg.Height != viewportHeight {
		t.Fatalf("screenshot %s: %dx%d, %v; want a %dx%d PNG", name, cfg.Width, cfg.Height, err, viewportWidth, viewportHeight)
	}
	dir := os.Getenv("SESSIONKIT_SCREENSHOTS")
	switch {
	case *updateScreenshots:
		dir = filepath.Join("..", "docs", "screenshots")
	case dir == "":
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, img, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", file)
}

// The viewport of every page, so screenshots have one size.
const (
	viewportWidth  = 900
	viewportHeight = 600
)

// open navigates the tab to url with the test viewport.
func open(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	do(t, ctx, "opening "+url,
		chromedp.EmulateViewport(viewportWidth, viewportHeight),
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS("sessionkit-status")),
	)
}

// signIn signs in on a demo page with the name and waits until the page is
// live.
func signIn(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	do(t, ctx, "signing in as "+name,
		chromedp.WaitVisible(chromedp.CSS("#user")),
		chromedp.SendKeys(chromedp.CSS("#user"), name),
		chromedp.Click(chromedp.CSS("#signin-button")),
	)
	return waitBar(t, ctx, "live", "")
}

// testServer is the demo site on 127.0.0.1 with a Manager on memstore.
type testServer struct {
	*httptest.Server
	m     *core.Manager
	demo  *web.Demo
	store core.Store
	stop  context.CancelFunc
	done  chan struct{}
}

// serverOptions configures startServer.
type serverOptions struct {
	policy core.Policy
	clock  *clock.Mock       // the Manager's clock; nil for the real one
	store  core.Store        // nil for a new memstore
	ln     net.Listener      // nil for a new port
	extra  map[string]string // more paths: URL prefix → directory
}

// startServer starts the demo site for o and stops it when the test ends.
func startServer(t *testing.T, o serverOptions) *testServer {
	t.Helper()
	if o.store == nil {
		o.store = memstore.New()
	}
	cfg := core.Config{Store: o.store, Policy: o.policy}
	if o.clock != nil {
		cfg.Clock = o.clock
	}
	m, err := core.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The default cookie, __Host-sessionkit with Secure: Chromium takes
	// it over plain HTTP from 127.0.0.1, a potentially trustworthy origin.
	demo, err := web.NewDemo(web.DemoConfig{Manager: m})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = demo
	if len(o.extra) > 0 {
		mux := http.NewServeMux()
		mux.Handle("/", demo)
		for prefix, dir := range o.extra {
			mux.Handle(prefix, http.StripPrefix(prefix, http.FileServer(http.Dir(dir))))
		}
		h = mux
	}
	hs := httptest.NewUnstartedServer(h)
	if o.ln != nil {
		hs.Listener.Close()
		hs.Listener = o.ln
	}
	hs.Start()
	ctx, stop := context.WithCancel(context.Background())
	s := &testServer{Server: hs, m: m, demo: demo, store: o.store, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = demo.Run(ctx)
	}()
	t.Cleanup(func() { s.shutdown(t) })
	return s
}

// shutdown stops the service as a deployment would: WebSocket connections
// closed with 4001 service_restart, then the HTTP server. Calls after the
// first do nothing.
func (s *testServer) shutdown(t *testing.T) {
	t.Helper()
	select {
	case <-s.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.demo.Shutdown(ctx)
	s.Close()
	s.stop()
	<-s.done
	if err != nil {
		t.Errorf("shutting the WebSocket endpoint down: %v", err)
	}
	if err := s.m.Close(ctx); err != nil && !errors.Is(err, core.ErrClosed) {
		t.Errorf("closing the Manager: %v", err)
	}
}
