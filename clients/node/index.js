'use strict';
// Node client for coworker (docs/clients.md): Client sends requests to `coworker serve` and follows
// its run events with no gap (docs/protocol.md, "A reliable view"; watchCluster: those of every node
// of a cluster); Worker serves operations to it
// as a remote worker (docs/protocol.md, "Workers"). Built on the npm `zeromq` package, version 6.
const zmq = require('zeromq');
const fs = require('fs');
const { EventEmitter } = require('events');

class CoworkerError extends Error {
  /** A refused request: `code` (docs/errors.md), `message`, and `path`, the JSON Pointer of the place. */
  constructor(code, message, path) {
    super(`${path ? path + ' ' : ''}${code}: ${message}`);
    this.name = 'CoworkerError';
    this.code = code;
    this.path = path;
    this.reason = message;
  }
}

/** A Z85 key itself, or the one key in a `coworker keygen` key file. */
function readKey(keyOrFile) {
  if (keyOrFile.length === 40 && !fs.existsSync(keyOrFile)) return keyOrFile;
  const keys = fs.readFileSync(keyOrFile, 'utf8').split('\n').map((l) => l.trim().split(/\s+/)[0])
    .filter((w) => w && w.length === 40 && !w.startsWith('#'));
  if (keys.length !== 1) throw new Error(`${keyOrFile}: ${keys.length} keys where one was expected`);
  return keys[0];
}

/** `curve`: {serverKey, publicKey, secretKey} (each Z85 or a `coworker keygen` file) for a daemon that requires CURVE. */
function secure(sock, curve) {
  if (!curve) return;
  sock.curveServerKey = readKey(curve.serverKey);
  sock.curvePublicKey = readKey(curve.publicKey);
  sock.curveSecretKey = readKey(curve.secretKey);
}

/** Runs `fn` after the previous one ended: a zeromq socket reads (and writes) one at a time. */
class Queue {
  constructor() { this.tail = Promise.resolve(); }
  run(fn) {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }
}

const isTimeout = (e) => e && (e.code === 'EAGAIN' || e.errno === 11);

class Client {
  /**
   * @param {{requests?: string, events?: string, timeout?: number, curve?: object}} [options]
   * `timeout` (ms) bounds every request that does not wait for a chain to end.
   */
  constructor({ requests = 'tcp://127.0.0.1:5570', events = 'tcp://127.0.0.1:5571', timeout = 30000, curve } = {}) {
    Object.assign(this, { requests, events, timeout, curve });
    this.nextId = 1;
    this.sock = null;
    this.queue = new Queue();
  }

  /** Sends one request; resolves with its reply, rejects with CoworkerError (refused) or a timeout error. */
  call(request, { timeout } = {}) {
    return this.queue.run(async () => {
      if (!this.sock) {
        this.sock = new zmq.Dealer({ linger: 0 });
        secure(this.sock, this.curve);
        this.sock.connect(this.requests);
      }
      const id = this.nextId++;
      const limit = timeout ?? this.timeout;
      const deadline = Date.now() + limit;
      const timedOut = () => {
        this.sock.close();
        this.sock = null; // a late reply must not answer the next request
        const err = new Error(`no reply from ${this.requests} within ${limit} ms`);
        err.code = 'timeout';
        return err;
      };
      // A DEALER without a peer (a daemon that refused the CURVE handshake) would wait to send for ever.
      this.sock.sendTimeout = Math.max(1, limit);
      try {
        await this.sock.send(['', JSON.stringify({ ...request, id })]);
      } catch (e) {
        if (!isTimeout(e)) throw e;
        throw timedOut();
      }
      for (;;) {
        this.sock.receiveTimeout = Math.max(1, deadline - Date.now());
        let frames;
        try {
          frames = await this.sock.receive();
        } catch (e) {
          if (!isTimeout(e)) throw e;
          throw timedOut();
        }
        const reply = JSON.parse(frames[frames.length - 1].toString());
        if (reply.id !== undefined && reply.id !== id) continue; // the reply to a request given up on
        if (!reply.ok) {
          const e = reply.error || {};
          throw new CoworkerError(e.code || 'internal', e.message || '', e.path);
        }
        return reply;
      }
    });
  }

