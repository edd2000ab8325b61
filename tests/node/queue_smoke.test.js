'use strict';
// Smoke test of libappose's event queue from Node, through koffi and the C
// ABI alone: a Python worker runs 100 tasks whose events the event loop
// takes from one queue, a non-blocking close, a process that exits with a
// task still running, and errors handed back with the call.
//
// Each scenario runs in a child process (queue_smoke_child.js) so that we
// see it end by itself with exit code 0 in time, and check what it leaves
// behind: no worker process, no shared-memory registry.
//
// APPOSE_LIB: the shared library (default: target/debug/libappose.so, made
// by `cargo build`). APPOSE_TEST_PYTHON_ENV: a venv with the pinned appose
// package (default: target/tmp/python-env, made here as the Rust tests do).

const { test, before } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..', '..');
const CHILD_TIMEOUT_MS = 60_000;
// The library's supervisor ends the worker's process group as soon as the
// host is gone; allow for a loaded machine.
const WORKER_GONE_MS = 3_000;

let childEnv;

before(() => {
  let envDir = process.env.APPOSE_TEST_PYTHON_ENV;
  if (!envDir) {
    envDir = path.join(root, 'target', 'tmp', 'python-env');
    execFileSync('bash', [path.join(root, 'tests', 'support', 'python-env.sh'), envDir], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  childEnv = { ...process.env, APPOSE_TEST_PYTHON_ENV: envDir };
});

/** Runs a scenario; resolves when the child has exited, with its output. */
function runChild(args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(__dirname, 'queue_smoke_child.js'), ...args], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CHILD_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const exitedAt = performance.now();
      // 'close' follows once the pipes are drained.
      child.on('close', () => {
        const results = stdout.split('\n').filter((l) => l.startsWith('RESULT '))
          .map((l) => JSON.parse(l.slice('RESULT '.length)));
        resolve({ pid: child.pid, code, signal, stdout, stderr, results, exitedAt, ms: Math.round(exitedAt - t0) });
      });
    });
  });
}

function assertExitedByItself(run) {
  assert.equal(run.signal, null, `the child was killed (${run.signal}) after ${run.ms} ms; stderr:\n${run.stderr}`);
  assert.equal(run.code, 0, `the child exited with ${run.code}; stderr:\n${run.stderr}`);
  assert.equal(run.results.length, 1, `one result; stdout:\n${run.stdout}`);
}

/** Processes of a process group that still run (zombies do not). */
function groupMembers(pgid) {
  const members = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Fields after the command name: state ppid pgrp ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
  }
  return members;
}

/** Waits until the worker's process group is empty; returns how long after `since` that was. */
async function groupGone(pgid, since) {
  while (groupMembers(pgid).length > 0) {
    if (performance.now() - since > WORKER_GONE_MS) {
      assert.fail(`processes of the worker's group ${pgid} still run ${WORKER_GONE_MS} ms after the host exited: ${groupMembers(pgid)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return Math.round(performance.now() - since);
}

/** The library keeps /dev/shm/appose_owner_<pid>_* only while it owns blocks. */
function assertNoOwnerRegistry(pid) {
  const left = fs.readdirSync('/dev/shm').filter((n) => n.startsWith(`appose_owner_${pid}_`));
  assert.deepEqual(left, [], 'the host left a shared-memory registry');
}

for (const watcher of ['socket', 'poll']) {
  test(`100 tasks and a close through one queue, watched by ${watcher === 'socket' ? 'net.Socket' : 'koffi.node.poll'}`, async (t) => {
    const run = await runChild(['tasks', watcher]);
    assertExitedByItself(run);
    const r = run.results[0];
    assert.equal(r.events, 100 * 5);
    assert.ok(r.ticks >= 1, 'the event loop was never blocked for the whole run');
    assert.equal(r.emptyWakeups, 0, 'the fd is readable only while events wait');
    assert.ok(r.pgid > 1 && r.pid !== r.pgid, 'the worker runs in a group led by its supervisor');
    // The close ended the worker; its supervisor goes with it.
    const after = await groupGone(r.pgid, run.exitedAt);
    assertNoOwnerRegistry(run.pid);
    t.diagnostic(`child ${run.ms} ms (worker group gone ${after} ms after its exit): ` +
      `100 tasks in ${r.tasksMs} ms (submitted in ${r.submitMs} ms), ` +
      `${r.wakeups} wake-ups (${r.emptyWakeups} empty) for ${r.events} events, close ${r.closeMs} ms, ` +
      `${r.ticks} ticks of 5 ms, longest gap ${r.longestTickGapMs} ms`);
  });
}

test('a process that exits with a task running takes its worker along', async (t) => {
  const run = await runChild(['abandon']);
  assertExitedByItself(run);
  const { pid, pgid } = run.results[0];
  assert.ok(pid > 1 && pgid > 1);
  const after = await groupGone(pgid, run.exitedAt);
  assertNoOwnerRegistry(run.pid);
  t.diagnostic(`child ${run.ms} ms; worker ${pid} (group ${pgid}) gone ${after} ms after the host exited`);
});

test('a bad call returns its status and an error with a message', async () => {
  const run = await runChild(['errors']);
  assertExitedByItself(run);
  assert.deepEqual(run.results[0].results.map((e) => e.status),
    ['APPOSE_STATUS_NOT_FOUND', 'APPOSE_STATUS_INVALID_HANDLE']);
});
