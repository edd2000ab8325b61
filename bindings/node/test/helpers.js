'use strict';
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');

/** The Python environment with the pinned appose package (tests/support/python-env.sh makes it). */
const ENV_DIR = process.env.APPOSE_TEST_PYTHON_ENV
  || path.resolve(__dirname, '..', '..', '..', 'target', 'tmp', 'python-env');

const COLLATZ = `
# Computes the stopping time of a given value
# according to the Collatz conjecture sequence.
time = 0
v = 9999
while v != 1:
    v = v//2 if v%2==0 else 3*v+1
    task.update(f"[{time}] -> {v}", current=time)
    time += 1
task.outputs["result"] = time
`;

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc');

/** A full garbage collection, then a turn of the loop for the finalizers it scheduled. */
async function gc() {
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves once `cond()` holds (polling), or rejects after `ms`. */
async function eventually(cond, ms = 10000, what = 'the condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a shared memory block of this name is in /dev/shm. */
function shmExists(name) {
  return fs.existsSync(path.join('/dev/shm', name));
}

/** Whether the process `pid` runs (a zombie does not). */
function running(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

module.exports = { ENV_DIR, COLLATZ, gc, eventually, shmExists, running };
