// The dictation demo: a WebSocket session (SessionClient) with a status bar.
// ?reconnect=0 turns reconnecting off, so a lost link stays on show.
import { SessionClient, DraftAutosave } from './sessionkit.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const client = new SessionClient({ url: 'ws', reconnect: params.get('reconnect') !== '0' });
$('status').client = client;

const text = $('text');
let user = null; // the name signed in with on this page

const autosave = new DraftAutosave(client, {
  name: 'Dictation', read: () => ({ text: text.value }), delay: 1000,
}).attach(text);
autosave.addEventListener('state', (e) => {
  const { state, draft, error } = e.detail;
  const el = $('save-state');
  el.dataset.state = state;
  el.dataset.version = draft ? String(draft.version) : '';
  el.textContent = {
    clean: '', pending: 'Unsaved changes…', saving: 'Saving…',
    saved: draft ? `Saved at ${new Date(draft.updated_at).toLocaleTimeString()}` : '',
    error: `Not saved: ${error && (error.reason || error.code)}`,
    conflict: 'Saved from elsewhere meanwhile: not saved',
  }[state];
});

function show(s) {
  const known = user !== null || client.hasSession;
  const signin = s.state === 'idle' || (!known && s.state !== 'live');
  $('signin').hidden = !signin;
  $('signin-button').disabled = s.state === 'connecting';
  $('dictation').hidden = signin;
  const live = s.state === 'live';
  text.readOnly = !live;
  $('save').disabled = !live;
  $('dictate').disabled = !live;
  $('logout').disabled = !live;
  if (!live) stopDictating();
}
client.addEventListener('status', (e) => show(e.detail));

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('signin-error');
  err.hidden = true;
  try {
    const name = $('user').value.trim();
    await client.login({ user: name });
    user = name;
    show(client.status);
    text.focus();
  } catch (x) {
    err.textContent = x.code === 'unauthorized' ? 'Enter a name to sign in.' : `Sign-in failed: ${x.reason || x.code || x.message}`;
    err.hidden = false;
  }
});

$('save').addEventListener('click', () => autosave.save('manual').catch(() => {}));

$('logout').addEventListener('click', async () => {
  await client.logout().catch(() => {});
  user = null;
  text.value = '';
  show(client.status);
});

// The fake microphone: words arrive while dictating, as a speech engine
// would send them.
const words = ('The patient reports mild pain in the left knee after a fall last week. ' +
  'No swelling. Range of motion is normal. Recommend rest and a follow-up in two weeks. ').split(' ');
let mic = null;
let next = 0;
function stopDictating() {
  if (mic === null) return;
  clearInterval(mic);
  mic = null;
  $('dictate').textContent = 'Dictate';
  $('mic').textContent = '● Microphone off';
  $('mic').classList.add('off');
}
$('dictate').addEventListener('click', () => {
  if (mic !== null) return stopDictating();
  $('dictate').textContent = 'Stop';
  $('mic').textContent = '● Listening';
  $('mic').classList.remove('off');
  mic = setInterval(() => {
    const w = words[next++ % words.length];
    if (!w) return;
    text.value += (text.value && !text.value.endsWith(' ') ? ' ' : '') + w;
    autosave.schedule();
  }, 350);
});

show(client.status);
client.start().catch(() => {}).finally(() => show(client.status));
