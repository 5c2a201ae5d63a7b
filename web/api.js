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
/// `body` is sent as JSON; a string is sent as it is (the chain text of the editor).
export async function api(method, path, body) {
  const headers = {};
  if (token()) headers.Authorization = 'Bearer ' + token();
  const init = { method, headers };
  if (method === 'POST' && body === undefined) body = {};  // POSTs are JSON (docs/web.md, Security)
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, { code: 'unreachable', message: 'the daemon does not answer' });
  }
  let data;
  try { data = await res.json(); } catch (e) { data = { ok: false, error: { code: 'bad_reply', message: `HTTP ${res.status}` } }; }
  if (!data.ok) throw new ApiError(res.status, data.error || {});
  return data;
}

/// The live event stream: `run` events in seq order from `since`; `resync` when the daemon no
/// longer has them (or restarted), after which the caller reloads its view and opens again.
export class EventStream {
  constructor({ onRun, onResync, onState }) {
    this.onRun = onRun;
    this.onResync = onResync;
    this.onState = onState;
    this.es = null;
  }

  open(since, epoch) {
    this.close();
    let url = `/api/events?since=${since}&epoch=${encodeURIComponent(epoch)}`;
    if (token()) url += `&token=${encodeURIComponent(token())}`;
    const es = new EventSource(url);
    this.es = es;
    es.addEventListener('hello', () => this.onState('live'));
    es.addEventListener('heartbeat', () => this.onState('live'));
    es.addEventListener('run', (e) => this.onRun(JSON.parse(e.data)));
    es.addEventListener('resync', () => { this.close(); this.onResync('the daemon asked for a resync'); });
    es.onerror = () => {
      if (this.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        // Refused (401, 503) or gone for good: start over from a snapshot in a moment.
        this.close();
        this.onState('closed');
        setTimeout(() => this.onResync('the stream closed'), 2000);
      } else {
        this.onState('reconnecting');  // EventSource retries with Last-Event-ID by itself
      }
    };
  }

  close() {
    if (this.es) this.es.close();
    this.es = null;
  }
}
