// app.js: the page. It loads a snapshot of every node, follows each node's event stream from its
// snapshot's seq (follow.js) and keeps every record it has seen in one map; the chain list, the tree and the run details are
// drawn from that map (at most once per animation frame).
import { api, ApiError, setToken, token } from './api.js';
import { ChainEditor } from './editor.js';
import { ClusterFollower } from './follow.js';
import { childrenOf, countRuns, duration, formatMs, isFinal, renderTree } from './tree.js';

const MAX_CHAINS = 300;  // chains kept on the page; the oldest finished ones are dropped
const RANK = { pending: 0, scheduled: 0.5, running: 1, waiting: 1.5, completed: 2, failed: 2, skipped: 2, cancelled: 2 };
const EXAMPLE = {
  operation: 'run', id: 'demo', input: { name: 'world' },
  children: [
    { id: 'hello', operation: 'message', role: 'assistant', input: { text: 'Hello, {{input.name}}!' } },
    { parallel: ['left', 'right'], id: 'both', operations: [
      { id: 'left', operation: 'wait', input: { ms: 800 } },
      { id: 'right', operation: 'log', input: { said: '{{hello.output.text}}' } } ] },
    { id: 'risky', operation: 'log', input: '{{hello.output.missing}}',
      onError: { id: 'fallback', operation: 'log', input: { recovered: '{{error.code}}' } } },
    { id: 'never', operation: 'log', if: '1 > 2' },
    { id: 'done', operation: 'message', input: { text: 'finished' } } ] };

const $ = (id) => document.getElementById(id);
const state = { runs: new Map(), kids: new Map(), seq: 0, epoch: '', filter: 'all', chain: null, run: null, docs: new Map() };
let frame = 0;

function put(rec) {
  const old = state.runs.get(rec.id);
  // An older view of a run that moved on is dropped; a run that started after it ended runs again
  // (a redrive: docs/chain-language.md).
  const again = old && old.finished && rec.started && rec.started >= old.finished;
  if (old && RANK[rec.status] < RANK[old.status] && !again) return;
  if (old && old.childRunIds && rec.childRunIds && rec.childRunIds.length < old.childRunIds.length) rec.childRunIds = old.childRunIds;
  state.runs.set(rec.id, rec);
  if (rec.ownerRunId) {
    if (!state.kids.has(rec.ownerRunId)) state.kids.set(rec.ownerRunId, new Set());
    state.kids.get(rec.ownerRunId).add(rec.id);
  }
  if (rec.id === state.run) detailDirty = true;
}

function putTree(node) {
  const { children, ...rec } = node;
  put(rec);
  for (const c of children || []) putTree(c);
}

function roots() {
  return [...state.runs.values()].filter((r) => !r.ownerRunId).sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
}

function prune() {
  const all = roots();
  for (const r of all.slice(MAX_CHAINS)) {
    if (!isFinal(r.status) || r.id === state.chain) continue;
    const stack = [r.id];
    while (stack.length) {
      const id = stack.pop();
      for (const k of state.kids.get(id) || []) stack.push(k);
      state.runs.delete(id);
      state.kids.delete(id);
    }
  }
}

function schedule() { if (!frame) frame = requestAnimationFrame(render); }

// --- loading and following -------------------------------------------------------------------

const follower = new ClusterFollower({
  onReset() { state.runs.clear(); state.kids.clear(); },
  onRuns(runs) { runs.forEach(put); schedule(); },
  onRun(run) { put(run); schedule(); },
  onChange() { showStreams(); schedule(); },
  onRestart() { resync('the daemon restarted'); },
});
state.streams = follower.streams;

/// The header: the streams' state ("live" when every node's is), and the seq of each.
function showStreams() {
  const mine = follower.self();
  state.seq = mine ? mine.seq : 0;
  state.epoch = mine ? mine.epoch : '';
  const sum = follower.summary();
  const live = $('live');
  live.dataset.state = sum.state;
  const words = { live: 'live', reconnecting: 'reconnecting…', closed: 'disconnected', connecting: 'connecting…' }[sum.state] || sum.state;
  live.textContent = sum.node ? `${sum.node}: ${words}` : words;
  live.title = [...follower.streams.values()].map((st) => `${st.node || 'this daemon'}: ${st.state}, seq ${st.seq}`).join('\n');
}