  /** Starts a chain (or `chainRef`, a published chain); with `wait`, resolves when it ends: {runId, status, tree}. */
  async run(chain, { input, wait = true, key, timeout, chainRef, startDelayMs, traceparent } = {}) {
    const req = { type: 'run', wait };
    if (chainRef !== undefined) req.chainRef = chainRef; else req.chain = chain;
    if (input !== undefined) req.input = input;
    if (key !== undefined) req.key = key;
    if (startDelayMs !== undefined) req.startDelayMs = startDelayMs;
    if (traceparent !== undefined) req.traceparent = traceparent;
    const { ok, id, ...rest } = await this.call(req, { timeout: timeout ?? (wait ? 24 * 3600 * 1000 : undefined) });
    return rest;
  }

  async get(runId, { tree = false } = {}) { return (await this.call({ type: 'get', runId, tree })).run; }

  async list({ status, chainId, limit = 100 } = {}) {
    const req = { type: 'list', limit };
    if (status) req.status = status;
    if (chainId) req.chainId = chainId;
    return (await this.call(req)).runs;
  }

  async cancel(runId) { await this.call({ type: 'cancel', runId }); }

  /** {delivered: true, runId} or {kept: true}. */
  async signal({ key, payload = null, runId } = {}) {
    const req = { type: 'signal', payload };
    if (runId !== undefined) req.runId = runId; else req.key = key;
    const { ok, id, ...rest } = await this.call(req);
    return rest;
  }

  async redrive(runId, { dryRun = false } = {}) { return this.call({ type: 'redrive', runId, dryRun }); }

  async publish(name, chain, { inputSchema, outputSchema } = {}) {
    const req = { type: 'publish', name, chain };
    if (inputSchema !== undefined) req.inputSchema = inputSchema;
    if (outputSchema !== undefined) req.outputSchema = outputSchema;
    const { ok, id, ...rest } = await this.call(req);
    return rest;
  }

  async chains() { return (await this.call({ type: 'chains' })).chains; }

  async snapshot(recent = 100) { return this.call({ type: 'snapshot', recent }); }

  /**
   * The live nodes of this daemon's cluster by name, each { node, self, requests, events, workers?,
   * http? } as it advertised them; outside a cluster this daemon alone (docs/cluster.md, "Finding
   * the nodes").
   */
  async nodes() { return (await this.call({ type: 'nodes' })).nodes; }

  /** A Client for every live node with ZeroMQ endpoints, with this client's keys and timeout: what watchCluster takes. */
  async cluster() {
    return (await this.nodes()).filter((n) => n.requests && n.events)
      .map((n) => new Client({ requests: n.requests, events: n.events, timeout: this.timeout, curve: this.curve }));
  }

  /** A snapshot, asked again while the daemon restarts. */
  async freshSnapshot() {
    const deadline = Date.now() + Math.max(this.timeout, 60000);
    for (;;) {
      try {
        const s = await this.call({ type: 'snapshot' });
        return { seq: s.seq, epoch: s.epoch, stream: s.stream, runs: s.runs };
      } catch (e) {
        if (e.code !== 'timeout' || Date.now() > deadline) throw e;
      }
    }
  }

  /**
   * Event envelopes in seq order, never a gap: the snapshot first ({event: 'snapshot', seq, epoch,
   * stream, runs, node: 0}), then every event after it; on a gap or a new epoch (a restarted daemon)
   * a new snapshot, yielded as {event: 'resync', ...}. `timeout` (ms): throw after that long without
   * any message. With `chainId`, only that chain's events (gaps are noticed by epoch only). To
   * follow every node of a cluster, see watchCluster.
   */
  async *watch({ chainId, timeout } = {}) {
    yield* watchCluster([this], { chainId, timeout });
  }

