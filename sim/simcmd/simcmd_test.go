package simcmd_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/sim/simcmd"
)

func TestMainRunsScenarioAndSeeds(t *testing.T) {
	html := filepath.Join(t.TempDir(), "timeline.html")
	var out, errb bytes.Buffer
	code := simcmd.Main(context.Background(),
		[]string{"-scenario", "superseded", "-seeds", "2", "-duration", "1h", "-html", html},
		&out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, &out, &errb)
	}
	for _, want := range []string{"superseded", "random-", "verdict", "timeline: " + html} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, &out)
		}
	}
	if n := strings.Count(out.String(), "\n") - 2; n != 3 { // header, 3 runs, timeline line
		t.Errorf("want a table of 3 runs, got %d lines:\n%s", n, &out)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("<html")) {
		t.Errorf("%s is not an HTML page", html)
	}
}

func TestMainRejectsBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-no-such-flag"},
		{"-scenario", "no-such-scenario", "-html", ""},
		{"-tolerate", "no-such-issue", "-html", ""},
	} {
		var out, errb bytes.Buffer
		if code := simcmd.Main(context.Background(), args, &out, &errb); code == 0 {
			t.Errorf("%q: exit 0, want non-zero", args)
		}
		if errb.Len() == 0 {
			t.Errorf("%q: nothing on stderr", args)
		}
	}
}
