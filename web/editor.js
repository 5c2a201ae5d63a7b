// editor.js: the chain text box. Errors from the daemon carry a JSON Pointer (or, for a syntax
// error, a line and column); they are marked in the text where they are and listed below it.

/// Where each JSON Pointer of `text` is: { start, end, keyStart } of its value (keyStart: the
/// member's key, for object members). Tolerant: stops quietly at a syntax error.
export function pointerMap(text) {
  const map = new Map();
  let i = 0;
  const end = () => { if (i >= text.length) throw new Error('end'); };
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  const str = () => {
    const s = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    end();
    i++;
    return JSON.parse(text.slice(s, i));
  };
  const esc = (k) => k.replace(/~/g, '~0').replace(/\//g, '~1');
  const value = (ptr, keyStart) => {
    ws();
    end();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') i++;
      else for (;;) {
        ws(); end();
        const ks = i;
        const key = str();
        ws(); end();
        if (text[i] !== ':') throw new Error('colon');
        i++;
        value(`${ptr}/${esc(key)}`, ks);
        ws(); end();
        if (text[i] === ',') { i++; continue; }
        if (text[i] !== '}') throw new Error('brace');
        i++;
        break;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') i++;
      else for (let n = 0; ; n++) {
        value(`${ptr}/${n}`);
        ws(); end();
        if (text[i] === ',') { i++; continue; }
        if (text[i] !== ']') throw new Error('bracket');
        i++;
        break;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !/[\s,\]}]/.test(text[i])) i++;
    }
    map.set(ptr, { start, end: i, keyStart: keyStart ?? start });
  };
  try { value(''); } catch (e) { /* a syntax error: what was read so far is mapped */ }
  return map;
}

export function lineCol(text, offset) {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

/// The range of `text` an error is about, or null.
export function locate(text, err, map = pointerMap(text)) {
  const m = /line (\d+), column (\d+)/.exec(err.message || '');
  if (m && err.path == null) {
    const lines = text.split('\n');
    const line = Math.min(Number(m[1]), lines.length);
    let off = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + Math.max(Number(m[2]) - 1, 0);
    off = Math.min(off, Math.max(text.length - 1, 0));
    return { start: off, end: Math.min(off + 1, text.length) };
  }
  if (err.path == null) return null;
  // The pointer itself, or (a missing field) the nearest enclosing value that exists.
  for (let p = err.path; ; p = p.slice(0, p.lastIndexOf('/'))) {
    const at = map.get(p);
    if (at) {
      if (p === err.path) return { start: at.keyStart, end: at.end };
      return { start: at.keyStart, end: at.keyStart === at.start ? at.start + 1 : at.start };
    }
    if (p === '') return null;
  }
}

function escapeHtml(s) { return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'); }

export class ChainEditor {
  constructor({ text, marks, list }) {
    this.text = text;
    this.marks = marks;
    this.list = list;
    text.addEventListener('scroll', () => { marks.scrollTop = text.scrollTop; });
    text.addEventListener('input', () => this.show([]));
  }

  get value() { return this.text.value; }
  set value(v) { this.text.value = v; this.show([]); }

  /// Marks every error in place and lists them with line and column; a click selects the place.
  show(errors) {
    const src = this.text.value;
    const map = pointerMap(src);
    const located = errors.map((e) => ({ e, r: locate(src, e, map) }));
    const ranges = located.filter((x) => x.r).map((x) => x.r).sort((a, b) => a.start - b.start);
    let html = '';
    let at = 0;
    for (const r of ranges) {
      if (r.start < at) continue;  // overlapping: the first one is marked
      html += escapeHtml(src.slice(at, r.start)) + '<mark>' + escapeHtml(src.slice(r.start, r.end) || ' ') + '</mark>';
      at = Math.max(r.end, r.start + 1);
    }
    this.marks.innerHTML = html + escapeHtml(src.slice(at)) + '\n ';
    this.marks.scrollTop = this.text.scrollTop;
    this.list.replaceChildren();
    for (const { e, r } of located) {
      const li = document.createElement('li');
      li.dataset.code = e.code;
      if (e.path != null) li.dataset.path = e.path;
      const where = document.createElement('span');
      where.className = 'where';
      if (r) {
        const { line, col } = lineCol(src, r.start);
        where.textContent = `${line}:${col}`;
        li.dataset.line = line;
      } else {
        where.textContent = e.path || '—';
      }
      const code = document.createElement('span');
      code.className = 'code';
      code.textContent = e.code + (e.path ? ` at ${e.path}` : '');
      li.append(where, document.createTextNode(e.message), code);
      if (r) li.addEventListener('click', () => { this.text.focus(); this.text.setSelectionRange(r.start, r.end); });
      this.list.append(li);
    }
  }
}
