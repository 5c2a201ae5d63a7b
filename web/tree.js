// tree.js: draws a chain's run tree. Nesting is indentation, the members of a parallel group stand
// side by side, an onError fallback hangs under the run it recovers, skipped runs are dashed and
// each run's timing is a bar on the time axis of the whole chain.
const COMPOSITE = new Set(['run', 'parallel', 'forEach']);
const MAX_CHILDREN = 200;  // a 10,000-way forEach draws its first ones and a count

export function isFinal(status) { return ['completed', 'failed', 'skipped', 'cancelled'].includes(status); }

export function duration(rec, now) {
  if (!rec.started) return null;
  return (rec.finished || now) - rec.started;
}

export function formatMs(ms) {
  if (ms == null) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

/// The children of `rec` in start order: the record's childRunIds, then those known only from
/// events so far (a running composite's record lists its children when it ends).
export function childrenOf(rec, runs, kids) {
  const ids = [...(rec.childRunIds || [])];
  const extra = [...(kids.get(rec.id) || [])].filter((id) => !ids.includes(id));
  extra.sort((a, b) => (runs.get(a)?.created || 0) - (runs.get(b)?.created || 0));
  return ids.concat(extra).map((id) => runs.get(id)).filter(Boolean);
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

function statusClass(rec) { return rec.recovered ? 'recovered' : rec.status; }

let select = () => {};  // the current render's onSelect, for the click handlers of kept nodes

/// Draws the tree of `rootId` into `container`, updating the nodes already there in place (so a
/// click or a hover is not lost to a redraw while the chain runs).
/// ctx: { runs: Map, kids: Map, selected: run id, now: ms, onSelect(id) }
export function renderTree(container, rootId, ctx) {
  select = ctx.onSelect;
  const root = ctx.runs.get(rootId);
  if (!root) { container.replaceChildren(); return; }
  const t0 = root.started || root.created;
  const span = Math.max((root.finished || ctx.now) - t0, 1);
  let n = container.firstElementChild;
  if (!n || n.dataset.runId !== rootId) {
    n = newNode();
    container.replaceChildren(n);
  }
  updateNode(n, root, ctx, t0, span, false, null);
}

function newNode() {
  const n = el('div', 'node');
  const row = el('div', 'row');
  row.append(el('span', 'dot'), el('span', 'label'), el('span', 'dur'), el('div', 'track'));
  row.addEventListener('click', (e) => { e.stopPropagation(); select(n.dataset.runId); });
  n.append(row);
  return n;
}

function setData(n, key, value) {
  if (value == null) delete n.dataset[key];
  else if (n.dataset[key] !== String(value)) n.dataset[key] = value;
}

function updateNode(n, rec, ctx, t0, span, fallback, owner) {
  setData(n, 'runId', rec.id);
  setData(n, 'status', rec.status);
  setData(n, 'op', rec.operation);
  setData(n, 'step', rec.stepId || null);
  setData(n, 'recovered', rec.recovered ? 'true' : null);
  n.classList.toggle('selected', rec.id === ctx.selected);
  const row = n.firstElementChild;
  row.title = `${rec.id}: ${rec.status}${rec.recovered ? ' (recovered)' : ''}`;
  const [, label, dur, track] = row.children;
  // A forEach element has no id of its own: its index names it.
  const name = rec.stepId || (owner && owner.operation === 'forEach' ? `#${rec.stepIndex}` : rec.operation === 'run' ? 'chain' : rec.operation);
  const tags = [];
  if (fallback) tags.push(['onerror', 'onError']);
  if (rec.recovered) tags.push(['recovered', 'recovered']);
  if (rec.status === 'skipped') tags.push(['', 'skipped']);
  if (rec.attempts > 1) tags.push(['', `${rec.attempts} attempts`]);
  if (rec.error && !rec.recovered && rec.status === 'failed') tags.push(['', rec.error.code]);
  const op = rec.operation + (rec.doctype ? ` ${rec.doctype}` : '');
  const key = JSON.stringify([name, op, tags]);
  if (label.dataset.key !== key) {
    label.dataset.key = key;
    label.replaceChildren(el('b', null, name));
    if (name !== rec.operation && !(name === 'chain' && op === 'run')) label.append(el('span', 'op', op));
    for (const [cls, text] of tags) label.append(el('span', `tag ${cls}`.trim(), text));
  }
  const d = formatMs(duration(rec, ctx.now));
  if (dur.textContent !== d) dur.textContent = d;
  if (rec.started) {
    const bar = track.firstElementChild || track.appendChild(el('div', 'bar'));
    const left = ((rec.started - t0) / span) * 100;
    const width = (((rec.finished || ctx.now) - rec.started) / span) * 100;
    bar.className = `bar ${statusClass(rec)}`;
    bar.style.left = `min(${Math.min(Math.max(left, 0), 100)}%, calc(100% - 2px))`;  // a run at the end stays visible
    bar.style.width = `${Math.min(Math.max(width, 0.5), 100)}%`;
  } else if (track.firstElementChild) {
    track.replaceChildren();
  }

  const all = childrenOf(rec, ctx.runs, ctx.kids);
  const steps = all.filter((c) => c.stepIndex != null);
  const fallbacks = all.filter((c) => c.stepIndex == null);
  const parallel = rec.operation === 'parallel';
  box(n, rec, parallel ? 'lanes' : 'kids', steps, ctx, t0, span, false, parallel);
  box(n, rec, 'fallback', fallbacks, ctx, t0, span, true, false);
}

/// The node's box of children of one kind (steps or fallbacks), its elements kept by run id.
function box(n, owner, cls, recs, ctx, t0, span, fallback, lanes) {
  let b = [...n.children].find((c) => c.classList.contains(cls));
  if (!recs.length) { if (b) b.remove(); return; }
  if (!b) {
    b = el('div', cls);
    if (cls === 'fallback') n.append(b);  // fallbacks last
    else n.insertBefore(b, n.children[1] || null);
  }
  const kept = new Map([...b.children].map((c) => [c.dataset.key, c]));
  const shown = recs.slice(0, MAX_CHILDREN);
  shown.forEach((rec, i) => {
    let item = kept.get(rec.id);
    kept.delete(rec.id);
    if (!item) {
      item = lanes ? el('div', 'lane') : newNode();
      if (lanes) item.append(newNode());
      item.dataset.key = rec.id;
    }
    if (b.children[i] !== item) b.insertBefore(item, b.children[i] || null);
    updateNode(lanes ? item.firstElementChild : item, rec, ctx, t0, span, fallback, owner);
  });
  let more = kept.get('more');
  kept.delete('more');
  for (const stale of kept.values()) stale.remove();
  if (recs.length > MAX_CHILDREN) {
    if (!more) { more = el('div', 'more'); more.dataset.key = 'more'; }
    more.textContent = `… and ${recs.length - MAX_CHILDREN} more`;
    b.append(more);
  } else if (more) {
    more.remove();
  }
}

/// Counts the runs below a chain by status, for the chain list.
export function countRuns(rootId, runs, kids) {
  const counts = { total: 0, completed: 0, failed: 0, recovered: 0, running: 0, skipped: 0, cancelled: 0 };
  const stack = [...(kids.get(rootId) || [])];
  const seen = new Set();
  while (stack.length) {
    const id = stack.pop();
    if (seen.has(id)) continue;
    seen.add(id);
    const r = runs.get(id);
    if (!r) continue;
    if (!COMPOSITE.has(r.operation)) {
      counts.total++;
      if (r.recovered) counts.recovered++;
      else if (counts[r.status] !== undefined) counts[r.status]++;
    }
    for (const k of kids.get(id) || []) stack.push(k);
  }
  return counts;
}
