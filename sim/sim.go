package sim

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/sessionkit/sessionkit/adapters/memstore"
	"github.com/sessionkit/sessionkit/core"
	"github.com/sessionkit/sessionkit/core/liveness"
)

// Epoch is the virtual instant a run starts at. Every run starts at the same
// instant, so logs and IDs repeat.
var Epoch = time.Date(2030, 1, 7, 8, 0, 0, 0, time.UTC)

// StoreFactory opens the durable store of one run. A restart keeps the
// store and starts a fresh Manager over it, as a process restart over a
// durable store does.
type StoreFactory func() (core.Store, error)

// Crasher is an optional interface of a Store that can lose what a real
// crash of its process would lose (unsynced writes). The simulator calls
// Crash when the service crashes.
type Crasher interface {
	Crash()
}

// Reopener is an optional interface of a Store whose process state
// (caches, open files) a restart should drop: at every restart the
// simulator calls Reopen and uses the store it returns, which must hold
// everything the old one made durable. A store without it is kept as is
// across restarts, which is exact for memstore.
type Reopener interface {
	Reopen() (core.Store, error)
}

// LogLevel says how much of a run goes to its event log.
type LogLevel uint8

const (
	// LogLifecycle logs sessions, connections, requests, drafts, faults and
	// oracle findings: enough to follow a run, cheap enough for big ones.
	LogLifecycle LogLevel = iota
	// LogAll adds every keepalive, answer, probe and dropped message.
	LogAll
)

// Options adjust a run. The zero value runs the scenario as written over a
// fresh memstore.
type Options struct {
	// Seed replaces the scenario's seed when non-zero.
	Seed uint64
	// Store opens the store; nil means adapters/memstore.
	Store StoreFactory
	// Mutations break the engine on purpose, to show that the oracles
	// catch it.
	Mutations []Mutation
	// Log sets the detail of the event log (and so of its hash).
	Log LogLevel
	// KeepLog keeps every log line in the Report.
	KeepLog bool
	// Timeline collects what the HTML timeline draws.
	Timeline bool
	// KeepGoing records every oracle failure instead of stopping at the
	// first.
	KeepGoing bool
	// TraceLen bounds the lines of a failure's trace; 0 means 40.
	TraceLen int
	// Progress, if set, is called about once per simulated hour.
	Progress func(Progress)
}

// Progress reports how far a run is.
type Progress struct {
	Scenario string
	Seed     uint64
	Now      time.Duration
	Duration time.Duration
	Events   uint64
	Wall     time.Duration
}

// Stats counts what happened in a run.
type Stats struct {
	Events       uint64
	Messages     uint64
	Dropped      uint64
	Keepalives   uint64
	Acks         uint64
	Probes       uint64
	ServiceLost  uint64
	ClientLost   uint64
	Sessions     int
	Ends         map[core.Reason]int
	Restarts     int
	Sweeps       uint64
	Checkpoints  uint64
	DraftSaves   uint64
	DraftLoads   uint64
	Requests     uint64
	ManagerCalls uint64
}

// Failure is one oracle finding.
type Failure struct {
	Oracle  string
	At      time.Duration
	Client  string
	Session string
	Detail  string
	// Trace is the shortest account of the failure: the last log lines
	// touching its client or session, and the global events among them.
	Trace []string
}

func (f Failure) String() string {
	who := f.Client
	if f.Session != "" {
		who = f.Session
	}
	return fmt.Sprintf("%s %s [%s] %s", stamp(f.At), f.Oracle, who, f.Detail)
}

// ExpectResult is the verdict on one expectation of a scenario.
type ExpectResult struct {
	Source string
	OK     bool
	Detail string
}

// Report is the outcome of one run.
type Report struct {
	Scenario string
	Seed     uint64
	Policy   string
	Clients  int
	// Simulated is how much virtual time ran; Wall how long it took.
	Simulated time.Duration
	Wall      time.Duration
	Stats     Stats
	// LogHash is the SHA-256 of the event log: equal for equal seeds.
	LogHash string
	Log     []string
	// Failures are the oracle findings; ExpectedFailure is set when the
	// scenario expects one (a known bug or a mutation) and it happened.
	Failures        []Failure
	ExpectedFailure bool
	Expectations    []ExpectResult
	// Text is the scenario as run (for random runs, as generated), so a
	// failure can be replayed from a file.
	Text string

	timeline *timeline
}