  /** A SUB socket on this daemon's events: all of them, or one chain's and the heartbeats. */
  subscribe(chainId) {
    const sub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 0 });
    secure(sub, this.curve);
    if (chainId) {
      for (const kind of ['before:run ', 'update:run ', 'after:run ']) sub.subscribe(kind + chainId);
      sub.subscribe('heartbeat');
    } else {
      sub.subscribe();
    }
    sub.connect(this.events);
    return sub;
  }

  close() {
    if (this.sock) this.sock.close();
    this.sock = null;
  }
}

/**
 * The rules of one stream (docs/cluster.md, "Events"; the C++ side: src/core/stream_follower.hpp):
 * 'apply' (and the stream moves to seq), 'drop' (the snapshot holds it) or 'resync'.
 */
function verdict(at, epoch, seq, contiguous) {
  if (epoch !== at.epoch) return 'resync';
  if (seq <= at.seq) return 'drop';
  if (contiguous && seq !== at.seq + 1) return 'resync';
  at.seq = seq;
  return 'apply';
}

/**
 * Follows the events of every node of a cluster (docs/cluster.md, "Events"), one Client per node:
 * each node is a stream of its own, with its own epoch and seq, checked on its own. Yields a
 * snapshot per node first ({event: 'snapshot', node: i, stream, seq, epoch, runs}), then the events
 * of all of them as they come (each envelope names its `stream`); a gap or a restart of one node
 * yields {event: 'resync', node: i, ...} with that node's new snapshot while the others go on.
 * `timeout` (ms): throw after that long without any message from any node.
 */
