// sessionkit.js: the browser client of sessionkit. A plain ES module with no
// build step and no dependencies.
//
//   SessionClient     a session over the WebSocket protocol (docs/protocol.md):
//                     login, resume, keepalives by the liveness rules, drafts,
//                     logout, reconnect with backoff.
//   FormsClient       a session over the HTTP API (docs/http-api.md), with the
//                     keepalive pulse that runs only while a form is open.
//   DraftAutosave     debounced autosave and manual save of a form's draft,
//                     with version handling, over either client.
//   Liveness          the client keepalive machine, the same rules as the Go
//                     core/liveness.Client.
//   <sessionkit-status>  a status bar: live, reconnecting, lost, ended, and why.
//
// Both clients dispatch a 'status' event whose detail is their status:
// {state, reason, code, subject}. States: 'idle' (not signed in),
// 'connecting', 'live', 'reconnecting', 'lost', 'ended', 'closed'.

// Close codes of the service (docs/protocol.md, "Close codes").
const CLOSE_REASONS = {
  4000: 'connection_lost',
  4001: 'service_restart',
  4002: 'login_timeout',
  4003: 'slow_consumer',
  4500: 'logout',
  4501: 'superseded',
  4502: 'expired',
  4503: 'idle_timeout',
  4504: 'revoked',
  4505: 'auth_timeout',
  4506: 'max_auth_age',
  4507: 'not_started_pruned',
};

/** mayReconnect reports whether a close code lets the client resume (4000–4499). */
export function mayReconnect(code) { return code >= 4000 && code < 4500; }

/** mustLogIn reports whether a close code ends the session (4500–4999). */
export function mustLogIn(code) { return code >= 4500 && code < 5000; }

/**
 * closeReason returns the reason of a close code: the table's, else the
 * close frame's text for a session end, else connection_lost.
 */
export function closeReason(code, text) {
  if (CLOSE_REASONS[code]) return CLOSE_REASONS[code];
  if (mustLogIn(code) && text) return text;
  return 'connection_lost';
}

/** SessionError is a request the service refused: its error code and reason. */
export class SessionError extends Error {
  constructor(code, message, reason = '', status = 0) {
    super(message || code);
    this.name = 'SessionError';
    this.code = code;
    this.reason = reason;
    this.status = status; // the HTTP status, for FormsClient
  }
}

/**
 * Liveness is the keepalive state machine of one connection, with the rules
 * of core/liveness.Client. It reads no clock: every method takes now (in
 * milliseconds), and the caller keeps one timer armed for next().
 *
 * - start(now): the first keepalive is due at now + interval.
 * - At most one keepalive is outstanding; sending it arms the ack deadline
 *   at the send time + ackTimeout.
 * - An ack strictly before the deadline schedules the next keepalive at the
 *   ack's time + interval: the schedule follows the answers, never a
 *   free-running timer.
 * - At or after the deadline with no ack the link is lost. Every method
 *   checks this against its own now first, so an ack handled after the
 *   deadline is lost even if the timer has not fired (a throttled tab).
 *   Lost is terminal.
 * - probe(now) answers at once; it leaves the schedule alone.
 * - kick(now) sends at once unless a keepalive is outstanding.
 */
export class Liveness {
  constructor({ interval, ackTimeout = 0 }) {
    if (!(interval > 0)) throw new RangeError('sessionkit: interval must be positive');
    if (!ackTimeout) ackTimeout = Math.min(10000, interval / 2);
    if (!(ackTimeout > 0) || ackTimeout >= interval) {
      throw new RangeError(`sessionkit: ackTimeout ${ackTimeout} must be positive and below the interval ${interval}`);
    }
    this.interval = interval;
    this.ackTimeout = ackTimeout;
    this.seq = 0;             // last sequence number sent
    this._state = 'new';      // new | waiting | outstanding | lost
    this._nextSend = 0;
    this._ackDeadline = 0;
  }

  get lost() { return this._state === 'lost'; }
  get outstanding() { return this._state === 'outstanding'; }

  start(now) {
    if (this._state !== 'new') return;
    this._state = 'waiting';
    this._nextSend = now + this.interval;
  }

  /** next returns when tick should run next, or null when no timer is needed. */
  next() {
    if (this._state === 'waiting') return this._nextSend;
    if (this._state === 'outstanding') return this._ackDeadline;
    return null;
  }

  _expire(now) {
    if (this._state === 'outstanding' && now >= this._ackDeadline) this._state = 'lost';
    return this._state === 'lost';
  }

  _send(now) {
    this.seq++;
    this._state = 'outstanding';
    this._ackDeadline = now + this.ackTimeout;
    return { op: 'send', seq: this.seq };
  }

