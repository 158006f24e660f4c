package badgerstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/core"
)

// The crash test runs the test binary again as a child that writes to a
// store under load and reports every acknowledged write on stdout, one line
// each:
//
//	opening                     the child is about to open the store
//	ready                       the store is open
//	P <key> <version> <hash>    Put or PutBatch returned this version
//	d <key>                     Delete is about to be called
//	D <key>                     Delete returned nil
//	ERR <message>               the child failed
//
// The parent kills it with SIGKILL, reopens the store and checks every
// acknowledged write against it. Environment variables switch the binary
// into the child and configure it.
const (
	crashDirEnv   = "BADGERSTORE_CRASH_DIR"   // store directory; set only in the child
	crashSeedEnv  = "BADGERSTORE_CRASH_SEED"  // seed of the child's choices
	crashEarlyEnv = "BADGERSTORE_CRASH_EARLY" // "1": ack before writing (a broken child)
)

const crashWorkers = 4

// crashOptions makes memtable flushes, table compactions and value-log
// rotations frequent, so kills land in them too.
var crashOptions = &Options{MemTableSize: 1 << 20, ValueLogFileSize: 1 << 20}

// TestCrash kills a writing child at seeded random moments, 24 times over
// the same directory, and checks after each kill that the store opens
// cleanly and holds every write the child acknowledged, with index entries
// that match the records.
func TestCrash(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		crashChild()
		return
	}
	if testing.Short() {
		t.Skip("crash test skipped in short mode")
	}
	dir := t.TempDir()
	m := newCrashModel()
	rng := rand.New(rand.NewPCG(2025, 3))
	for round := range 24 {
		res := runCrashRound(t, dir, round, rng, false)
		m.apply(t, res.lines)
		if errs := m.verify(dir); len(errs) > 0 {
			for _, err := range errs[:min(len(errs), 10)] {
				t.Error(err)
			}
			t.Fatalf("round %d (%s): %d problems after the kill", round, res.kill, len(errs))
		}
		t.Logf("round %d: killed %s; %d acks, %d records", round, res.kill, res.acks, m.live())
	}
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	vlogs, _ := filepath.Glob(filepath.Join(dir, "*.vlog"))
	t.Logf("%d keys acknowledged; the store ends with %d tables and %d value-log files", len(m.acked), len(tables), len(vlogs))
}

// TestCrashCatchesLostWrites runs the crash test against a child that
// acknowledges each write just before making it, as a store that lied about
// durability would. The kill then lands between an acknowledgement and its
// write, and verification must report the lost write.
func TestCrashCatchesLostWrites(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("parent-only test")
	}
	if testing.Short() {
		t.Skip("crash test skipped in short mode")
	}
	dir := t.TempDir()
	m := newCrashModel()
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 10 {
		res := runCrashRound(t, dir, round, rng, true)
		m.apply(t, res.lines)
		if errs := m.verify(dir); len(errs) > 0 {
			t.Logf("round %d: caught %d lost writes, e.g. %v", round, len(errs), errs[0])
			return
		}
	}
	t.Fatal("verification never noticed writes acknowledged before they were made")
}

// TestCrashVerify shows that verification notices each kind of damage on a
// store it has just accepted.
func TestCrashVerify(t *testing.T) {
	damages := map[string]func(s *Store, key string) error{
		"record lost": func(s *Store, key string) error {
			txn := s.db.NewTransaction(true)
			defer txn.Discard()
			if err := txn.Delete(recordKey(key)); err != nil {
				return err
			}
			return txn.Commit()
		},
		"older version": func(s *Store, key string) error {
			rec, err := s.Get(context.Background(), key)
			if err != nil {
				return err
			}
			return setRaw(s, recordKey(key), encodeRecord(rec.Version-1, rec.Index, rec.Value))
		},
		"other value": func(s *Store, key string) error {
			rec, err := s.Get(context.Background(), key)
			if err != nil {
				return err
			}
			return setRaw(s, recordKey(key), encodeRecord(rec.Version, rec.Index, append(rec.Value, '!')))
		},
		"index entry lost": func(s *Store, key string) error {
			rec, err := s.Get(context.Background(), key)
			if err != nil {
				return err
			}
			txn := s.db.NewTransaction(true)
			defer txn.Discard()
			e := rec.Index[0]
			if err := txn.Delete(indexKey(e.Name, e.Value, key)); err != nil {
				return err
			}
			return txn.Commit()
		},
		"stray index entry": func(s *Store, key string) error {
			return setRaw(s, indexKey(core.IndexDue, "x", key), nil)
		},
		"deleted record back": func(s *Store, key string) error {
			return setRaw(s, recordKey("s/deleted"), encodeRecord(1, nil, nil))
		},
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			m := newCrashModel()
			w := &crashWriter{s: s, out: io.Discard, rng: rand.New(rand.NewPCG(1, 1))}
			rec := w.record("s/0", 1, true)
			v := mustPut(t, s, rec)
			m.apply(t, []string{crashPutLine(rec, v), "D s/deleted"})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if errs := m.verify(dir); len(errs) > 0 {
				t.Fatalf("undamaged store: %v", errs)
			}
			s, err = Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := damage(s, "s/0"); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if errs := m.verify(dir); len(errs) == 0 {
				t.Fatal("verification accepted the damaged store")
			}
		})
	}
}

