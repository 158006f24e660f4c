// The forms demo: an HTTP session (FormsClient) with autosaved drafts. The
// keepalive pulse runs only while the claim form is open.
import { FormsClient, DraftAutosave } from './sessionkit.js';

const $ = (id) => document.getElementById(id);
const client = new FormsClient({ base: 'api' });
$('status').client = client;

const claim = $('claim');
const fields = ['title', 'notes', 'amount'];
const read = () => Object.fromEntries(fields.map((f) => [f, claim.elements[f].value]));
const write = (data) => { for (const f of fields) claim.elements[f].value = (data && data[f]) || ''; };
let autosave = null;

function view(name) {
  for (const v of ['signin', 'home', 'form']) $(v).hidden = v !== name;
  if (name === 'form') client.formOpened();
  else client.formClosed();
}

client.addEventListener('status', (e) => {
  if (e.detail.state === 'idle' || e.detail.state === 'ended') view('signin');
});

const when = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function renderSave(e) {
  const { state, draft, error } = e.detail;
  const el = $('save-state');
  el.dataset.state = state;
  el.dataset.version = draft ? String(draft.version) : '';
  el.textContent = {
    clean: 'Not saved yet', pending: 'Unsaved changes…', saving: 'Saving…',
    saved: draft ? `Saved${draft.mode === 'auto' ? ' automatically' : ''} at ${when(draft.updated_at)}` : '',
    error: `Not saved: ${error && (error.reason || error.code || error.message)}`,
    conflict: 'Saved from another tab meanwhile: go back and resume it again',
  }[state];
}

async function home() {
  view('home');
  const list = (await client.drafts()).filter((d) => d.state === 'open');
  const ul = $('drafts');
  ul.replaceChildren(...list.map((d) => {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = d.name || 'Untitled claim';
    const meta = document.createElement('span');
    meta.className = 'muted';
    meta.textContent = `saved ${new Date(d.updated_at).toLocaleString()}`;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'resume';
    b.dataset.id = d.id;
    b.textContent = 'Resume';
    b.addEventListener('click', () => resume(d.id));
    li.append(name, meta, b);
    return li;
  }));
  $('no-drafts').hidden = list.length > 0;
}

function openForm(draft) {
  autosave = new DraftAutosave(client, { name: 'Untitled claim', read, delay: 800 });
  autosave.addEventListener('state', renderSave);
  write(draft && draft.data);
  if (draft) autosave.load(draft);
  else renderSave({ detail: { state: 'clean' } });
  view('form');
}

async function resume(id) {
  try {
    openForm(await client.resumeDraft(id));
  } catch {
    home().catch(() => {});
  }
}

claim.addEventListener('input', () => {
  if (!autosave) return;
  autosave.name = claim.elements.title.value.trim() || 'Untitled claim';
  autosave.schedule();
});

$('save').addEventListener('click', () => autosave.save('manual').catch(() => {}));
$('back').addEventListener('click', async () => {
  if (autosave.state === 'pending') await autosave.save('auto').catch(() => {});
  home().catch(() => {});
});
$('submit').addEventListener('click', async () => {
  try {
    const d = await autosave.save('manual');
    await client.closeDraft(d.id, d.version);
    home().catch(() => {});
  } catch { /* the save state says why */ }
});
$('new').addEventListener('click', () => openForm(null));
$('keepalive').addEventListener('change', (e) => { client.keepalive = e.target.checked; });
$('logout').addEventListener('click', () => client.logout().catch(() => {}));

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('signin-error');
  err.hidden = true;
  try {
    await client.login({ user: $('user').value.trim() });
    await home();
  } catch (x) {
    err.textContent = x.code === 'login_failed' ? 'Enter a name to sign in.' : `Sign-in failed: ${x.code || x.message}`;
    err.hidden = false;
  }
});

client.current().then(home, () => view('signin'));
