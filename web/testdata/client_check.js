// Checks of sessionkit.js that run in the browser, driven by liveness_test.go.
// runTraces replays liveness traces; checkClient drives a SessionClient over
// a fake socket and a fake clock.
import { FormsClient, Liveness, SessionClient } from '/sessionkit.js';

// runTraces replays each trace on a Liveness and returns what it did: the
// same shape liveness_test.go records from core/liveness.Client.
export function runTraces(traces) {
  return traces.map((tr) => {
    const lv = new Liveness({ interval: tr.interval, ackTimeout: tr.ackTimeout });
    const out = [];
    for (const op of tr.ops) {
      let r;
      switch (op.op) {
        case 'start': lv.start(op.at); r = 'ok'; break;
        case 'tick': r = fmtAction(lv.tick(op.at)); break;
        case 'kick': r = fmtAction(lv.kick(op.at)); break;
        case 'probe': r = fmtAction(lv.probe(op.at)); break;
        case 'ack': r = lv.ack(op.at, op.seq); break;
        default: r = 'unknown op ' + op.op;
      }
      const next = lv.next();
      out.push(`${r} next=${next === null ? -1 : next}`);
    }
    return out;
  });
}

function fmtAction(a) {
  return a.op === 'send' ? `send:${a.seq}` : a.op;
}

// FakeClock is a wall clock the check sets, with timers it fires by hand.
class FakeClock {
  constructor() { this.t = 1_000_000; this.timers = new Map(); this.nextID = 1; }
  now() { return this.t; }
  setTimeout(fn, ms) { const id = this.nextID++; this.timers.set(id, { at: this.t + ms, fn }); return id; }
  clearTimeout(id) { this.timers.delete(id); }
  // armed returns the instants of the pending timers.
  armed() { return [...this.timers.values()].map((x) => x.at - base); }
  // fire runs the timers due at t, as a punctual browser would, after
  // setting the clock to t.
  fire(t) {
    this.t = base + t;
    for (const [id, x] of [...this.timers]) {
      if (x.at <= this.t) { this.timers.delete(id); x.fn(); }
    }
  }
  // fireLate sets the clock to t and runs every pending timer, however
  // early it was due: a throttled tab's timers run late, in a batch.
  fireLate(t) {
    this.t = base + t;
    for (const [id, x] of [...this.timers]) { this.timers.delete(id); x.fn(); }
  }
  set(t) { this.t = base + t; }
}
const base = 1_000_000;

// FakeSocket is a WebSocket whose service the check plays.
class FakeSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 1;
    this.sent = [];
    this.closed = null;
    FakeSocket.all.push(this);
  }
  send(data) { this.sent.push(JSON.parse(data)); }
  close(code, reason) { this.closed = { code, reason }; this.readyState = 3; }
  recv(m) { this.onmessage && this.onmessage({ data: JSON.stringify(m) }); }
  serverClose(code, reason = '') { this.readyState = 3; this.onclose && this.onclose({ code, reason }); }
  last() { return this.sent[this.sent.length - 1]; }
}
FakeSocket.all = [];

function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k) };
}

const settle = () => new Promise((r) => globalThis.setTimeout(r, 0));
const hello = { type: 'hello', protocol: 1, interval_ms: 1000, ack_timeout_ms: 400, liveness_timeout_ms: 7000, login_timeout_ms: 30000 };

let current = null;

// live returns a SessionClient signed in over a fake socket at clock time 0.
// It closes the one before, so that only one listens to the page's events.
async function live(opts = {}) {
  if (current) current.close();
  FakeSocket.all = [];
  const clock = new FakeClock();
  const storage = memoryStorage();
  const c = new SessionClient({ url: 'ws://fake/ws', WebSocket: FakeSocket, clock, storage, reconnect: false, ...opts });
  current = c;
  const statuses = [];
  c.addEventListener('status', (e) => statuses.push(`${e.detail.state}(${e.detail.reason})`));
  clock.set(0);
  const p = c.login({ user: 'ann' });
  const ws = FakeSocket.all[0];
  ws.recv(hello);
  await settle();
  const login = ws.last();
  ws.recv({ type: 'session', rid: login.rid, session: 'q1oEzOdbxw1eA3Zr7ZqGfA', subject: 'ann', state: 'active' });
  await p;
  return { c, clock, ws, statuses, storage, login };
}