let resyncing = false;
async function resync(why) {
  if (resyncing) return;
  resyncing = true;
  try {
    await follower.start();
    $('token-form').hidden = true;
    showStreams();
    if (state.chain && !state.runs.has(state.chain)) await loadChain(state.chain);
    loadSchedules();
    loadPublished();
    schedule();
  } catch (e) {
    const live = $('live');
    live.dataset.state = 'closed';
    live.textContent = 'disconnected';
    if (e instanceof ApiError && e.status === 401) askToken();
    else setTimeout(() => resync(why), 2000);
  } finally {
    resyncing = false;
  }
}

/// The daemon's schedules (GET /api/schedules): name, rule, next and last fire; refreshed on every
/// resync and every 10 s (a schedule's fires show up as chains in the list above).
async function loadSchedules() {
  let list;
  try { list = (await api('GET', '/api/schedules')).schedules; } catch (e) { return; }
  $('schedules').hidden = list.length === 0;
  const when = (ms) => (ms ? new Date(ms).toLocaleString() : '—');
  $('schedule-list').replaceChildren(...list.map((s) => {
    const li = document.createElement('li');
    li.dataset.name = s.name;
    const name = document.createElement('span'); name.className = 'name'; name.textContent = s.name;
    const state = document.createElement('span'); state.className = 'state'; state.textContent = s.paused ? 'paused' : s.overlap;
    const rule = document.createElement('span'); rule.className = 'rule';
    rule.textContent = s.cron ? `${s.cron} (${s.tz})` : `every ${formatMs(s.everyMs)}`;
    const times = document.createElement('span'); times.className = 'times';
    times.textContent = `next ${when(s.nextFireAt)} · last ${when(s.lastFireAt)}`;
    li.append(name, state, rule, times);
    return li;
  }));
}
setInterval(loadSchedules, 10000);

/// The published chains (GET /api/chains), each runnable from here by name with an input (JSON):
/// POST /api/runs {"chainRef", "input"} (docs/chain-language.md, "Published chains").
async function loadPublished() {
  let list;
  try { list = (await api('GET', '/api/chains')).chains; } catch (e) { return; }
  $('published').hidden = list.length === 0;
  $('published-list').replaceChildren(...list.map((c) => {
    const li = document.createElement('li');
    li.dataset.name = c.name;
    const latest = c.versions[c.versions.length - 1];
    const name = document.createElement('span'); name.className = 'name'; name.textContent = `${c.name}@${latest.version}`;
    const aliases = document.createElement('span'); aliases.className = 'state';
    aliases.textContent = Object.entries(c.aliases).map(([a, v]) => `${a}→${v}`).join(', ');
    const input = document.createElement('input'); input.className = 'input'; input.placeholder = 'input (JSON)';
    input.setAttribute('aria-label', `input for ${c.name}`);
    const run = document.createElement('button'); run.textContent = 'Run';
    run.addEventListener('click', () => {
      let body = { chainRef: `${c.name}@${latest.version}` };
      if (input.value.trim()) {
        try { body.input = JSON.parse(input.value); } catch (err) { $('submit-status').textContent = `not JSON: ${err.message}`; return; }
      }
      submit(body);
    });
    li.append(name, aliases, input, run);
    return li;
  }));
}
setInterval(loadPublished, 10000);

function askToken() {
  $('token-form').hidden = false;
  $('live').textContent = 'token needed';
  $('token-input').focus();
}

async function loadChain(id) {
  try {
    const got = await api('GET', `/api/runs/${encodeURIComponent(id)}?tree=1`);
    putTree(got.run);
    schedule();
  } catch (e) { /* gone from the daemon's memory */ }
}

// --- drawing ---------------------------------------------------------------------------------

let detailDirty = false;

function render() {
  frame = 0;
  prune();
  const now = Date.now();
  const n = follower.streams.size;
  $('seq').textContent = !state.epoch ? '' : n > 1 ? `${n} nodes` : `seq ${state.seq}`;
  renderList(now);
  renderChain(now);
  if (detailDirty) renderDetail();
  if ([...state.runs.values()].some((r) => r.status === 'running')) setTimeout(schedule, 250);  // durations tick
}