  /** tick is the timer callback: {op: 'send', seq}, {op: 'lost'} or {op: 'none'}. */
  tick(now) {
    if (this._expire(now)) return { op: 'lost' };
    if (this._state === 'waiting' && now >= this._nextSend) return this._send(now);
    return { op: 'none' };
  }

  /** ack handles the answer to keepalive seq: 'accepted', 'stale' or 'lost'. */
  ack(now, seq) {
    if (this._expire(now)) return 'lost';
    if (this._state !== 'outstanding' || seq !== this.seq) return 'stale';
    this._state = 'waiting';
    this._nextSend = now + this.interval;
    return 'accepted';
  }

  /** probe handles a probe: {op: 'reply'}, or {op: 'lost'} past the ack deadline. */
  probe(now) {
    return this._expire(now) ? { op: 'lost' } : { op: 'reply' };
  }

  /** kick sends now unless a keepalive is outstanding (or before start). */
  kick(now) {
    if (this._expire(now)) return { op: 'lost' };
    if (this._state === 'waiting') return this._send(now);
    return { op: 'none' };
  }
}

// realClock is the wall clock. Deadlines are checked against Date.now(),
// not against when a timer fires: browsers throttle the timers of hidden
// tabs to once a minute.
const realClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (id) => globalThis.clearTimeout(id),
};

// memoryStorage stands in when sessionStorage is unavailable (a sandboxed
// frame); the token then lives as long as the page.
function memoryStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => m.set(k, String(v)),
    removeItem: (k) => m.delete(k),
  };
}

function defaultStorage() {
  try {
    const s = globalThis.sessionStorage;
    if (s) return s;
  } catch { /* blocked by the browser's settings */ }
  return memoryStorage();
}