// checkClient runs the checks and returns one line per failure.
export async function checkClient() {
  const fails = [];
  const expect = (name, got, want) => {
    const g = JSON.stringify(got), w = JSON.stringify(want);
    if (g !== w) fails.push(`${name}: got ${g}, want ${w}`);
  };

  { // The schedule: first keepalive an interval after the hello, the next an interval after the ack.
    const { c, clock, ws, login } = await live();
    expect('login message', { type: login.type, credentials: login.credentials }, { type: 'login', credentials: { user: 'ann' } });
    expect('status after login', c.status.state, 'live');
    expect('one timer, at the first keepalive', clock.armed(), [1000]);
    clock.fire(999);
    expect('nothing sent before the interval', ws.sent.length, 1);
    clock.fire(1000);
    expect('keepalive 1 at the interval', ws.last(), { type: 'keepalive', seq: 1 });
    expect('one timer, at the ack deadline', clock.armed(), [1400]);
    clock.set(1300);
    ws.recv({ type: 'ack', seq: 1, state: 'active' });
    expect('next keepalive an interval after the ack, not after the send', clock.armed(), [2300]);
    clock.fire(2000);
    expect('nothing at send time + interval', ws.sent.length, 2);
    clock.fire(2300);
    expect('keepalive 2', ws.last(), { type: 'keepalive', seq: 2 });
    clock.set(2400);
    ws.recv({ type: 'ack', seq: 1 });
    expect('a stale ack changes nothing', [c.stats.staleAcks, clock.armed()], [1, [2700]]);
    clock.set(2699);
    ws.recv({ type: 'ack', seq: 2 });
    expect('an ack a millisecond before the deadline is in time', [c.status.state, clock.armed()], ['live', [3699]]);
  }

  { // An ack handled at its deadline is late: the link is lost.
    const { c, clock, ws, statuses } = await live();
    clock.fire(1000);
    clock.set(1400);
    ws.recv({ type: 'ack', seq: 1 });
    expect('late ack: lost', c.status, { state: 'lost', reason: 'connection_lost', code: 0, subject: 'ann' });
    expect('late ack: socket closed with 4000', ws.closed, { code: 4000, reason: 'connection_lost' });
    expect('late ack: no timer left', clock.armed(), []);
    expect('late ack: statuses', statuses, ['connecting()', 'live()', 'lost(connection_lost)']);
  }

  { // No ack at all: the timer finds the deadline passed.
    const { c, clock, ws } = await live();
    clock.fire(1000);
    clock.fire(1400);
    expect('no ack: lost', [c.status.state, c.status.reason, ws.closed && ws.closed.code], ['lost', 'connection_lost', 4000]);
  }

  { // A throttled tab: the timer runs late, but the ack came in time.
    const { c, clock, ws } = await live();
    clock.fire(1000);
    clock.set(1200);
    ws.recv({ type: 'ack', seq: 1 });
    clock.fireLate(61000); // the throttled timer, a minute late, finds the keepalive due
    expect('throttled: still live', c.status.state, 'live');
    expect('throttled: keepalive 2 sent late, deadline from the send', [ws.last(), clock.armed()], [{ type: 'keepalive', seq: 2 }, [61400]]);
  }

  { // A frozen tab: the ack is handled after the deadline, before any timer runs.
    const { c, clock, ws } = await live();
    clock.fire(1000);
    clock.set(5000);
    ws.recv({ type: 'ack', seq: 1 });
    expect('frozen: the wall clock says the ack is late', c.status.reason, 'connection_lost');
  }

  { // Probes are answered at once, from the message handler, and leave the schedule alone.
    const { clock, ws, c } = await live();
    clock.set(500);
    ws.recv({ type: 'probe', seq: 3 });
    expect('probe answered at once', ws.last(), { type: 'probe_reply', seq: 3 });
    expect('probe leaves the timer', clock.armed(), [1000]);
    expect('probe counted', c.stats.probes, 1);
  }

  { // Kicks: send at once unless one is outstanding.
    const { clock, ws } = await live();
    clock.set(300);
    window.dispatchEvent(new Event('online'));
    expect('kick sends at once', ws.last(), { type: 'keepalive', seq: 1 });
    expect('kick arms the ack deadline', clock.armed(), [700]);
    window.dispatchEvent(new PageTransitionEvent('pageshow'));
    document.dispatchEvent(new Event('visibilitychange'));
    expect('no kick while one is outstanding', ws.sent.filter((m) => m.type === 'keepalive').length, 1);
  }

  { // Closes 4000–4499 lose the link; with reconnect the session is resumed.
    const { c, clock, ws, statuses } = await live({ reconnect: true });
    ws.serverClose(4001, 'service_restart');
    expect('4001: lost, then reconnecting', statuses.slice(2), ['lost(service_restart)', 'reconnecting(service_restart)']);
    expect('4001: one timer, for the retry', clock.armed().length, 1);
    const retryAt = clock.armed()[0];
    expect('4001: first retry within the initial backoff', retryAt >= 250 && retryAt <= 500, true);
    clock.fire(retryAt);
    expect('4001: a new socket', FakeSocket.all.length, 2);
    const ws2 = FakeSocket.all[1];
    ws2.serverClose(1006); // still down
    expect('failed attempt: still reconnecting, with the first reason', [c.status.state, c.status.reason], ['reconnecting', 'service_restart']);
    const retry2 = clock.armed()[0];
    expect('failed attempt: the backoff grows', retry2 - retryAt >= 500 && retry2 - retryAt <= 1000, true);
    clock.fire(retry2);
    const ws3 = FakeSocket.all[2];
    ws3.recv(hello);
    await settle();
    const resume = ws3.last();
    expect('resume with the stored token', { type: resume.type, session: resume.session }, { type: 'resume', session: 'q1oEzOdbxw1eA3Zr7ZqGfA' });
    ws3.recv({ type: 'session', rid: resume.rid, session: 'q1oEzOdbxw1eA3Zr7ZqGfA', subject: 'ann', state: 'active' });
    await settle();
    expect('resumed: live', c.status.state, 'live');
    expect('resumed: keepalives start an interval after the hello', clock.armed(), [retry2 + 1000]);
  }

  { // A resume the service refuses because the session ended: ended, no more retries.
    const { c, clock, ws, storage } = await live({ reconnect: true });
    ws.serverClose(4000, 'connection_lost');
    clock.fire(clock.armed()[0]);
    const ws2 = FakeSocket.all[1];
    ws2.recv(hello);
    await settle();
    ws2.recv({ type: 'error', rid: ws2.last().rid, code: 'ended', reason: 'connection_lost' });
    await settle();
    expect('resume refused: ended with the reason', [c.status.state, c.status.reason], ['ended', 'connection_lost']);
    expect('resume refused: token forgotten, no timer', [storage.getItem('sessionkit.session'), clock.armed()], [null, []]);
  }

  { // Closes 4500–4999 end the session: no reconnect, token forgotten.
    const { c, clock, ws, storage } = await live({ reconnect: true });
    ws.recv({ type: 'ended', reason: 'superseded' });
    ws.serverClose(4501, 'superseded');
    expect('ended message: ended', [c.status.state, c.status.reason], ['ended', 'superseded']);
    expect('ended: no reconnect', [FakeSocket.all.length, clock.armed()], [1, []]);
    expect('ended: token forgotten', storage.getItem('sessionkit.session'), null);
  }
  {
    const { c, ws } = await live({ reconnect: true });
    ws.serverClose(4503, 'idle_timeout');
    expect('close 4503 alone: ended', [c.status.state, c.status.reason, c.status.code], ['ended', 'idle_timeout', 4503]);
    expect('close 4503: no reconnect', FakeSocket.all.length, 1);
  }

  { // A dropped socket (no close frame) is a lost connection.
    const { c, ws } = await live();
    ws.serverClose(1006);
    expect('dropped: lost(connection_lost)', [c.status.state, c.status.reason], ['lost', 'connection_lost']);
  }

  { // Logout resolves on the ended message; reset logs in again.
    const { c, ws } = await live();
    const p = c.logout();
    const lo = ws.last();
    expect('logout message', lo.type, 'logout');
    ws.recv({ type: 'ended', reason: 'logout' });
    await p;
    expect('logged out', [c.status.state, c.status.reason, c.hasSession], ['ended', 'logout', false]);
    const again = c.reset();
    const ws2 = FakeSocket.all[1];
    ws2.recv(hello);
    await settle();
    expect('reset logs in with the same credentials', ws2.last().credentials, { user: 'ann' });
    ws2.recv({ type: 'session', rid: ws2.last().rid, session: 'Zm9vYmFyYmF6cXV4cXV1eA', subject: 'ann', state: 'active' });
    await again;
    expect('reset: live', c.status.state, 'live');
  }

  { // Drafts: the request carries the version, the reply resolves the promise.
    const { c, ws } = await live();
    const p = c.saveDraft({ id: 'Zm9vYmFyYmF6cXV4cXV1eA', version: 3, name: 'note', mode: 'auto', data: { text: 'hi' } });
    const m = ws.last();
    expect('draft_save message', m.draft, { name: 'note', mode: 'auto', data: { text: 'hi' }, id: 'Zm9vYmFyYmF6cXV4cXV1eA', version: 3 });
    ws.recv({ type: 'draft_saved', rid: m.rid, draft: { id: 'Zm9vYmFyYmF6cXV4cXV1eA', version: 4, name: 'note', mode: 'auto' } });
    expect('draft saved', (await p).version, 4);
    const q = c.saveDraft({ id: 'Zm9vYmFyYmF6cXV4cXV1eA', version: 3, name: 'note', data: {} });
    ws.recv({ type: 'error', rid: ws.last().rid, code: 'conflict', message: 'stale' });
    expect('stale version', await q.then(() => 'saved', (e) => e.code), 'conflict');
  }

  if (current) current.close();
  return fails;
}