// OK reports whether the run passed: no unexpected oracle failure and every
// expectation met.
func (r *Report) OK() bool {
	if len(r.Failures) > 0 && !r.ExpectedFailure {
		return false
	}
	for _, e := range r.Expectations {
		if !e.OK {
			return false
		}
	}
	return true
}

// Summary is a one-line account of the run.
func (r *Report) Summary() string {
	verdict := "ok"
	switch {
	case !r.OK():
		verdict = "FAIL"
	case r.ExpectedFailure:
		verdict = "ok (expected failure)"
	}
	return fmt.Sprintf("%s seed=%d policy=%s clients=%d simulated=%s wall=%s events=%d: %s",
		r.Scenario, r.Seed, r.Policy, r.Clients, formatDuration(r.Simulated),
		r.Wall.Round(time.Millisecond), r.Stats.Events, verdict)
}

// RunScenario runs sc once and reports what happened. The error is for a
// run that could not start (a bad scenario, a store that fails to open);
// oracle failures are in the Report.
func RunScenario(ctx context.Context, sc *Scenario, opt Options) (*Report, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	s, err := newSim(ctx, sc, opt)
	if err != nil {
		return nil, err
	}
	return s.run(), nil
}

// RunRandom generates a scenario from seed (see RandomScenario) and runs it.
func RunRandom(ctx context.Context, seed uint64, cfg RandomConfig, opt Options) (*Report, error) {
	sc := RandomScenario(seed, cfg)
	opt.Seed = seed
	return RunScenario(ctx, sc, opt)
}

// vclock is the Manager's clock: the simulator's virtual now. Run is never
// called, so Timer is never needed.
type vclock struct{ s *Sim }

func (c vclock) Now() time.Time { return c.s.wallNow() }

func (c vclock) Timer(time.Duration) *clock.Timer {
	panic("sim: the simulator sweeps the Manager itself; Manager.Run must not be called")
}

// Timer slots shared by the whole run; each client has two more.
const (
	slotService = iota // the liveness.Service timer
	slotSweep          // the Manager sweep
	slotClients        // first client slot
)

func liveSlot(c int32) int32      { return slotClients + 2*c }
func behaviourSlot(c int32) int32 { return slotClients + 2*c + 1 }

// Sim is one run in progress. Everything happens on one goroutine, in the
// order of (virtual time, scheduling order).
type Sim struct {
	ctx  context.Context
	sc   *Scenario
	opt  Options
	seed uint64
	p    core.Policy // effective
	muts mutations

	now   time.Duration
	nowT  time.Time // Epoch+now, cached
	nowAt time.Duration
	seq   uint64
	q     queue // messages and timeline events
	slow  queue // oracle checks, mostly far in the future
	t     *timers

	cl      []client  // every client, in place
	clients []*client // &cl[i], for ranging
	byName  map[string]*client
	srv     server
	mdl     model
	log     logger
	stats   Stats
	fails   []Failure
	stopped bool

	store  core.Store // as the Manager sees it
	base   core.Store // as the factory opened it
	ids    *rand.ChaCha8
	global link          // faults on every client's link
	acts   []actionState // per timeline action
	// health: how long after a fault a client counts as healthy again.
	settle time.Duration

	tl       *timeline
	lastProg time.Duration
	wall     time.Time

	// afterEvent, when set (by tests of this package), runs after every
	// event.
	afterEvent func()
}