// wsURL resolves url against the page: 'ws' next to the page becomes
// ws://host/dir/ws, and https pages get wss.
function wsURL(url) {
  const base = globalThis.location ? globalThis.location.href : undefined;
  const u = new URL(url, base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  return u.href;
}

// Error codes of a resume that mean the session is over: log in again.
const RESUME_OVER = new Set(['ended', 'expired', 'not_found', 'invalid_id']);

// Events on which the link may have changed under the page: send a
// keepalive at once if none is outstanding (Liveness.kick).
const KICK_EVENTS = [['document', 'visibilitychange'], ['window', 'pageshow'], ['window', 'online']];

/**
 * SessionClient keeps a session over the sessionkit WebSocket protocol.
 *
 *   const c = new SessionClient({url: 'ws'});
 *   c.addEventListener('status', (e) => show(e.detail));
 *   await c.start();                    // resumes a stored session, if any
 *   await c.login({user: 'ann'});       // or signs in
 *
 * Options:
 *   url          the WebSocket endpoint, relative to the page ('ws') or absolute
 *   credentials  used by start() when there is no session to resume, and by reset()
 *   storage      where the session token is kept for resume (sessionStorage:
 *                one session per tab; never a cookie or the URL)
 *   storageKey   the key in storage
 *   reconnect    after a lost link (close 4000–4499 or a dropped socket),
 *                reconnect with backoff and resume the session (default true)
 *   backoff      {initial: 500, max: 30000} milliseconds between attempts
 *   WebSocket, clock   seams for tests
 */
export class SessionClient extends EventTarget {
  constructor({
    url = 'ws', credentials = null, storage = defaultStorage(), storageKey = 'sessionkit.session',
    reconnect = true, backoff = {}, WebSocket: WS = globalThis.WebSocket, clock = realClock,
  } = {}) {
    super();
    this.url = url;
    this.reconnect = reconnect;
    this.backoff = { initial: 500, max: 30000, ...backoff };
    this.storage = storage;
    this.storageKey = storageKey;
    this._credentials = credentials;
    this._WS = WS;
    this._clock = clock;
    this._last = 0;            // the latest now seen: times never go backwards
    this._ws = null;
    this._hello = null;        // {promise, resolve, reject} for the current socket's hello
    this._lv = null;
    this._timer = null;        // the one timer: liveness deadline or reconnect
    this._retryAt = null;
    this._attempt = 0;
    this._rid = 0;
    this._pending = new Map(); // rid → {type, resolve, reject}
    this._listening = false;
    this._status = { state: 'idle', reason: '', code: 0, subject: '' };
    /** session is what the service last said about the session (no token). */
    this.session = null;
    /** stats counts keepalive traffic. */
    this.stats = { keepalives: 0, acks: 0, staleAcks: 0, probes: 0 };
    this._kick = (e) => this._onKick(e);
  }

  /** status is {state, reason, code, subject, attempt, retryAt}. */
  get status() { return { ...this._status }; }

  /** hasSession reports whether a session token is stored for resume. */
  get hasSession() { return this._token() !== null; }

  /**
   * start resumes the stored session, else logs in with the credentials
   * option, else stays idle until login(). It resolves with the session, or
   * null when idle.
   */
  async start() {
    if (this.hasSession) return this.resume();
    if (this._credentials) return this.login(this._credentials);
    return null;
  }

  /** login signs in with credentials and resolves with the session. */
  async login(credentials) {
    this._credentials = credentials;
    this._cancelRetry();
    if (!this._live()) this._setStatus({ state: 'connecting' });
    try {
      await this._open();
      const reply = await this._request({ type: 'login', credentials });
      return this._started(reply);
    } catch (err) {
      if (!this._live() && this._status.state === 'connecting') {
        // Refused credentials leave no session; do not keep a socket the
        // service would close for a login timeout.
        this._drop();
        this._setStatus({ state: 'idle', reason: err.code || '' });
      }
      throw err;
    }
  }

  /** resume continues the stored session on a new connection. */
  async resume() {
    const token = this._token();
    if (token === null) throw new SessionError('no_session', 'sessionkit: no session to resume');
    if (this._live()) return { ...this.session };
    this._cancelRetry();
    if (this._status.state !== 'reconnecting') this._setStatus({ state: 'connecting' });
    try {
      await this._open();
      const reply = await this._request({ type: 'resume', session: token });
      return this._started(reply);
    } catch (err) {
      if (!(err instanceof SessionError)) throw err;
      if (RESUME_OVER.has(err.code)) {
        this._forget();
        this._drop();
        this._cancelRetry();
        this._setStatus({ state: 'ended', reason: err.reason || err.code });
      } else if (err.code !== 'closed' && err.code !== 'not_connected') {
        // Refused for now (the service is shutting down, say): the link
        // is no use, and a later attempt may succeed.
        this._lost(err.code === 'unavailable' ? 'service_restart' : 'connection_lost', 0);
      }
      throw err;
    }
  }

  /**
   * logout ends the session; it resolves once the service confirmed it.
   * Without a connection it can only forget the session here: the service
   * then ends it by its own rules.
   */
  async logout() {
    if (!this._live()) {
      this._forget();
      this._drop();
      this._cancelRetry();
      this._setStatus({ state: 'ended', reason: 'logout' });
      return;
    }
    await this._request({ type: 'logout' });
  }

  /**
   * saveDraft saves in-progress work; it resolves once the save is durable
   * with the draft {id, version, name, mode, updated_at}. Name the version
   * last saved or loaded; a stale one fails with code 'conflict'.
   */
  async saveDraft({ id, version, name, mode = 'manual', data }) {
    const draft = { name, mode, data };
    if (id) draft.id = id;
    if (version) draft.version = version;
    const reply = await this._request({ type: 'draft_save', draft });
    return reply.draft;
  }

  /** reset forgets the session and logs in again with the last credentials. */
  async reset() {
    this._forget();
    this._drop();
    this._cancelRetry();
    this.session = null;
    if (!this._credentials) {
      this._setStatus({ state: 'idle' });
      return null;
    }
    return this.login(this._credentials);
  }

  /** close closes the connection without logging out and stops everything. */
  close() {
    this._drop();
    this._cancelRetry();
    this._listen(false);
    this._setStatus({ state: 'closed' });
  }

  // --- connection ---

  _now() {
    const t = this._clock.now();
    if (t > this._last) this._last = t;
    return this._last;
  }

  _token() {
    try { return this.storage.getItem(this.storageKey); } catch { return null; }
  }

  _forget() {
    try { this.storage.removeItem(this.storageKey); } catch { /* nothing to forget */ }
  }

  _live() { return this._status.state === 'live' && this._ws !== null; }

  // _open opens a socket unless one is open or opening, and resolves at
  // its hello.
  _open() {
    if (this._hello) return this._hello.promise;
    this._listen(true);
    const h = {};
    h.promise = new Promise((resolve, reject) => { h.resolve = resolve; h.reject = reject; });
    h.promise.catch(() => {}); // a failed open is reported through the request that waited
    this._hello = h;
    const ws = new this._WS(wsURL(this.url));
    this._ws = ws;
    ws.onmessage = (e) => { if (ws === this._ws) this._onMessage(e); };
    ws.onclose = (e) => { if (ws === this._ws) this._onClose(e); };
    ws.onerror = () => {}; // a close event follows
    return h.promise;
  }

  // _drop closes the socket without reporting anything: the caller sets
  // the status.
  _drop(code = 1000, reason = '') {
    const ws = this._ws;
    this._ws = null;
    this._lv = null;
    this._failAll(new SessionError('closed', 'sessionkit: connection closed'));
    this._arm();
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(code, reason); } catch { /* already closed */ }
    }
  }

  _failAll(err) {
    if (this._hello) { this._hello.reject(err); this._hello = null; }
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const p of pending) p.reject(err);
  }

  _request(msg) {
    if (!this._ws || this._ws.readyState !== 1) {
      return Promise.reject(new SessionError('not_connected', 'sessionkit: not connected'));
    }
    const rid = ++this._rid;
    return new Promise((resolve, reject) => {
      this._pending.set(rid, { type: msg.type, resolve, reject });
      this._send({ ...msg, rid });
    });
  }

  _send(msg) {
    try { this._ws.send(JSON.stringify(msg)); } catch { /* the close event reports it */ }
  }

  _started(reply) {
    this.session = {
      subject: reply.subject || '', state: reply.state,
      deadline: reply.deadline || '', deadlineReason: reply.deadline_reason || '',
    };
    try { this.storage.setItem(this.storageKey, reply.session); } catch { /* storage full or blocked */ }
    this._attempt = 0;
    this._setStatus({ state: 'live', subject: this.session.subject });
    return { ...this.session };
  }

  _onMessage(e) {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    if (!m || typeof m.type !== 'string') return;
    const now = this._now();
    switch (m.type) {
      case 'hello': return this._onHello(now, m);
      case 'ack': return this._onAck(now, m);
      case 'probe': return this._onProbe(now, m);
      case 'session':
      case 'draft_saved':
      case 'error': return this._onReply(m);
      case 'ended': return this._onEnded(m.reason || 'ended', 0);
    }
    // Fields and types this version does not know are ignored.
  }

  _onHello(now, m) {
    if (m.interval_ms > 0) {
      try {
        this._lv = new Liveness({ interval: m.interval_ms, ackTimeout: m.ack_timeout_ms || 0 });
      } catch {
        this._lose('protocol_error');
        return;
      }
      this._lv.start(now);
      this._arm();
    }
    if (this._hello) this._hello.resolve(m);
  }

  _onAck(now, m) {
    if (!this._lv) return;
    const r = this._lv.ack(now, m.seq);
    if (r === 'lost') return this._lose('connection_lost');
    if (r === 'stale') { this.stats.staleAcks++; return; }
    this.stats.acks++;
    if (this.session && m.state) {
      this.session.state = m.state;
      this.session.deadline = m.deadline || '';
      this.session.deadlineReason = m.deadline_reason || '';
    }
    this._arm();
  }

  // _onProbe answers at once, from the message handler: a hidden tab's
  // timers may be throttled, its message handlers are not.
  _onProbe(now, m) {
    const act = this._lv ? this._lv.probe(now) : { op: 'reply' };
    if (act.op === 'lost') return this._lose('connection_lost');
    this.stats.probes++;
    this._send({ type: 'probe_reply', seq: m.seq });
  }

  _onReply(m) {
    const p = this._pending.get(m.rid);
    if (!p) {
      if (m.type === 'error') this.dispatchEvent(new CustomEvent('protocolerror', { detail: m }));
      return;
    }
    this._pending.delete(m.rid);
    if (m.type === 'error') p.reject(new SessionError(m.code, m.message, m.reason));
    else p.resolve(m);
  }

  // _onEnded: the session is over; the service closes the socket next.
  _onEnded(reason, code) {
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const p of pending) {
      if (p.type === 'logout' && reason === 'logout') p.resolve(reason);
      else p.reject(new SessionError('ended', `sessionkit: session ended: ${reason}`, reason));
    }
    this._forget();
    this._drop(1000);
    this._cancelRetry();
    this._setStatus({ state: 'ended', reason, code });
  }

  _onClose(e) {
    if (mustLogIn(e.code)) return this._onEnded(closeReason(e.code, e.reason), e.code);
    this._lost(mayReconnect(e.code) ? closeReason(e.code, e.reason) : 'connection_lost', e.code);
  }

  // _lose: the client itself found the link dead (a late ack). It drops
  // the socket, telling the service why if it still listens.
  _lose(reason) {
    this._lost(reason, 0, 4000, reason);
  }

  _lost(reason, code, closeCode = 1000, closeText = '') {
    const wasReconnecting = this._status.state === 'reconnecting';
    this._drop(closeCode, closeText);
    const retry = this.reconnect && this.hasSession;
    if (wasReconnecting && retry) {
      // A failed attempt: keep showing why the link went in the first place.
      this._scheduleRetry(this._status.reason, this._status.code);
      return;
    }
    this._setStatus({ state: 'lost', reason, code });
    if (retry) this._scheduleRetry(reason, code);
  }

  // --- reconnect ---

  _scheduleRetry(reason, code) {
    const b = this.backoff;
    const cap = Math.min(b.max, b.initial * 2 ** Math.min(this._attempt, 16));
    const delay = cap / 2 + Math.random() * cap / 2; // jitter: tabs restarted together do not retry together
    this._attempt++;
    this._retryAt = this._now() + delay;
    this._setStatus({ state: 'reconnecting', reason, code, attempt: this._attempt, retryAt: this._retryAt });
    this._arm();
  }

  _cancelRetry() {
    if (this._retryAt === null) return;
    this._retryAt = null;
    this._arm();
  }

  _retry() {
    this._retryAt = null;
    this.resume().catch(() => {}); // the status tells what happened
  }

  // --- the one timer ---

  // _arm arms the one timer at the earliest wall-clock instant something is
  // due: the liveness machine's next send or ack deadline, or a reconnect.
  _arm() {
    if (this._timer !== null) this._clock.clearTimeout(this._timer);
    this._timer = null;
    let at = this._lv && this._ws ? this._lv.next() : null;
    if (this._retryAt !== null && (at === null || this._retryAt < at)) at = this._retryAt;
    if (at === null) return;
    this._timer = this._clock.setTimeout(() => this._onTimer(), Math.max(0, at - this._now()));
  }

  _onTimer() {
    this._timer = null;
    const now = this._now();
    if (this._retryAt !== null && now >= this._retryAt) {
      this._retry();
      return;
    }
    if (this._lv && this._ws) {
      const act = this._lv.tick(now);
      if (act.op === 'lost') return this._lose('connection_lost');
      if (act.op === 'send') this._sendKeepalive(act.seq);
    }
    this._arm();
  }

  _sendKeepalive(seq) {
    this.stats.keepalives++;
    this._send({ type: 'keepalive', seq });
  }

  _onKick(e) {
    if (e && e.type === 'visibilitychange' && globalThis.document && document.visibilityState !== 'visible') return;
    const now = this._now();
    if (this._retryAt !== null) { // waiting to reconnect: the network may be back
      this._retry();
      return;
    }
    if (!this._lv || !this._ws) return;
    const act = this._lv.kick(now);
    if (act.op === 'lost') return this._lose('connection_lost');
    if (act.op === 'send') { this._sendKeepalive(act.seq); this._arm(); }
  }

  _listen(on) {
    if (on === this._listening) return;
    this._listening = on;
    for (const [where, type] of KICK_EVENTS) {
      const target = where === 'document' ? globalThis.document : globalThis.window;
      if (!target) continue;
      if (on) target.addEventListener(type, this._kick);
      else target.removeEventListener(type, this._kick);
    }
  }

  _setStatus(s) {
    this._status = { state: s.state, reason: s.reason || '', code: s.code || 0,
      subject: s.subject || (this.session && s.state !== 'idle' ? this.session.subject : '') };
    if (s.attempt) { this._status.attempt = s.attempt; this._status.retryAt = s.retryAt; }
    this.dispatchEvent(new CustomEvent('status', { detail: this.status }));
  }
}