func setRaw(s *Store, key, value []byte) error {
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	if err := txn.Set(key, value); err != nil {
		return err
	}
	return txn.Commit()
}

// crashRound is what one child run reported.
type crashRound struct {
	lines []string
	acks  int
	kill  string // when the child was killed
}

// runCrashRound starts a child on dir, kills it at a moment drawn from rng,
// and returns every line it wrote, including those still in the pipe when
// it died. Moments are counted in the child's output, not in time: while it
// opens the store (as badger replays its log), right after, or after 1 to
// 1000 acknowledged writes.
func runCrashRound(t *testing.T, dir string, round int, rng *rand.Rand, early bool) crashRound {
	t.Helper()
	killAfter := 1 + rng.IntN(1000) // acks; 0: on "opening", -1: on "ready"
	switch rng.IntN(10) {
	case 0:
		killAfter = 0
	case 1:
		killAfter = -1
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		crashDirEnv+"="+dir,
		crashSeedEnv+"="+strconv.FormatUint(rng.Uint64(), 10),
	)
	if early {
		cmd.Env = append(cmd.Env, crashEarlyEnv+"=1")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A child that stops writing is killed so the test ends.
	var stalled atomic.Bool
	watchdog := time.AfterFunc(60*time.Second, func() {
		stalled.Store(true)
		cmd.Process.Kill()
	})
	defer watchdog.Stop()

	var res crashRound
	kill := func(when string) {
		if res.kill == "" {
			res.kill = when
			cmd.Process.Kill() // SIGKILL
		}
	}
	r := bufio.NewReader(stdout)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break // EOF; a fragment without newline is no acknowledgement
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "ERR "):
			t.Fatalf("round %d: child: %s\n%s", round, line, stderr.String())
		case line == "opening":
			if killAfter == 0 {
				kill("while opening")
			}
		case line == "ready":
			res.lines = append(res.lines, line)
			if killAfter == -1 {
				kill("after opening")
			}
		case strings.HasPrefix(line, "d "):
			res.lines = append(res.lines, line)
		default:
			res.lines = append(res.lines, line)
			res.acks++
			if res.acks == killAfter {
				kill(fmt.Sprintf("after %d acks", res.acks))
			}
		}
	}
	err = cmd.Wait()
	if stalled.Load() {
		t.Fatalf("round %d: child stalled after %d acks\n%s", round, res.acks, stderr.String())
	}
	if res.kill == "" {
		t.Fatalf("round %d: child exited before the kill: %v\n%s", round, err, stderr.String())
	}
	return res
}

