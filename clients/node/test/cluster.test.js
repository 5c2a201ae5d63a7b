'use strict';
// watchCluster against two real daemons, each a stream of its own (docs/cluster.md, "Events"): a
// snapshot per node first, then the events of both, each naming its stream, every stream's seqs
// contiguous; a kill -9 and a restart of one node resyncs that node only, and its new epoch's
// events follow. A Worker given both workers endpoints serves the chains of each. (Two daemons on two
// store files: following streams and serving both need no shared database.)
const test = require('node:test');
const assert = require('node:assert');
const { EventEmitter } = require('node:events');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client, Worker, watchCluster } = require('..');
const { BIN, SAFETY, freePort, startDaemon, until } = require('./daemon');

test('watchCluster follows two daemons, each on its own', { skip: !BIN && 'COWORKER_BIN is not set' }, async () => {
  const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'coworker-node-cluster-')));
  const ports = [];
  for (let i = 0; i < 2; i++) ports.push([await freePort(), await freePort(), await freePort()]);
  const daemons = [];
  for (let i = 0; i < 2; i++) daemons.push(await startDaemon(dirs[i], ports[i]));
  const clients = ports.map(([req, ev]) => new Client({ requests: `tcp://127.0.0.1:${req}`, events: `tcp://127.0.0.1:${ev}`, timeout: SAFETY }));
  const watchers = ports.map(([req, ev]) => new Client({ requests: `tcp://127.0.0.1:${req}`, events: `tcp://127.0.0.1:${ev}`, timeout: SAFETY }));
  const changed = new EventEmitter();
  const events = [];
  const syncs = [];
  let stop = false;
  let watching = Promise.resolve();
  let serving = Promise.resolve();
  const worker = new Worker({ endpoint: ports.map(([, , wk]) => `tcp://127.0.0.1:${wk}`), capacity: 2 });
  const chain = (text) => ({ operation: 'run', children: [{ id: 'say', operation: 'log', input: text }] });
  const ended = (runId) => () => events.some((e) => e.run.id === runId && e.event === 'after:run');
  try {
    watching = (async () => {
      for await (const env of watchCluster(watchers, { timeout: SAFETY })) {
        (env.event === 'snapshot' || env.event === 'resync' ? syncs : events).push(env);
        changed.emit('change');
        if (stop) return;
      }
    })();
    await until('a snapshot of each node', () => syncs.length === 2, changed);
    assert.deepStrictEqual(syncs.map((s) => [s.event, s.node]), [['snapshot', 0], ['snapshot', 1]]);
    assert.notStrictEqual(syncs[0].stream, syncs[1].stream);

    const runs = [];
    for (let k = 0; k < 6; k++) runs.push(await clients[k % 2].run(chain(`chain ${k}`)));
    for (const r of runs) await until(`the end of ${r.runId}`, ended(r.runId), changed);
    for (let i = 0; i < 2; i++) {
      const mine = events.filter((e) => e.stream === syncs[i].stream);
      const ids = new Set(mine.map((e) => e.run.chainId));
      runs.forEach((r, k) => assert.strictEqual(ids.has(r.runId), k % 2 === i, `${r.runId} on stream ${syncs[i].stream}`));
    }

    // One worker on both nodes serves a chain of each.
    worker.operation('shout', (input) => ({ text: input.text.toUpperCase() }));
    let welcomed = 0;
    const both = new Promise((resolve) => worker.on('welcome', () => { if (++welcomed === 2) resolve(); }));
    serving = worker.run();
    await both;
    for (let i = 0; i < 2; i++) {
      const r = await clients[i].run({ operation: 'run', children: [{ id: 'loud', operation: 'shout', input: { text: `node ${i}` } }] });
      assert.strictEqual(r.status, 'completed');
      assert.deepStrictEqual(r.tree.children[0].output, { text: `NODE ${i}` });
    }
    assert.strictEqual(worker.served, 2);

    // kill -9 node 1 and start it again on the same endpoints: it alone is resynced.
    daemons[1].kill('SIGKILL');
    await new Promise((resolve) => daemons[1].once('exit', resolve));
    daemons[1] = await startDaemon(dirs[1], ports[1]);
    await until('the resync of node 1', () => syncs.length === 3, changed);
    assert.strictEqual(syncs[2].event, 'resync');
    assert.strictEqual(syncs[2].node, 1);
    assert.notStrictEqual(syncs[2].epoch, syncs[1].epoch);
    const after = [await clients[0].run(chain('a again')), await clients[1].run(chain('b again'))];
    for (const r of after) await until(`the end of ${r.runId}`, ended(r.runId), changed);
    assert.strictEqual(syncs.length, 3);

    // Within each stream and epoch, seq grows by exactly 1.
    for (const key of new Set(events.map((e) => `${e.stream} ${e.epoch}`))) {
      const seqs = events.filter((e) => `${e.stream} ${e.epoch}` === key).map((e) => e.seq);
      seqs.forEach((s, i) => assert.strictEqual(s, seqs[0] + i, `${key}: a gap or a repeat at ${i}: ${seqs}`));
    }
    assert.strictEqual(new Set(events.map((e) => e.stream)).size, 3);  // b's restart is a new node name
  } finally {
    stop = true;
    worker.stop();
    for (const c of clients) c.close();
    for (const d of daemons) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
  }
  await Promise.all(daemons.map((d) => (d.exitCode !== null || d.signalCode !== null ? null : new Promise((r) => d.once('exit', r)))));
  await Promise.race([serving.catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000))]);
  await Promise.race([watching, new Promise((resolve) => setTimeout(resolve, 10))]);
  for (const w of watchers) w.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  setImmediate(() => process.exit(process.exitCode || 0));  // the watcher's sockets may still wait
});