func newSim(ctx context.Context, sc *Scenario, opt Options) (*Sim, error) {
	seed := sc.Seed
	if opt.Seed != 0 {
		seed = opt.Seed
	}
	s := &Sim{ctx: ctx, sc: sc, opt: opt, seed: seed, p: sc.Policy.Effective(),
		byName: make(map[string]*client), nowT: Epoch}
	s.muts = newMutations(opt.Mutations)
	s.ids = rand.NewChaCha8(seedBytes(seed, "sessionkit-sim-ids"))

	open := opt.Store
	if open == nil {
		open = func() (core.Store, error) { return memstore.New(), nil }
	}
	st, err := open()
	if err != nil {
		return nil, fmt.Errorf("sim: opening the store: %w", err)
	}
	s.useStore(st)

	s.log.init(opt)
	if opt.Timeline {
		s.tl = newTimeline(sc)
	}
	s.stats.Ends = make(map[core.Reason]int)
	s.acts = make([]actionState, len(sc.Timeline))
	k := s.p.KeepAlive
	s.settle = k.LivenessTimeout + k.AckTimeout + throttle + 2*(sc.LatencyMax+time.Second)
	s.t = newTimers(slotClients + 2*len(sc.Clients))
	s.cl = make([]client, len(sc.Clients))
	for i := range sc.Clients {
		c := &s.cl[i]
		initClient(c, s, int32(i), &sc.Clients[i])
		s.clients = append(s.clients, c)
		s.byName[c.name] = c
	}
	s.mdl.init(s)
	if err := s.srv.init(s); err != nil {
		return nil, err
	}
	return s, nil
}

// schedule queues a one-shot event. Oracle checks, which mostly wait for
// deadlines days away, go to their own heap so that the heap of messages
// in flight stays shallow.
func (s *Sim) schedule(e event) {
	s.seq++
	e.seq = s.seq
	if e.kind == evCheckSession {
		s.slow.push(e)
		return
	}
	s.q.push(e)
}

// next returns the earliest pending event source: a timer slot (>= 0), the
// message queue (-1), the slow queue (-2), or -3 when nothing is pending.
func (s *Sim) next() (src int32, at time.Duration) {
	src, at = -3, 0
	var seq uint64
	better := func(a time.Duration, sq uint64) bool {
		return src == -3 || a < at || a == at && sq < seq
	}
	if slot, a, sq, ok := s.t.top(s.now); ok {
		src, at, seq = slot, a, sq
	}
	if s.q.len() > 0 {
		if e := s.q.top(); better(e.at, e.seq) {
			src, at, seq = -1, e.at, e.seq
		}
	}
	if s.slow.len() > 0 {
		if e := s.slow.top(); better(e.at, e.seq) {
			src, at = -2, e.at
		}
	}
	return src, at
}

// arm sets a timer slot.
func (s *Sim) arm(slot int32, at time.Duration) {
	if at < s.now {
		at = s.now
	}
	s.seq++
	s.t.set(slot, at, s.seq, s.now)
}

func (s *Sim) run() *Report {
	s.wall = time.Now()
	s.log.global(s.now, "run %s seed=%d policy=%s clients=%d duration=%s",
		s.sc.Name, s.seed, s.policyName(), len(s.clients), formatDuration(s.sc.Duration))
	for i, a := range s.sc.Timeline {
		s.schedule(event{at: a.At, kind: evAction, arg: int32(i)})
	}
	for _, c := range s.clients {
		s.schedule(event{at: c.spec.Start, kind: evAction, client: c.idx, arg: -1})
	}
	s.srv.start()

	end := s.sc.Duration
	for !s.stopped {
		src, at := s.next()
		if src == -3 || at > end {
			break
		}
		s.now = at
		s.stats.Events++
		switch src {
		case -1:
			e := s.q.pop()
			s.dispatch(&e)
		case -2:
			e := s.slow.pop()
			s.dispatch(&e)
		default:
			// The slot stays armed while it fires: a handler that
			// re-arms it moves it once, and one that does not is stopped.
			seq := s.t.seqOf(src)
			s.fire(src)
			if s.t.seqOf(src) == seq {
				s.t.stop(src)
			}
		}
		if s.afterEvent != nil {
			s.afterEvent()
		}
		if s.now-s.lastProg >= time.Hour && s.opt.Progress != nil {
			s.lastProg = s.now
			s.opt.Progress(Progress{Scenario: s.sc.Name, Seed: s.seed, Now: s.now, Duration: end,
				Events: s.stats.Events, Wall: time.Since(s.wall)})
		}
	}
	if !s.stopped {
		s.now = end
		s.finish()
	}
	return s.report()
}