// HTTP error codes that say the session token is no use: log in again.
const HTTP_SESSION_OVER = new Set(['session_ended', 'session_expired', 'session_not_found', 'invalid_token']);

/**
 * FormsClient keeps a session over the sessionkit HTTP API. The session
 * token is the HttpOnly cookie the API sets; this script never sees it.
 *
 * While a form is in progress (formOpened() until formClosed()) it sends a
 * keepalive pulse, POST /session/keepalive, every interval: the interval the
 * service announces (header Sessionkit-Keepalive-Interval-Ms), the next pulse
 * scheduled from the answer to the last. The pulse can be turned off
 * (keepalive = false) and stops when the page is hidden for good (pagehide).
 * Outside forms there is no pulse.
 *
 * Options: base (the API's path, 'api' next to the page), keepalive (default
 * true), clock (a seam for tests).
 */
export class FormsClient extends EventTarget {
  constructor({ base = 'api', keepalive = true, clock = realClock } = {}) {
    super();
    this.base = base.replace(/\/+$/, '');
    this._keepalive = keepalive;
    this._clock = clock;
    this._credentials = null;
    this._inForm = false;
    this._paused = false;     // pagehide until pageshow
    this._timer = null;
    this._status = { state: 'idle', reason: '', code: 0, subject: '' };
    /** intervalMs is the keepalive interval the service last announced. */
    this.intervalMs = 0;
    /** session is the SessionReply's session, without a token. */
    this.session = null;
    this.stats = { keepalives: 0 };
    if (globalThis.window) {
      window.addEventListener('pagehide', () => { this._paused = true; this._stopPulse(); });
      window.addEventListener('pageshow', (e) => {
        this._paused = false;
        if (e.persisted) this._schedulePulse(0); // back from the cache: pulse at once
      });
    }
  }

