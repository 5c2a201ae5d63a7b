// api.js: the daemon's JSON API and its event stream (docs/web.md), with the optional token.
const TOKEN_KEY = 'coworker-token';

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(t) { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); }

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code;
    this.path = error.path;
  }
}

/// Calls the API; resolves to the reply (`ok: true`), rejects with an ApiError otherwise.
/// `body` is sent as JSON; a string is sent as it is (the chain text of the editor). `base` is
/// another node's web view (docs/web.md, "A cluster"): the token goes in the query there, as an
/// Authorization header would need a CORS preflight, which no daemon grants.
export async function api(method, path, body, base = '') {
  const headers = {};
  let url = base + path;
  if (token() && base) url += (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token());
  else if (token()) headers.Authorization = 'Bearer ' + token();
  const init = { method, headers };
  if (method === 'POST' && body === undefined) body = {};  // POSTs are JSON (docs/web.md, Security)
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, { code: 'unreachable', message: 'the daemon does not answer' });
  }
  let data;
  try { data = await res.json(); } catch (e) { data = { ok: false, error: { code: 'bad_reply', message: `HTTP ${res.status}` } }; }
  if (!data.ok) throw new ApiError(res.status, data.error || {});
  return data;
}

/// The live event stream of one daemon: `run` events in seq order from `since`; `resync` when the
/// daemon no longer has them (or restarted), after which the caller reloads its view of that
/// daemon and opens again. When the connection drops, the caller reopens it from the last seq it
/// applied (`onLost(true)`) or, when the stream never said hello (refused, unreachable), reloads
/// (`onLost(false)`): the browser's own reconnection is not used, so every node's stream,
/// same-origin or not, recovers the same way.
export class EventStream {
  constructor({ onRun, onResync, onState, onLost }) {
    this.onRun = onRun;
    this.onResync = onResync;
    this.onState = onState;
    this.onLost = onLost;
    this.es = null;
    this.retry = 0;
  }

  open(since, epoch, base = '') {
    this.close();
    let url = `${base}/api/events?since=${since}&epoch=${encodeURIComponent(epoch)}`;
    if (token()) url += `&token=${encodeURIComponent(token())}`;
    const es = new EventSource(url);
    this.es = es;
    let live = false;
    const hello = () => { live = true; this.onState('live'); };
    es.addEventListener('hello', hello);
    es.addEventListener('heartbeat', hello);
    es.addEventListener('run', (e) => this.onRun(JSON.parse(e.data)));
    es.addEventListener('resync', () => { this.close(); this.onResync('the daemon asked for a resync'); });
    es.onerror = () => {
      if (this.es !== es) return;
      this.close();
      this.onState(live ? 'reconnecting' : 'closed');
      this.retry = setTimeout(() => this.onLost(live), live ? 1000 : 2000);
    };
  }

  close() {
    clearTimeout(this.retry);
    if (this.es) this.es.close();
    this.es = null;
  }
}
