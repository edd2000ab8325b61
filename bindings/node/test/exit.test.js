'use strict';
// A process that never closes its service exits by itself once nothing is
// pending, and leaves nothing behind: no worker, no shared memory block
// (neither its own nor one the worker made and returned).
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { ENV_DIR, eventually, running, shmExists } = require('./helpers');

const child = `
const { Environment, NDArray } = require(${JSON.stringify(path.resolve(__dirname, '..'))});
(async () => {
  const svc = Environment.wrap(${JSON.stringify(ENV_DIR)}).python();
  const mine = await NDArray.create('float32', [1024]);
  const theirs = await svc.task(\`
import os
from appose import NDArray
a = NDArray('uint8', [4096])
task.outputs['pid'] = os.getpid()
task.outputs['made'] = a
task.outputs['result'] = a
\`, { mine });
  const obj = await svc.task('import datetime\\ndatetime.date.today()');
  process.stdout.write(JSON.stringify({ pid: svc.pid, blocks: [mine.shm.name, theirs.shm.name], obj: obj.name }));
})();
`;

test('a process exits without closing, and leaves no worker and no block behind', async () => {
  const out = spawnSync(process.execPath, ['-e', child], { encoding: 'utf8', timeout: 60000, env: process.env });
  assert.equal(out.status, 0, out.stderr);
  const { pid, blocks } = JSON.parse(out.stdout);
  assert.ok(pid > 0, out.stdout);
  assert.equal(blocks.length, 2);
  await eventually(() => !running(pid), 5000, `worker ${pid} to go with its host`);
  for (const name of blocks) assert.ok(!shmExists(name), `block ${name} left in /dev/shm`);
});