  get status() { return { ...this._status }; }

  /** keepalive says whether the pulse runs while a form is open. */
  get keepalive() { return this._keepalive; }
  set keepalive(on) {
    this._keepalive = !!on;
    if (this._keepalive) this._schedulePulse(this.intervalMs);
    else this._stopPulse();
  }

  /** current loads the session the cookie names; a read, not activity. */
  async current() {
    const r = await this._fetch('GET', '/session');
    return this._started(r);
  }

  async login(credentials) {
    this._credentials = credentials;
    const r = await this._fetch('POST', '/session/login', credentials);
    return this._started(r);
  }

  async logout() {
    this._stopPulse();
    this._inForm = false;
    try {
      await this._fetch('POST', '/session/logout');
    } finally {
      this.session = null;
      this._setStatus({ state: 'ended', reason: 'logout' });
    }
  }

  /** reset logs in again with the last credentials, or goes idle. */
  async reset() {
    this.session = null;
    if (!this._credentials) { this._setStatus({ state: 'idle' }); return null; }
    return this.login(this._credentials);
  }

  /** drafts lists the drafts of the session's owner, newest first, without data. */
  async drafts() { return (await this._fetch('GET', '/session/drafts')).drafts; }

  async loadDraft(id) { return (await this._fetch('GET', `/session/drafts/${encodeURIComponent(id)}`)).draft; }

