'use strict';
// A process that never closes its service exits by itself once nothing is
// pending, and its worker goes with it.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ENV_DIR } = require('./helpers');

const child = `
const { Environment } = require(${JSON.stringify(path.resolve(__dirname, '..'))});
const svc = Environment.wrap(${JSON.stringify(ENV_DIR)}).python();
svc.task("import os\\ntask.outputs['result'] = os.getpid()").then((pid) => {
  process.stdout.write(String(pid));
});
`;

function running(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

test('a process exits without closing, and leaves no worker behind', async () => {
  const out = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', timeout: 60000, env: process.env });
  assert.equal(out.status, 0, out.stderr);
  const pid = Number(out.stdout);
  assert.ok(pid > 0, out.stdout);
  const deadline = Date.now() + 5000;
  while (running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(!running(pid), `worker ${pid} outlived its host`);
});
