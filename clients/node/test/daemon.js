'use strict';
// What the Node client's tests share: free loopback ports, a real `coworker serve` (COWORKER_BIN) on
// them, and waiting for a condition without sleeping.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { Client } = require('..');

const BIN = process.env.COWORKER_BIN;
const SAFETY = 60000;

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startDaemon(dir, ports) {
  const [req, ev, wk] = ports;
  const log = fs.openSync(path.join(dir, 'serve.log'), 'a');
  const proc = spawn(BIN, ['serve', '--db', path.join(dir, 'serve.db'), '--requests', `tcp://127.0.0.1:${req}`,
    '--events', `tcp://127.0.0.1:${ev}`, '--workers', `tcp://127.0.0.1:${wk}`], { stdio: ['ignore', log, log] });
  const c = new Client({ requests: `tcp://127.0.0.1:${req}`, timeout: 2000 });
  const deadline = Date.now() + SAFETY;
  for (;;) {
    try {
      await c.call({ type: 'ping' });
      break;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`no pong: ${fs.readFileSync(path.join(dir, 'serve.log'), 'utf8').slice(-2000)}`);
    }
  }
  c.close();
  return proc;
}

/** Resolves once `check()` holds, re-checked on every change `changed` signals (no sleeping). */
function until(what, check, changed) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), SAFETY);
    const look = () => { if (check()) { clearTimeout(timer); changed.off('change', look); resolve(); } };
    changed.on('change', look);
    look();
  });
}

module.exports = { BIN, SAFETY, freePort, startDaemon, until };