  /** resumeDraft takes an open draft up in this session and returns it with its data. */
  async resumeDraft(id) {
    return (await this._fetch('POST', `/session/drafts/${encodeURIComponent(id)}/resume`)).draft;
  }

  /** saveDraft creates (no id) or updates a draft; a stale version fails with 'version_conflict'. */
  async saveDraft({ id, version, name, mode = 'manual', data }) {
    if (id) {
      return (await this._fetch('PUT', `/session/drafts/${encodeURIComponent(id)}`, { version, name, mode, data })).draft;
    }
    return (await this._fetch('POST', '/session/drafts', { name, mode, data })).draft;
  }

  async closeDraft(id, version) {
    return (await this._fetch('POST', `/session/drafts/${encodeURIComponent(id)}/close`, { version })).draft;
  }

  /** formOpened starts the pulse: a form is in progress. */
  formOpened() {
    if (this._inForm) return;
    this._inForm = true;
    this._schedulePulse(this.intervalMs);
  }

  /** formClosed stops the pulse. */
  formClosed() {
    this._inForm = false;
    this._stopPulse();
  }

  // --- pulse ---

  _schedulePulse(delay) {
    this._stopPulse();
    if (!this._inForm || !this._keepalive || this._paused || !(this.intervalMs > 0)) return;
    if (this._status.state !== 'live') return;
    this._timer = this._clock.setTimeout(() => this._pulse(), Math.max(0, delay));
  }

  _stopPulse() {
    if (this._timer !== null) this._clock.clearTimeout(this._timer);
    this._timer = null;
  }

  async _pulse() {
    this._timer = null;
    this.stats.keepalives++;
    try {
      const r = await this._fetch('POST', '/session/keepalive');
      if (this.session && r.deadline) this.session.deadline = r.deadline;
    } catch (err) {
      if (err.code === 'keepalive_disabled') { this.intervalMs = 0; return; }
      if (this._status.state !== 'live') return;
      // A network failure: try again after the interval.
    }
    this._schedulePulse(this.intervalMs);
  }

  // --- requests ---

  _started(reply) {
    this.session = reply.session;
    this._setStatus({ state: 'live', subject: reply.session.subject || '' });
    if (this._inForm) this._schedulePulse(this.intervalMs);
    return reply.session;
  }