func (s *Sim) fire(slot int32) {
	switch slot {
	case slotService:
		s.srv.advance()
	case slotSweep:
		s.srv.sweep()
	default:
		i := (slot - slotClients) / 2
		c := &s.cl[i]
		if (slot-slotClients)%2 == 0 {
			c.fireLive()
		} else {
			c.fireBehaviour()
		}
	}
}

func (s *Sim) dispatch(e *event) {
	switch e.kind {
	case evToServer:
		s.srv.receive(e)
	case evToClient:
		s.cl[e.client].receive(e)
	case evAction:
		if e.arg < 0 {
			s.clients[e.client].open("tab opened")
			return
		}
		s.startAction(int(e.arg))
	case evActionEnd:
		s.endAction(int(e.arg))
	case evFlap:
		s.flap(int(e.arg))
	case evServerUp:
		s.srv.up()
	case evCheckSession:
		s.mdl.checkLingering(e.arg)
	}
}

func (s *Sim) policyName() string {
	if len(s.sc.Overrides) == 0 {
		return s.sc.Preset
	}
	name := s.sc.Preset
	for _, o := range s.sc.Overrides {
		name += " " + o
	}
	return name
}

// fail records an oracle failure and, unless KeepGoing, stops the run.
func (s *Sim) fail(oracle string, c *client, sess int32, format string, args ...any) {
	f := Failure{Oracle: oracle, At: s.now, Detail: fmt.Sprintf(format, args...)}
	if c != nil {
		f.Client = c.name
	}
	if sess >= 0 {
		f.Session = s.mdl.sess[sess].label
		if c == nil {
			if ci := s.mdl.sess[sess].client; ci >= 0 {
				f.Client = s.clients[ci].name
			}
		}
	}
	s.log.add(s.now, clientIdx(c), sess, "ORACLE %s: %s", oracle, f.Detail)
	f.Trace = s.log.trace(clientIdx(c), sess, s.traceLen())
	s.fails = append(s.fails, f)
	if !s.opt.KeepGoing {
		s.stopped = true
	}
}

func (s *Sim) traceLen() int {
	if s.opt.TraceLen > 0 {
		return s.opt.TraceLen
	}
	return 40
}

func clientIdx(c *client) int32 {
	if c == nil {
		return -1
	}
	return c.idx
}

// finish runs the checks that need the run to be over: agreement between
// clients and service, acknowledged drafts, and the scenario's
// expectations.
func (s *Sim) finish() {
	s.srv.drain()
	if s.stopped {
		return
	}
	s.checkAgreement()
	if s.stopped {
		return
	}
	s.mdl.checkDrafts("at the end")
}

func (s *Sim) report() *Report {
	r := &Report{
		Scenario: s.sc.Name, Seed: s.seed, Policy: s.policyName(), Clients: len(s.clients),
		Simulated: s.now, Wall: time.Since(s.wall), Stats: s.stats, Failures: s.fails,
		LogHash: s.log.sum(), Log: s.log.lines, Text: s.sc.String(), timeline: s.tl,
	}
	r.Stats.Sessions = len(s.mdl.sess)
	if s.tl != nil {
		s.tl.finish(s)
	}
	s.evaluate(r)
	return r
}

// useStore makes base the run's store, wrapped by the mutations and
// optional oracles that sit between the Manager and the store.
func (s *Sim) useStore(base core.Store) {
	s.base = base
	s.store = s.muts.wrapStore(base)
	if slices.Contains(s.sc.Oracles, "checkpoint-rate") {
		s.store = newCheckpointWatch(s.store, s)
	}
}

// wallNow is the virtual now as a time.Time.
func (s *Sim) wallNow() time.Time {
	if s.nowAt != s.now {
		s.nowT, s.nowAt = Epoch.Add(s.now), s.now
	}
	return s.nowT
}

// settleFor is how long after a fault a client counts as healthy again.
func (s *Sim) settleFor() time.Duration { return s.settle }

// newHash is the log hash.
func newHash() hash.Hash { return sha256.New() }

// interval returns the keepalive interval the service announces.

// serviceConfig is the liveness configuration the service runs with, from
// the policy.
func (s *Sim) serviceConfig() liveness.ServiceConfig {
	k := s.p.KeepAlive
	return liveness.ServiceConfig{Interval: k.Interval, LivenessTimeout: k.LivenessTimeout}
}