// checkForms drives a FormsClient against the real API at base, on a fake
// clock: the pulse runs only while a form is open, from the answer to the
// last one, and not when turned off or after pagehide.
export async function checkForms(base) {
  const fails = [];
  const expect = (name, got, want) => {
    const g = JSON.stringify(got), w = JSON.stringify(want);
    if (g !== w) fails.push(`${name}: got ${g}, want ${w}`);
  };
  const clock = new FakeClock();
  clock.set(0);
  const c = new FormsClient({ base, clock });
  const statuses = [];
  c.addEventListener('status', (e) => statuses.push(`${e.detail.state}(${e.detail.reason})`));
  const none = await c.current().then(() => 'live', (e) => e.code);
  expect('no session yet', [none, c.status.state], ['session_required', 'idle']);
  await c.login({ user: 'hal' });
  expect('live after login', [c.status.state, c.status.subject], ['live', 'hal']);
  const interval = c.intervalMs;
  expect('interval from the service', interval > 0, true);
  expect('no pulse outside a form', clock.armed(), []);
  c.formOpened();
  expect('pulse armed an interval after opening the form', clock.armed(), [interval]);
  clock.fire(interval);
  clock.set(interval + 5); // the answer comes 5 ms later: the next pulse is due an interval after it
  const t0 = Date.now();
  while (clock.armed().length === 0 && Date.now() - t0 < 5000) await settle(); // the round trip
  expect('pulse sent', c.stats.keepalives, 1);
  expect('next pulse an interval after the answer', clock.armed(), [2 * interval + 5]);
  c.keepalive = false;
  expect('turned off: no pulse', clock.armed(), []);
  c.keepalive = true;
  expect('turned on again', clock.armed().length, 1);
  window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
  expect('pagehide stops the pulse', clock.armed(), []);
  window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
  expect('back from the page cache: pulse at once', clock.armed(), [interval + 5]);
  c.formClosed();
  expect('form closed: no pulse', clock.armed(), []);
  const d = await c.saveDraft({ name: 'claim', mode: 'auto', data: { a: 1 } });
  const d2 = await c.saveDraft({ id: d.id, version: d.version, name: 'claim', mode: 'manual', data: { a: 2 } });
  const stale = await c.saveDraft({ id: d.id, version: d.version, name: 'claim', mode: 'auto', data: { a: 3 } })
    .then(() => 'saved', (e) => e.code);
  expect('stale version refused', stale, 'version_conflict');
  const back = await c.resumeDraft(d2.id);
  expect('draft data back', back.data, { a: 2 });
  await c.logout();
  expect('statuses', statuses, ['idle()', 'live()', 'ended(logout)']);
  return fails;
}