  async _fetch(method, path, body) {
    const init = { method, credentials: 'same-origin', cache: 'no-store', headers: {} };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(this.base + path, init);
    const interval = res.headers.get('Sessionkit-Keepalive-Interval-Ms');
    if (interval !== null && interval !== '') this.intervalMs = Number(interval);
    const reply = res.status === 204 ? null : await res.json().catch(() => null);
    if (reply && typeof reply.keepalive_interval_ms === 'number') this.intervalMs = reply.keepalive_interval_ms;
    if (res.ok) return reply;
    const e = (reply && reply.error) || { code: '', message: `HTTP ${res.status}` };
    const err = new SessionError(e.code, e.message, e.reason || '', res.status);
    if (res.status === 401 && e.code === 'session_required') {
      this._stopPulse();
      this._setStatus({ state: 'idle' });
    } else if (res.status === 401 && HTTP_SESSION_OVER.has(e.code)) {
      this._stopPulse();
      this.session = null;
      this._setStatus({ state: 'ended', reason: e.reason || e.code.replace(/^session_/, '') });
    }
    throw err;
  }

  _setStatus(s) {
    this._status = { state: s.state, reason: s.reason || '', code: 0, subject: s.subject || '' };
    this.dispatchEvent(new CustomEvent('status', { detail: this.status }));
  }
}

/**
 * DraftAutosave saves a form's work as a draft: automatically, debounced,
 * after the user stops typing, and on demand (save('manual')). One save is
 * in flight at a time, each naming the version the last one returned. A
 * save that finds the draft changed elsewhere (a conflict) stops autosave
 * and dispatches 'conflict'. It works with SessionClient and FormsClient.
 *
 * Events: 'state' (detail {state: 'clean'|'pending'|'saving'|'saved'|'error'|
 * 'conflict', draft, error}).
 */
export class DraftAutosave extends EventTarget {
  constructor(client, { name = 'form', read, delay = 800, clock = realClock }) {
    super();
    this.client = client;
    this.name = name;
    this.read = read;
    this.delay = delay;
    this._clock = clock;
    this._timer = null;
    this._chain = Promise.resolve();
    this._saved = null; // the JSON of the data last saved
    /** draft is the draft as last saved or loaded: {id, version, ...}. */
    this.draft = null;
    this.state = 'clean';
  }

  /** attach autosaves on every input event inside el. */
  attach(el) {
    el.addEventListener('input', () => this.schedule());
    return this;
  }

  /** load takes up a draft loaded or resumed from the service. */
  load(draft) {
    this.draft = draft;
    this._saved = draft.data === undefined ? null : JSON.stringify(draft.data);
    this._setState('saved');
  }

  /** schedule saves after delay without further calls. */
  schedule() {
    if (this.state === 'conflict') return;
    if (this._timer !== null) this._clock.clearTimeout(this._timer);
    this._setState('pending');
    this._timer = this._clock.setTimeout(() => { this._timer = null; this.save('auto'); }, this.delay);
  }

  /** save saves now; mode 'auto' skips data that is already saved. */
  save(mode = 'manual') {
    if (this._timer !== null) { this._clock.clearTimeout(this._timer); this._timer = null; }
    const run = () => this._save(mode);
    this._chain = this._chain.then(run, run);
    return this._chain;
  }

  async _save(mode) {
    if (this.state === 'conflict' && mode === 'auto') return this.draft;
    const data = this.read();
    const json = JSON.stringify(data);
    if (mode === 'auto' && json === this._saved) { this._setState('saved'); return this.draft; }
    this._setState('saving');
    try {
      const d = this.draft || {};
      const saved = await this.client.saveDraft({ id: d.id, version: d.version, name: this.name, mode, data });
      this.draft = saved;
      this._saved = json;
      this._setState(this._timer !== null ? 'pending' : 'saved');
      return saved;
    } catch (err) {
      const conflict = err.code === 'version_conflict' || err.code === 'conflict';
      this._setState(conflict ? 'conflict' : 'error', err);
      throw err;
    }
  }

  _setState(state, error = null) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, draft: this.draft, error } }));
  }
}

// --- the status bar ---

const STATE_LABELS = {
  idle: 'Not signed in',
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  lost: 'Connection lost',
  ended: 'Session ended',
  closed: 'Closed',
};

// What each reason means, for people.
const REASON_TEXT = {
  connection_lost: 'the connection dropped or stopped answering',
  service_restart: 'the service stopped or restarted',
  login_timeout: 'no sign-in arrived in time',
  slow_consumer: 'this page fell behind the service',
  protocol_error: 'the service spoke a protocol this page does not know',
  logout: 'you signed out',
  superseded: 'you signed in somewhere else',
  expired: 'the session reached the end of its lifetime',
  idle_timeout: 'there was no activity for too long',
  revoked: 'the session was revoked',
  auth_timeout: 'the sign-in was not renewed in time',
  max_auth_age: 'the sign-in is too old',
  not_started_pruned: 'the session was never used',
  not_found: 'the service does not know this session',
  unauthorized: 'the sign-in was refused',
  login_failed: 'the sign-in was refused',
};