async function* watchCluster(clients, { chainId, timeout } = {}) {
  const contiguous = !chainId;
  const subs = clients.map((c) => c.subscribe(chainId));
  const receive = (i) => {
    const p = subs[i].receive().then(([, body]) => ({ i, env: JSON.parse(body.toString()) }));
    p.catch(() => {}); // a receive still open when the sockets close
    return p;
  };
  const inflight = subs.map((_, i) => receive(i));
  const next = async (limit, only) => {
    let timer;
    const races = only === undefined ? [...inflight] : [inflight[only]];
    if (limit !== undefined && limit >= 0) {
      const from = only === undefined ? clients.map((c) => c.events).join(', ') : clients[only].events;
      races.push(new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no events from ${from} within ${limit} ms`)), limit);
      }));
    }
    try {
      const got = await Promise.race(races);
      inflight[got.i] = receive(got.i);
      return got;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    // A subscription is live once a first message arrives (ZeroMQ's slow joiner): heartbeats.
    const pending = [];
    for (let i = 0; i < subs.length; i++) pending.push(await next(timeout ?? 30000, i));
    const at = clients.map(() => ({ epoch: '', seq: 0 }));
    const snapshot = async (i, event) => {
      const snap = await clients[i].freshSnapshot();
      at[i] = { epoch: snap.epoch, seq: snap.seq };
      return { ...snap, event, node: i };
    };
    for (let i = 0; i < clients.length; i++) yield await snapshot(i, 'snapshot');
    for (;;) {
      const { i, env } = pending.length ? pending.shift() : await next(timeout);
      if (env.event === 'heartbeat') {
        if (env.epoch !== at[i].epoch || (contiguous && env.seq > at[i].seq)) yield await snapshot(i, 'resync');
        continue;
      }
      let v = verdict(at[i], env.epoch, env.seq, contiguous);
      if (v === 'resync') {
        yield await snapshot(i, 'resync');
        v = verdict(at[i], env.epoch, env.seq, contiguous); // again: 'resync' means older than it
      }
      if (v === 'apply') yield env;
    }
  } finally {
    for (const sub of subs) sub.close();
  }
}

class Worker extends EventEmitter {
  /**
   * Serves operations: worker.operation(name, fn) registers `fn(input, task)` (sync or async) whose
   * result is the step's output; throwing CoworkerError(code, message) fails the step with that code,
   * anything else with `handler_error`. run() serves until stop(); it heartbeats and says hello again
   * when a restarted daemon does not know it. Emits 'welcome' (with its `endpoint`) each time a
   * daemon accepts it. `endpoint`: one daemon's workers endpoint, or a list, one per node of a cluster.
   */
  constructor({ endpoint = 'tcp://127.0.0.1:5572', capacity = 1, curve } = {}) {
    super();
    if (!(capacity >= 1 && capacity <= 1000)) throw new RangeError('capacity is 1 to 1,000');
    Object.assign(this, { endpoint, capacity, curve });
    this.handlers = new Map();
    this.stopped = false;
    this.served = 0;
    this.welcomes = 0; // how many times a daemon accepted the hello
  }

  operation(name, fn, { inputSchema } = {}) {
    this.handlers.set(name, { fn, inputSchema });
    return this;
  }

  stop() { this.stopped = true; }

  hello(capacity = this.capacity) {
    const operations = [...this.handlers].map(([name, h]) => (h.inputSchema ? { name, inputSchema: h.inputSchema } : name));
    return { type: 'hello', capacity, operations };
  }

  async answer(task) {
    const h = this.handlers.get(task.operation);
    try {
      return { type: 'result', taskId: task.taskId, output: await h.fn(task.input, task) };
    } catch (e) {
      if (e instanceof CoworkerError) return { type: 'error', taskId: task.taskId, error: { code: e.code, message: e.reason } };
      return { type: 'error', taskId: task.taskId, error: { code: 'handler_error', message: `${e && e.name}: ${e && e.message}` } };
    }
  }

  /**
   * Serves until stop(): the daemon at `endpoint`, or every node of a cluster when it is a list
   * (docs/cluster.md, "Workers"), each over its own socket, each offered capacity / nodes tasks (at
   * least 1).
   */
  async run() {
    if (!this.handlers.size) throw new Error('no operations: register one with worker.operation(name, fn)');
    const endpoints = Array.isArray(this.endpoint) ? this.endpoint : [this.endpoint];
    if (!endpoints.length) throw new Error('no endpoint');
    const share = Math.max(1, Math.floor(this.capacity / endpoints.length));
    await Promise.all(endpoints.map((e) => this.serve(e, share)));
  }

  async serve(endpoint, capacity) {
    const sock = new zmq.Dealer({ linger: 0 });
    secure(sock, this.curve);
    sock.connect(endpoint);
    const writes = new Queue();
    let lastSent = Date.now();
    const send = (msg) => writes.run(async () => { await sock.send(JSON.stringify(msg)); lastSent = Date.now(); });
    let beat = 1000;
    try {
      await send(this.hello(capacity));
      while (!this.stopped) {
        sock.receiveTimeout = Math.max(10, Math.min(200, beat / 2));
        let msg = null;
        try {
          const frames = await sock.receive();
          msg = JSON.parse(frames[frames.length - 1].toString());
        } catch (e) {
          if (!isTimeout(e)) throw e;
        }
        if (msg && msg.type === 'welcome') {
          beat = msg.heartbeatMs || 1000;
          this.welcomes++;
          this.emit('welcome', { ...msg, endpoint });
        } else if (msg && msg.type === 'task') {
          this.answer(msg).then((reply) => send(reply)).then(() => { this.served++; });
        } else if (msg && msg.type === 'error' && msg.error && msg.error.code === 'not_registered') {
          await send(this.hello(capacity)); // a restarted daemon that does not know us
        }
        if (Date.now() - lastSent >= beat / 2) await send({ type: 'heartbeat' });
      }
      await send({ type: 'bye' });
    } finally {
      await writes.tail;
      sock.close();
    }
  }
}

module.exports = { Client, Worker, CoworkerError, watchCluster };
