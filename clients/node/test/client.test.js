'use strict';
// The Node client against a real `coworker serve` (COWORKER_BIN), on free loopback ports and a store
// file: a Worker serves an operation, Client.run waits for chains using it, refusals are
// CoworkerError with code and path, publish/chains/run by name, signal, cancel, a redrive dry run,
// and watch() yields the snapshot first then every event with no gap, across a kill -9 and a restart
// on the same endpoints (one resync; the worker says hello again).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client, Worker, CoworkerError } = require('..');

const { BIN, SAFETY, freePort, startDaemon, until } = require('./daemon');

test('a Node client and worker against a real daemon', { skip: !BIN && 'COWORKER_BIN is not set' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coworker-node-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  let daemon = await startDaemon(dir, ports);
  const endpoints = { requests: `tcp://127.0.0.1:${ports[0]}`, events: `tcp://127.0.0.1:${ports[1]}`, timeout: SAFETY };
  const client = new Client(endpoints);
  const { EventEmitter } = require('node:events');
  const changed = new EventEmitter();

  const worker = new Worker({ endpoint: `tcp://127.0.0.1:${ports[2]}`, capacity: 2 });
  let serving = Promise.resolve();
  let watching = Promise.resolve();
  const watcher = new Client(endpoints);
  try {
    worker.operation('shout', async (input, task) => {
      if (input.refuse) throw new CoworkerError('refused', 'not this one');
      return { text: input.text.toUpperCase(), attempt: task.attempt };
    }, { inputSchema: { type: 'object' } });
    const welcomed = require('node:events').once(worker, 'welcome');
    serving = worker.run();
    await welcomed;

    // A watcher with its own client: every event, in order.
    const events = [];
    const syncs = [];
    watching = (async () => {
      for await (const env of watcher.watch({ timeout: SAFETY })) {
        (env.event === 'snapshot' || env.event === 'resync' ? syncs : events).push(env);
        changed.emit('change');
        if (worker.stopped) return;
      }
    })();
    await until('the snapshot', () => syncs.length === 1, changed);
    assert.strictEqual(syncs[0].event, 'snapshot');

    const chain = { operation: 'run', children: [
      { id: 'loud', operation: 'shout', input: { text: '{{input.text}}' } },
      { id: 'done', operation: 'log', input: '{{loud.output.text}}' }] };
    let r = await client.run(chain, { input: { text: 'hello' } });
    assert.strictEqual(r.status, 'completed');
    assert.strictEqual(r.tree.output.last, 'HELLO');
    assert.deepStrictEqual((await client.get(r.runId, { tree: true })).children[0].output, { text: 'HELLO', attempt: 1 });
    assert.strictEqual((await client.list({ limit: 5 }))[0].id, r.runId);

    r = await client.run({ operation: 'run', children: [{ id: 'no', operation: 'shout', input: { refuse: true } }] });
    assert.strictEqual(r.status, 'failed');
    assert.strictEqual(r.tree.error.code, 'refused');
    await assert.rejects(client.run({ operation: 'run', children: [{ id: 'x', operation: 'nope' }] }),
      (e) => e instanceof CoworkerError && e.code === 'unknown_operation' && e.path === '/chain/children/0/operation');

    assert.deepStrictEqual(await client.signal({ key: 'node-key', payload: { ok: true } }), { kept: true });
    const p = await client.publish('shouter', chain);
    assert.strictEqual(p.version, 1);
    assert.strictEqual((await client.chains())[0].name, 'shouter');
    const nodes = await client.nodes();  // outside a cluster: this daemon alone, with its endpoints
    assert.deepStrictEqual(nodes.map((n) => [n.self, n.requests, n.events]), [[true, endpoints.requests, endpoints.events]]);
    const found = await client.cluster();
    assert.deepStrictEqual(found.map((c) => [c.requests, c.events]), [[endpoints.requests, endpoints.events]]);
    r = await client.run(undefined, { chainRef: 'shouter@1', input: { text: 'by name' } });
    assert.strictEqual(r.tree.chainName, 'shouter');
    assert.strictEqual(r.tree.output.last, 'BY NAME');
    const slow = await client.run({ operation: 'run', children: [{ id: 'nap', operation: 'wait', input: { ms: 60000 } }] }, { wait: false });
    await client.cancel(slow.runId);
    await until('the cancelled chain', () => events.some((e) => e.run.id === slow.runId && e.event === 'after:run'), changed);
    assert.deepStrictEqual((await client.redrive(slow.runId, { dryRun: true })).wouldRun, ['nap']);

    // kill -9, a restart on the same endpoints: one resync, the worker says hello again.
    const before = syncs.length;
    daemon.kill('SIGKILL');
    await new Promise((resolve) => daemon.once('exit', resolve));
    const again = require('node:events').once(worker, 'welcome');
    daemon = await startDaemon(dir, ports);
    await again;
    // The watcher resyncs (the new epoch's first message); everything after it comes as events.
    await until('the resync', () => syncs.length === before + 1, changed);
    r = await client.run(chain, { input: { text: 'again' } });
    assert.strictEqual(r.tree.output.last, 'AGAIN');
    await until('the chain on the new daemon', () => events.some((e) => e.run.id === r.runId && e.event === 'after:run'), changed);
    assert.strictEqual(syncs.length, before + 1);  // once, not again for the new chain's events
    assert.strictEqual(syncs[syncs.length - 1].event, 'resync');
    const epochs = [...new Set(events.map((e) => e.epoch))];
    assert.strictEqual(epochs.length, 2);
    for (const ep of epochs) {
      const seqs = events.filter((e) => e.epoch === ep).map((e) => e.seq);
      seqs.forEach((s, i) => assert.strictEqual(s, seqs[0] + i, `a gap or a repeat at ${i}: ${seqs.slice(0, 30)}`));
    }
  } finally {
    // On a failure too: nothing may keep the process alive (the watcher ends at its timeout).
    worker.stop();
    client.close();
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
  }
  await serving;
  await new Promise((resolve) => (daemon.exitCode !== null || daemon.signalCode !== null ? resolve() : daemon.once('exit', resolve)));
  await Promise.race([watching, new Promise((resolve) => setTimeout(resolve, 10))]);
  watcher.close();
  fs.rmSync(dir, { recursive: true, force: true });
  setImmediate(() => process.exit(process.exitCode || 0));  // the watcher's socket may still wait
});