const STATUS_CSS = `
sessionkit-status { display: flex; align-items: center; gap: .6em; padding: .55em .9em;
  border-radius: .4em; font: 500 .95rem/1.3 system-ui, sans-serif; border: 1px solid;
  background: #f4f4f5; color: #3f3f46; border-color: #d4d4d8; }
sessionkit-status .sk-dot { width: .7em; height: .7em; border-radius: 50%; background: currentColor; flex: none; }
sessionkit-status .sk-label { font-weight: 700; }
sessionkit-status .sk-detail { flex: 1; }
sessionkit-status code { font: .85em ui-monospace, monospace; padding: .1em .35em; border-radius: .25em;
  background: rgba(0,0,0,.07); }
sessionkit-status button { font: inherit; font-size: .85em; padding: .25em .7em; border-radius: .3em;
  border: 1px solid currentColor; background: #fff; color: inherit; cursor: pointer; }
sessionkit-status[state=live] { background: #ecfdf3; color: #166534; border-color: #86efac; }
sessionkit-status[state=connecting] { background: #eff6ff; color: #1e40af; border-color: #93c5fd; }
sessionkit-status[state=reconnecting] { background: #fffbeb; color: #92400e; border-color: #fcd34d; }
sessionkit-status[state=reconnecting] .sk-dot { animation: sk-pulse 1s ease-in-out infinite; }
sessionkit-status[state=lost] { background: #fef2f2; color: #991b1b; border-color: #fca5a5; }
sessionkit-status[state=ended], sessionkit-status[state=closed] { background: #f4f4f5; color: #52525b; border-color: #a1a1aa; }
@keyframes sk-pulse { 50% { opacity: .3; } }
`;

const Base = globalThis.HTMLElement || class {};

/**
 * SessionStatusElement is <sessionkit-status>: a bar that shows a client's
 * state and, once the link is lost or the session ended, why, in words and
 * as the reason code. Its attributes state and reason mirror the status.
 * Set its client property to a SessionClient or a FormsClient. When lost it
 * offers to reconnect; when ended, to sign in again (client.reset()).
 */
export class SessionStatusElement extends Base {
  constructor() {
    super();
    this._client = null;
    this._onStatus = (e) => this.render(e.detail);
  }

  get client() { return this._client; }
  set client(c) {
    if (this._client) this._client.removeEventListener('status', this._onStatus);
    this._client = c;
    if (c) {
      c.addEventListener('status', this._onStatus);
      this.render(c.status);
    }
  }

  connectedCallback() {
    injectStyle(this.ownerDocument);
    this.setAttribute('role', 'status');
    this.setAttribute('aria-live', 'polite');
    if (!this._client) this.render({ state: 'idle', reason: '' });
  }

  /** render shows status s: {state, reason, subject}. */
  render(s) {
    const doc = this.ownerDocument;
    this.setAttribute('state', s.state);
    this.setAttribute('reason', s.reason || '');
    const el = (tag, cls, text) => {
      const n = doc.createElement(tag);
      if (cls) n.className = cls;
      if (text) n.textContent = text;
      return n;
    };
    const parts = [el('span', 'sk-dot'), el('span', 'sk-label', STATE_LABELS[s.state] || s.state)];
    const detail = el('span', 'sk-detail');
    if (s.state === 'live' && s.subject) detail.textContent = `signed in as ${s.subject}`;
    if (s.reason) {
      const why = REASON_TEXT[s.reason] || 'the service gave a reason this page does not know';
      detail.textContent = s.state === 'reconnecting' ? `${why}; trying again` : why;
      detail.append(' ', el('code', 'sk-reason', s.reason));
    }
    parts.push(detail);
    if (this._client && s.state === 'lost' && this._client.hasSession) {
      parts.push(this._button('Reconnect', () => this._client.resume()));
    } else if (this._client && (s.state === 'ended' || s.state === 'lost')) {
      parts.push(this._button('Sign in again', () => this._client.reset()));
    }
    this.replaceChildren(...parts);
  }

  _button(text, action) {
    const b = this.ownerDocument.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.addEventListener('click', () => { Promise.resolve(action()).catch(() => {}); });
    return b;
  }
}

function injectStyle(doc) {
  if (doc.getElementById('sessionkit-status-style')) return;
  const style = doc.createElement('style');
  style.id = 'sessionkit-status-style';
  style.textContent = STATUS_CSS;
  doc.head.append(style);
}

if (globalThis.customElements && !customElements.get('sessionkit-status')) {
  customElements.define('sessionkit-status', SessionStatusElement);
}
