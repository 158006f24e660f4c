package badgerstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/sessionkit/sessionkit/core"
)

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, nil)
	_, err := Open(dir, nil)
	if !errors.Is(err, ErrLocked) || !strings.HasPrefix(err.Error(), "badgerstore: ") {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openStore(t, dir, nil) // the lock went with Close
}

// TestOpenLockedByBadger covers a directory held by a badger user that is
// not a sessionkit store, so only badger's own lock is taken.
func TestOpenLockedByBadger(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(dir, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("Open = %v, want ErrLocked", err)
	}
}

func TestOpenNotADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil)
	if !errors.Is(err, syscall.ENOTDIR) || !strings.HasPrefix(err.Error(), "badgerstore: ") {
		t.Fatalf("Open(file) = %v, want ENOTDIR", err)
	}
}

// unreadableEnv switches the test binary into the child of
// TestOpenUnreadable, which runs as an unprivileged user.
const unreadableEnv = "BADGERSTORE_TEST_UNREADABLE"

// TestOpenUnreadable checks that a directory, or a file in it, that the
// process may not read fails Open with fs.ErrPermission. Root reads
// everything, so under root the check runs in a child process started as
// user nobody.
func TestOpenUnreadable(t *testing.T) {
	if dirs := os.Getenv(unreadableEnv); dirs != "" {
		for _, dir := range strings.Split(dirs, string(os.PathListSeparator)) {
			s, err := Open(dir, nil)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, fs.ErrPermission) || !strings.HasPrefix(err.Error(), "badgerstore: ") {
				t.Errorf("Open(%s) = %v, want fs.ErrPermission", dir, err)
			}
		}
		return
	}

	// Not t.TempDir, whose parent only its owner may enter.
	base, err := os.MkdirTemp("", "badgerstore-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	mustChmod(t, base, 0o755)
	// A store whose directory cannot be listed, and one with an
	// unreadable MANIFEST in an otherwise open directory.
	closedDir := filepath.Join(base, "closed")
	fileDir := filepath.Join(base, "file")
	for _, dir := range []string{closedDir, fileDir} {
		s, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	mustChmod(t, closedDir, 0o300)
	mustChmod(t, fileDir, 0o777)
	files, _ := filepath.Glob(filepath.Join(fileDir, "*"))
	for _, f := range files {
		mustChmod(t, f, 0o666)
	}
	mustChmod(t, filepath.Join(fileDir, badger.ManifestFilename), 0o200)
	dirs := closedDir + string(os.PathListSeparator) + fileDir

	if os.Geteuid() != 0 {
		t.Setenv(unreadableEnv, dirs)
		TestOpenUnreadable(t)
		return
	}
	// The test binary may sit in a directory only root can enter: run a
	// copy from base.
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "badgerstore.test")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestOpenUnreadable$", "-test.count=1")
	cmd.Env = append(os.Environ(), unreadableEnv+"="+dirs)
	cmd.Dir = base
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("child as user nobody failed:\n%s", out)
	case err != nil:
		t.Skipf("running as root and cannot start a child as user nobody (%v): permission errors not checked", err)
	}
}

func mustChmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// corruptFixture builds, once, a closed store with records inline in a
// table and others in the value log, and returns a fresh copy of it.
func corruptFixture(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureDir, fixtureErr = os.MkdirTemp("", "badgerstore-fixture-")
		if fixtureErr != nil {
			return
		}
		s, err := Open(fixtureDir, &Options{ValueThreshold: 1 << 10})
		if err != nil {
			fixtureErr = err
			return
		}
		ctx := context.Background()
		for i := range 500 {
			v := []byte(fmt.Sprintf("small record %d", i))
			if i%50 == 0 {
				v = bytes.Repeat([]byte(fmt.Sprintf("<large record %d>", i)), 200)
			}
			rec := core.Record{Key: fmt.Sprintf("s/%03d", i), Value: v, Index: []core.IndexEntry{{Name: core.IndexDue, Value: fmt.Sprintf("%03d", i)}}}
			if _, err := s.Put(ctx, rec); err != nil {
				fixtureErr = err
				return
			}
		}
		fixtureErr = s.Close()
	})
	if fixtureErr != nil {
		t.Fatalf("fixture: %v", fixtureErr)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(fixtureDir)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// onlyFile returns the one file in dir matching pattern.
func onlyFile(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(m) != 1 {
		t.Fatalf("files %s in %s: %v, %v; want exactly one", pattern, dir, m, err)
	}
	return m[0]
}

// scribble overwrites 64 bytes of a file at the fraction at of its length.
func scribble(t *testing.T, path string, at float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start := min(int(float64(len(b))*at), max(len(b)-64, 0))
	for i := start; i < start+64 && i < len(b); i++ {
		b[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestOpenCorrupt(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
	}{
		{"MANIFEST garbage", func(t *testing.T, dir string) { scribble(t, filepath.Join(dir, "MANIFEST"), 0) }},
		{"MANIFEST truncated", func(t *testing.T, dir string) {
			// Only the magic is left: badger would open an empty store
			// and delete the tables it no longer knows.
			if err := os.Truncate(filepath.Join(dir, "MANIFEST"), 8); err != nil {
				t.Fatal(err)
			}
		}},
		{"KEYREGISTRY garbage", func(t *testing.T, dir string) { scribble(t, filepath.Join(dir, "KEYREGISTRY"), 0) }},
		{"table head garbage", func(t *testing.T, dir string) { scribble(t, onlyFile(t, dir, "*.sst"), 0) }},
		{"table middle garbage", func(t *testing.T, dir string) { scribble(t, onlyFile(t, dir, "*.sst"), 0.5) }},
		{"table footer garbage", func(t *testing.T, dir string) { scribble(t, onlyFile(t, dir, "*.sst"), 1) }},
		{"table missing", func(t *testing.T, dir string) {
			if err := os.Remove(onlyFile(t, dir, "*.sst")); err != nil {
				t.Fatal(err)
			}
		}},
		{"value log head garbage", func(t *testing.T, dir string) { scribble(t, onlyFile(t, dir, "*.vlog"), 0) }},
		{"not a sessionkit store", func(t *testing.T, _ string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := corruptFixture(t)
			if tt.name == "not a sessionkit store" {
				dir = t.TempDir()
				db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("x"), nil) }); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
			tt.damage(t, dir)
			s, err := Open(dir, nil)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, core.ErrCorrupt) || !strings.HasPrefix(err.Error(), "badgerstore: open ") {
				t.Fatalf("Open = %v, want a badgerstore error wrapping ErrCorrupt", err)
			}
		})
	}
}

// TestValueLogDamage damages one large record inside the value log, which
// badger does not notice at Open: reading that record must fail with
// ErrCorrupt and leave the others readable.
func TestValueLogDamage(t *testing.T) {
	dir := corruptFixture(t)
	path := onlyFile(t, dir, "*.vlog")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("<large record 100>"))
	if i < 0 {
		t.Fatal("record 100 not found in the value log")
	}
	b[i+3] ^= 0x20
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, dir, nil)
	ctx := context.Background()
	if _, err := s.Get(ctx, "s/100"); !errors.Is(err, core.ErrCorrupt) {
		t.Errorf("Get(damaged) = %v, want ErrCorrupt", err)
	}
	for _, key := range []string{"s/050", "s/101"} {
		if _, err := s.Get(ctx, key); err != nil {
			t.Errorf("Get(%s) = %v", key, err)
		}
	}
	if _, err := s.Scan(ctx, core.Range{Index: core.IndexDue}); !errors.Is(err, core.ErrCorrupt) {
		t.Errorf("Scan over damaged = %v, want ErrCorrupt", err)
	}
}

// TestOpenFixtureIntact shows the damage above is what fails the other
// tests: an undamaged copy opens and reads back every record.
func TestOpenFixtureIntact(t *testing.T) {
	s := openStore(t, corruptFixture(t), nil)
	recs, err := s.Scan(context.Background(), core.Range{Index: core.IndexDue})
	if err != nil || len(recs) != 500 {
		t.Fatalf("Scan = %d records, %v; want 500", len(recs), err)
	}
}

var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

// TestNoVerifyOnOpen shows what the option gives up: a damaged table block
// no longer fails Open.
func TestNoVerifyOnOpen(t *testing.T) {
	dir := corruptFixture(t)
	scribble(t, onlyFile(t, dir, "*.sst"), 0.5)
	s, err := Open(dir, &Options{NoVerifyOnOpen: true})
	if err != nil {
		t.Fatalf("Open without verification = %v, want success", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