function renderList(now) {
  const list = $('chain-list');
  const shown = roots().filter((r) => state.filter === 'all' || r.status === state.filter);
  const kept = new Map([...list.children].map((li) => [li.dataset.runId, li]));
  shown.forEach((r, i) => {
    let li = kept.get(r.id);
    kept.delete(r.id);
    if (!li) {
      li = document.createElement('li');
      li.dataset.runId = r.id;
      li.innerHTML = '<span class="dot"></span><span class="name"></span><span class="dur"></span><span class="counts"></span><span class="when"></span>';
      li.addEventListener('click', () => selectChain(li.dataset.runId));
      li.title = r.id;
    }
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
    const c = countRuns(r.id, state.runs, state.kids);
    const parts = [`${c.total} step${c.total === 1 ? '' : 's'}`];
    for (const k of ['running', 'failed', 'recovered', 'skipped', 'cancelled']) if (c[k]) parts.push(`${c[k]} ${k}`);
    li.dataset.status = r.status;
    li.classList.toggle('selected', r.id === state.chain);
    setText(li.querySelector('.name'), r.stepId || r.id.slice(-8));
    setText(li.querySelector('.dur'), formatMs(duration(r, now)));
    setText(li.querySelector('.counts'), `${r.status} · ${parts.join(' · ')}`);
    setText(li.querySelector('.when'), new Date(r.created).toLocaleTimeString());
  });
  for (const li of kept.values()) li.remove();
  $('chain-empty').hidden = shown.length > 0;
}

function setText(e, text) { if (e.textContent !== text) e.textContent = text; }

function renderChain(now) {
  const root = state.chain && state.runs.get(state.chain);
  $('chain-head').hidden = !root;
  $('chain-none').hidden = !!root;
  if (!root) { $('tree').replaceChildren(); return; }
  const title = $('chain-title');
  title.replaceChildren(document.createTextNode(root.stepId || 'chain'));
  const pill = document.createElement('span');
  pill.className = `pill ${root.status}`;
  pill.textContent = root.status;
  title.append(pill);
  $('chain-meta').textContent = `${root.id} · started ${new Date(root.created).toLocaleString()}` +
    (root.started ? ` · ${formatMs(duration(root, now))}` : '') + (root.redrives ? ` · redriven ${root.redrives}×` : '');
  $('cancel').hidden = isFinal(root.status);
  $('redrive').hidden = !(root.status === 'failed' || root.status === 'cancelled');
  const doc = state.docs.get(root.id);
  $('resubmit').hidden = !doc;
  $('edit-copy').hidden = !doc || !doc.chain;  // a run by name has no document to edit
  renderTree($('tree'), root.id, { runs: state.runs, kids: state.kids, selected: state.run, now, onSelect: selectRun });
}

async function renderDetail() {
  detailDirty = false;
  const panel = $('detail');
  const rec = state.run && state.runs.get(state.run);
  panel.hidden = !rec;
  if (!rec) return;
  // A large value shows as its {"$blob","bytes"} reference; GET /api/blobs/ID has it (docs/store.md).
  const full = rec;
  $('detail-title').textContent = `${full.stepId || full.operation} · ${full.status}${full.recovered ? ' (recovered)' : ''}`;
  const facts = [['run', full.id], ['operation', full.operation + (full.doctype ? ` (${full.doctype})` : '')],
    ['attempts', full.attempts], ['started', full.started ? new Date(full.started).toLocaleTimeString() : '—'],
    ['duration', formatMs(duration(full, Date.now())) || '—'], ['children', (full.childRunIds || []).length]];
  $('detail-facts').replaceChildren(...facts.flatMap(([k, v]) => {
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = String(v);
    return [dt, dd];
  }));
  // An await step waiting for a signal gets a form that sends one to it (POST /api/runs/ID/signal).
  const form = $('signal-form');
  if (form.dataset.run !== full.id) { form.dataset.run = full.id; setText($('signal-status'), ''); }
  form.hidden = full.status !== 'waiting';
  setText($('signal-key'), full.input && typeof full.input.key === 'string' ? full.input.key : '');
  $('detail-error').hidden = !full.error;
  $('detail-error').querySelector('pre').textContent = full.error ? JSON.stringify(full.error, null, 2) : '';
  $('detail-input').textContent = JSON.stringify(full.input, null, 2);
  $('detail-output').textContent = JSON.stringify(full.output, null, 2);
}