// recordHash covers everything an acknowledgement vouches for besides the
// version: value and index entries.
func recordHash(rec core.Record) string {
	h := fnv.New64a()
	h.Write(rec.Value)
	for _, e := range rec.Index {
		fmt.Fprintf(h, "\x00%s\x00%s", e.Name, e.Value)
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

func crashPutLine(rec core.Record, version uint64) string {
	return fmt.Sprintf("P %s %d %s", rec.Key, version, recordHash(rec))
}

// selfConsistent checks a record against the key, index entries and hash
// its value carries.
func selfConsistent(rec core.Record) error {
	i := bytes.LastIndexByte(rec.Value, '\n')
	if i < 0 || fmt.Sprintf("%016x", hash64(rec.Value[:i])) != string(rec.Value[i+1:]) {
		return fmt.Errorf("record %q: value fails its own hash", rec.Key)
	}
	lines := strings.SplitN(string(rec.Value[:i]), "\n", 4)
	if len(lines) != 4 || lines[0] != rec.Key {
		return fmt.Errorf("record %q: value is for another key", rec.Key)
	}
	var idx strings.Builder
	for _, e := range rec.Index {
		fmt.Fprintf(&idx, "%s=%s,", e.Name, e.Value)
	}
	if idx.String() != lines[2] {
		return fmt.Errorf("record %q: index entries %q, value says %q", rec.Key, idx.String(), lines[2])
	}
	return nil
}

// crashModel holds the last acknowledged state of every key.
type crashModel struct {
	acked    map[string]crashAck
	maxAcked uint64 // highest version ever acknowledged
	probes   int
	lastMax  uint64 // highest version seen by earlier verifications
}

type crashAck struct {
	version  uint64
	hash     string
	deleting bool // a delete was announced, not acknowledged
	deleted  bool
}

func newCrashModel() *crashModel { return &crashModel{acked: map[string]crashAck{}} }

func (m *crashModel) live() int {
	n := 0
	for _, a := range m.acked {
		if !a.deleted {
			n++
		}
	}
	return n
}

func (m *crashModel) apply(t *testing.T, lines []string) {
	t.Helper()
	for _, line := range lines {
		f := strings.Fields(line)
		switch {
		case len(f) == 1 && f[0] == "ready":
		case len(f) == 2 && f[0] == "d":
			a := m.acked[f[1]]
			a.deleting = true
			m.acked[f[1]] = a
		case len(f) == 2 && f[0] == "D":
			m.acked[f[1]] = crashAck{deleted: true}
		case len(f) == 4 && f[0] == "P":
			v, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				t.Fatalf("bad ack %q", line)
			}
			m.acked[f[1]] = crashAck{version: v, hash: f[3]}
			m.maxAcked = max(m.maxAcked, v)
		default:
			t.Fatalf("bad line from child: %q", line)
		}
	}
}

// verify opens the store in dir and compares it with the model. Each
// acknowledged write must be there: the same version and contents, or a
// later version the child wrote without acknowledging it yet. Every record
// must be consistent with itself and with the index, and a new version
// must be above every version in the store.
func (m *crashModel) verify(dir string) []error {
	s, err := Open(dir, crashOptions)
	if err != nil {
		return []error{fmt.Errorf("reopen: %w", err)}
	}
	defer s.Close()
	recs, errs := allRecords(s)
	var maxVersion uint64
	for _, rec := range recs {
		maxVersion = max(maxVersion, rec.Version)
		if strings.HasPrefix(rec.Key, "probe/") {
			continue
		}
		if err := selfConsistent(rec); err != nil {
			errs = append(errs, err)
		}
	}
	for key, a := range m.acked {
		rec, ok := recs[key]
		switch {
		case a.deleted && ok:
			errs = append(errs, fmt.Errorf("%q: deleted, yet there at v%d", key, rec.Version))
		case a.deleted:
		case !ok && a.deleting:
			m.acked[key] = crashAck{deleted: true} // the delete made it
		case !ok:
			errs = append(errs, fmt.Errorf("%q: acknowledged at v%d, missing", key, a.version))
		case rec.Version < a.version:
			errs = append(errs, fmt.Errorf("%q: acknowledged at v%d, store has older v%d", key, a.version, rec.Version))
		case rec.Version == a.version && recordHash(rec) != a.hash:
			errs = append(errs, fmt.Errorf("%q: v%d holds other contents than acknowledged", key, a.version))
		}
	}
	for key, a := range m.acked {
		if a.deleting {
			a.deleting = false // the next child starts afresh
			m.acked[key] = a
		}
	}
	// Versions are never reissued, also across crashes.
	m.probes++
	v, err := s.Put(context.Background(), core.Record{Key: fmt.Sprintf("probe/%d", m.probes)})
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("probe put: %w", err))
	case v <= maxVersion || v <= m.lastMax || v <= m.maxAcked:
		errs = append(errs, fmt.Errorf("probe got v%d, not above the store's v%d, earlier v%d or acknowledged v%d",
			v, maxVersion, m.lastMax, m.maxAcked))
	}
	m.lastMax = max(m.lastMax, maxVersion, v)
	if err := s.Close(); err != nil && !errors.Is(err, core.ErrClosed) {
		errs = append(errs, fmt.Errorf("close: %w", err))
	}
	return errs
}
