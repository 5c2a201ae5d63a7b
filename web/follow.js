// follow.js: following the event stream of every node of a cluster (docs/web.md, "A cluster"). The
// page asks its own daemon for the live nodes (GET /api/nodes); for each node with a web view it
// takes a snapshot and follows that node's events from the snapshot's seq, each stream on its own
// epoch and seq: a gap or a resync in one stream reloads that node's snapshot only (the rules of
// src/core/stream_follower.hpp). One daemon alone is a cluster of one. Nodes that start or stop are
// noticed every few seconds.
import { api, ApiError, EventStream } from './api.js';

const NODES_EVERY_MS = 5000;

export class ClusterFollower {
  /// onReset(): the view starts over (before the first snapshots); onRuns(records), onRun(record):
  /// what to put in the view; onChange(): a stream's state or seq changed; onRestart(): the page's
  /// own daemon restarted (call start() again).
  constructor({ onReset, onRuns, onRun, onChange, onRestart }) {
    this.onReset = onReset;
    this.onRestart = onRestart;
    this.onRuns = onRuns;
    this.onRun = onRun;
    this.onChange = onChange;
    this.streams = new Map();  // node name -> { node, base, self, seq, epoch, state, es }
    this.timer = 0;
  }

  /// The stream of the page's own daemon (the one that served it).
  self() { return [...this.streams.values()].find((s) => s.self); }

  /// Starts over: the nodes, then every node's snapshot, then every stream. Rejects with the own
  /// daemon's error (a 401 asks the page for the token); another node that does not answer is
  /// marked and tried again later.
  async start() {
    for (const s of this.streams.values()) s.es.close();
    this.streams.clear();
    const nodes = await this.readNodes();
    const loaded = await Promise.all(nodes.map((n) => this.snapshot(this.add(n)).then((snap) => snap, (e) => e)));
    const mine = loaded[nodes.findIndex((n) => n.self)];
    if (mine instanceof Error) throw mine;
    this.onReset();
    nodes.forEach((n, i) => {
      const s = this.streams.get(n.node);
      if (loaded[i] instanceof Error) return this.lost(s);
      this.apply(s, loaded[i]);
    });
    clearInterval(this.timer);
    this.timer = setInterval(() => this.refresh(), NODES_EVERY_MS);
  }

  /// The live nodes, from the own daemon. A daemon without /api/nodes is a cluster of one, and so
  /// is a cluster whose store cannot be read just now (the own stream goes on; the others are
  /// looked for again later). Refused (401) or unreachable: rejects.
  async readNodes() {
    let nodes;
    try {
      nodes = (await api('GET', '/api/nodes')).nodes;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status === 401 || e.status === 0) throw e;
      nodes = [{ node: '', self: true }];
    }
    if (!nodes.some((n) => n.self)) nodes.push({ node: '', self: true });
    return nodes;
  }

  add(n) {
    const s = { node: n.node, self: !!n.self, base: n.self ? '' : (n.http || '').replace(/\/+$/, ''), seq: 0, epoch: '', state: 'connecting', es: null };
    if (!s.self && !s.base) s.state = 'no web view';
    s.es = new EventStream({
      onRun: (env) => this.event(s, env),
      onResync: () => this.resync(s),
      onState: (st) => this.mark(s, st),
      onLost: (wasLive) => (wasLive ? this.open(s) : this.resync(s)),
    });
    this.streams.set(n.node, s);
    return s;
  }

  snapshot(s) {
    if (!s.self && !s.base) return Promise.reject(new Error('this node has no web view'));
    return api('GET', '/api/snapshot?recent=200', undefined, s.base);
  }

  apply(s, snap) {
    s.seq = snap.seq;
    s.epoch = snap.epoch;
    this.onRuns(snap.runs);
    this.open(s);
  }

  open(s) {
    if (this.streams.get(s.node) !== s) return;  // stopped following meanwhile
    s.es.open(s.seq, s.epoch, s.base);
  }

  event(s, env) {
    if (env.epoch !== s.epoch) return this.resync(s);
    if (env.seq <= s.seq) return;  // already in the snapshot
    if (env.seq !== s.seq + 1) return this.resync(s);  // a gap
    s.seq = env.seq;
    this.onRun(env.run);
    this.onChange();
  }

  /// This node's snapshot again (merged into the view: the other streams go on), then its stream.
  async resync(s) {
    if (s.loading || this.streams.get(s.node) !== s) return;
    s.loading = true;
    s.es.close();
    try {
      const snap = await this.snapshot(s);
      // The page's own daemon restarted: in memory, what it ran is gone; the view starts over. A
      // node of a cluster restarted keeps its records in the store: its snapshot is merged.
      if (s.self && s.epoch && snap.epoch !== s.epoch) return this.onRestart();
      this.apply(s, snap);
    } catch (e) {
      this.lost(s);
    } finally {
      s.loading = false;
    }
  }

  lost(s) {
    if (s.state !== 'no web view') this.mark(s, 'closed');
    clearTimeout(s.retry);
    if (s.base || s.self) s.retry = setTimeout(() => this.resync(s), 2000);
  }

  mark(s, st) {
    if (s.state === st) return;
    s.state = st;
    this.onChange();
  }

  /// Nodes started since are followed, nodes gone are not any more (their chains go on on the node
  /// that took them over, in that node's stream).
  async refresh() {
    let nodes;
    try { nodes = await this.readNodes(); } catch (e) { return; }
    if (nodes.length === 1 && nodes[0].node === '') return;  // the store cannot be read: keep what is followed
    const names = new Set(nodes.map((n) => n.node));
    for (const [name, s] of this.streams) {
      if (names.has(name) || s.self) continue;
      s.es.close();
      clearTimeout(s.retry);
      this.streams.delete(name);
      this.onChange();
    }
    for (const n of nodes) {
      if (n.self) continue;  // the own stream is followed from the start
      const known = this.streams.get(n.node);
      if (known && (known.self || known.base === (n.http || '').replace(/\/+$/, ''))) continue;
      if (known) { known.es.close(); clearTimeout(known.retry); }  // its web view moved
      this.resync(this.add(n));
      this.onChange();
    }
  }

  /// For the header: "live", else the first state that is not, with its node.
  summary() {
    const all = [...this.streams.values()];
    const down = all.find((s) => s.state !== 'live');
    return { state: down ? down.state : 'live', node: down && all.length > 1 ? down.node : '', nodes: all.length };
  }
}