// --- actions ---------------------------------------------------------------------------------

async function selectChain(id) {
  state.chain = id;
  state.run = null;
  detailDirty = true;
  const root = state.runs.get(id);
  if (!root || childrenOf(root, state.runs, state.kids).length < (root.childRunIds || []).length) await loadChain(id);
  if (!state.docs.has(id)) {
    api('GET', `/api/runs/${encodeURIComponent(id)}/chain`).then((d) => { state.docs.set(id, d); schedule(); }, () => {});
  }
  schedule();
}

function selectRun(id) {
  state.run = state.run === id ? null : id;
  detailDirty = true;
  schedule();
}

async function submit(body) {
  const status = $('submit-status');
  try {
    const r = await api('POST', '/api/runs', body);
    status.textContent = `started ${r.runId}`;
    status.title = r.runId;
    await selectChain(r.runId);
    return true;
  } catch (e) {
    status.textContent = e.message;
    if (e.path != null) editor.show([{ code: e.code, message: e.message, path: e.path }]);
    return false;
  }
}

async function check() {
  const status = $('submit-status');
  try {
    const r = await api('POST', '/api/validate', editor.value);
    editor.show(r.errors);
    status.textContent = r.valid ? 'valid' : `${r.errors.length} error${r.errors.length === 1 ? '' : 's'}`;
    return r.valid;
  } catch (e) {
    status.textContent = e.message;
    if (e.status === 401) askToken();
    return false;
  }
}

const editor = new ChainEditor({ text: $('chain-text'), marks: $('chain-marks'), list: $('chain-errors') });
editor.value = JSON.stringify(EXAMPLE, null, 2);

$('check').addEventListener('click', check);
$('submit').addEventListener('click', async () => { if (await check()) await submit(editor.value); });
$('cancel').addEventListener('click', async () => {
  try { await api('POST', `/api/runs/${encodeURIComponent(state.chain)}/cancel`); } catch (e) { $('chain-meta').textContent = e.message; }
});
$('redrive').addEventListener('click', async () => {
  // What ended well is kept; what failed or never ran runs again under the same chain id.
  try {
    const r = await api('POST', `/api/runs/${encodeURIComponent(state.chain)}/redrive`);
    $('chain-meta').textContent = `redriving: ${r.wouldRun.length ? r.wouldRun.join(', ') : 'the chain'}`;
  } catch (e) {
    $('chain-meta').textContent = e.message;
  }
});
$('resubmit').addEventListener('click', () => {
  const d = state.docs.get(state.chain);
  if (!d) return;
  const what = d.chain ? { chain: d.chain } : { chainRef: d.chainRef };
  submit(d.input === undefined ? what : { ...what, input: d.input });
});
$('edit-copy').addEventListener('click', () => {
  const d = state.docs.get(state.chain);
  if (d && d.chain) { editor.value = JSON.stringify(d.chain, null, 2); $('chain-text').focus(); }
});
$('detail-close').addEventListener('click', () => selectRun(null));
$('signal-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const id = $('signal-form').dataset.run;
  const status = $('signal-status');
  let payload;
  try { payload = JSON.parse($('signal-payload').value); } catch (err) { status.textContent = `not JSON: ${err.message}`; return; }
  try {
    const r = await api('POST', `/api/runs/${encodeURIComponent(id)}/signal`, { payload });
    status.textContent = r.delivered ? 'delivered' : 'kept';
  } catch (err) {
    status.textContent = err.path ? `${err.path}: ${err.message}` : err.message;
  }
});
$('filters').addEventListener('click', (e) => {
  const f = e.target.dataset && e.target.dataset.filter;
  if (!f) return;
  state.filter = f;
  for (const b of $('filters').children) b.classList.toggle('on', b.dataset.filter === f);
  // Older chains with that status than the snapshot holds come from the list request.
  if (f !== 'all') api('GET', `/api/runs?status=${f}&limit=200`).then((r) => { r.runs.forEach(put); schedule(); }, () => {});
  schedule();
});
$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken($('token-input').value.trim());
  resync('a new token');
});

window.coworkerPage = { state, ready: () => !!state.epoch, token };  // for tests and curious users
resync('start');
