'use strict';
// The scenarios of queue_smoke.test.js, each run in a process of its own so
// that the test can see how that process ends (by itself, exit code 0) and
// what it leaves behind. Results go to stdout as `RESULT <json>` lines; a
// failed check throws, which ends the process with exit code 1.
//
// Usage: node queue_smoke_child.js tasks socket|poll
//        node queue_smoke_child.js abandon
//        node queue_smoke_child.js errors
//
// Every library call happens on the JS thread: no koffi callback and no
// .async call is used, events come from the queue, which the event loop
// watches through its file descriptor.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const { isMainThread } = require('node:worker_threads');
const { koffi, c, EVENT, RESPONSE, call, get, getString, takeAll } = require('./libappose');

const ENV_DIR = process.env.APPOSE_TEST_PYTHON_ENV;
const TASKS = 100;
const UPDATES = 3;
const TASKS_TAG = 7;
const CLOSE_TAG = 9;

const gettid = koffi.load('libc.so.6').func('int gettid(void)');
const jsThread = gettid();

function report(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

const ms = (t0) => Math.round(performance.now() - t0);

/** Whether a process runs (a zombie does not). */
function running(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Watches `queue` from the event loop and calls `onEvents` with what it
 * takes, on the JS thread, each time the queue's fd is readable.
 *  - socket: node's own net.Socket over a dup of the fd (the socket reads
 *    the wake-up byte itself and closes its fd when destroyed);
 *  - poll: koffi's libuv poll handle on the queue's own fd (never reads
 *    nor closes it; level-triggered, so the fd must be drained: taking
 *    until empty does that). Close it before freeing the queue: libuv
 *    must not watch a closed fd.
 * Both keep the event loop alive until closed.
 */
function watchQueue(kind, queue, onEvents) {
  const counts = { wakeups: 0, empty: 0 };
  const drain = () => {
    assert.ok(isMainThread && gettid() === jsThread, 'the queue is drained on the JS thread');
    counts.wakeups++;
    const events = takeAll(queue);
    if (events.length) onEvents(events);
    else counts.empty++;
  };
  if (kind === 'socket') {
    const fd = get('appose_queue_dup_fd', queue);
    const socket = new net.Socket({ fd, readable: true, writable: false });
    socket.on('data', drain);
    socket.on('error', (e) => { throw e; });
    return { close: () => socket.destroy(), counts };
  }
  if (kind === 'poll') {
    const fd = get('appose_queue_fd', queue);
    const handle = koffi.node.poll(fd, { readable: true }, (status) => {
      assert.equal(status, 0, 'poll status');
      drain();
    });
    return { close: () => handle.close(), counts };
  }
  throw new Error(`unknown watcher ${kind}`);
}

function pythonService() {
  assert.ok(ENV_DIR, 'APPOSE_TEST_PYTHON_ENV names the Python test environment');
  const env = get('appose_env_wrap', ENV_DIR);
  try {
    return get('appose_env_python', env);
  } finally {
    c.appose_env_free(env);
  }
}

const TASK_SCRIPT = `import os
for k in range(${UPDATES}):
    task.update(f'task {n} step {k}', current=k, maximum=${UPDATES})
task.outputs['pid'] = os.getpid()
task.outputs['pgid'] = os.getpgid(0)
n * 2
`;

/**
 * 100 tasks through one queue, then a close through the same queue; the
 * loop stays free (a timer keeps ticking) and the process ends by itself.
 */
async function tasksScenario(watcherKind) {
  const t0 = performance.now();
  let ticks = 0;
  let lastTick = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - lastTick);
    lastTick = now;
    ticks++;
  }, 5);

  const service = pythonService();
  const queue = get('appose_queue_new');
  call('appose_service_listen_queue', service, queue, TASKS_TAG);

  const tasks = new Map(); // task id -> { n, handle, events, outputs }
  let settled = 0;
  let closed = null;
  let allSettled;
  const allDone = new Promise((resolve) => { allSettled = resolve; });
  let onClosed;
  const closeDone = new Promise((resolve) => { onClosed = resolve; });

  const watcher = watchQueue(watcherKind, queue, (events) => {
    for (const ev of events) {
      if (ev.kind === EVENT.CLOSED) {
        assert.equal(ev.tag, CLOSE_TAG);
        assert.equal(closed, null, 'one CLOSED event');
        closed = ev;
        onClosed();
        continue;
      }
      assert.equal(ev.kind, EVENT.TASK);
      assert.equal(ev.tag, TASKS_TAG);
      const task = tasks.get(ev.task_id);
      assert.ok(task, `an event of a task made here (${ev.task_id})`);
      assert.equal(task.outputs, undefined, `no event after the terminal one (task ${task.n})`);
      task.events.push({
        type: RESPONSE[ev.response_type],
        status: c.appose_task_status_str(ev.task_status),
        message: ev.message,
        current: ev.has_current ? Number(ev.current) : null,
        maximum: ev.has_maximum ? Number(ev.maximum) : null,
        error: ev.error,
      });
      if (ev.response_type >= 2) {
        task.result = JSON.parse(getString('appose_task_result_json', task.handle));
        task.outputs = JSON.parse(getString('appose_task_outputs_json', task.handle));
        c.appose_task_free(task.handle);
        if (++settled === TASKS) allSettled();
      }
    }
  });

  for (let n = 0; n < TASKS; n++) {
    const handle = get('appose_service_task', service, TASK_SCRIPT, JSON.stringify({ n }), null);
    const id = getString('appose_task_id', handle);
    tasks.set(id, { n, handle, events: [] });
    call('appose_task_start', handle);
  }
  const submitted = ms(t0);
  await allDone;
  const tasksDone = ms(t0);

  const expected = (n) => [
    { type: 'LAUNCH', status: 'RUNNING', message: null, current: null, maximum: null, error: null },
    ...Array.from({ length: UPDATES }, (_, k) => ({
      type: 'UPDATE', status: 'RUNNING', message: `task ${n} step ${k}`, current: k, maximum: UPDATES, error: null,
    })),
    { type: 'COMPLETION', status: 'COMPLETE', message: null, current: null, maximum: null, error: null },
  ];
  const pids = new Set();
  for (const task of tasks.values()) {
    assert.deepEqual(task.events, expected(task.n), `the events of task ${task.n}, in order`);
    assert.equal(task.result, task.n * 2, `the result of task ${task.n}`);
    pids.add(`${task.outputs.pid}/${task.outputs.pgid}`);
  }
  assert.equal(pids.size, 1, 'one worker ran every task');
  const [pid, pgid] = [...pids][0].split('/').map(Number);
  assert.ok(running(pid), 'the worker runs until the close');

  const closeStart = performance.now();
  call('appose_service_close_async', service, 10000, queue, CLOSE_TAG);
  await closeDone;
  const closeTook = ms(closeStart);
  assert.equal(c.appose_status_str(closed.status), 'APPOSE_STATUS_OK', `close: ${closed.error}`);
  assert.equal(closed.exit_code, 0, 'the worker exited cleanly');
  assert.ok(!running(pid), 'the worker is gone once CLOSED arrives');

  watcher.close();
  clearInterval(ticker);
  c.appose_service_free(service);
  c.appose_queue_free(queue);
  assert.ok(ticks >= 1, 'the timer ticked while the tasks ran');

  report({
    scenario: 'tasks',
    watcher: watcherKind,
    pid,
    pgid,
    events: [...tasks.values()].reduce((s, t) => s + t.events.length, 0),
    wakeups: watcher.counts.wakeups,
    emptyWakeups: watcher.counts.empty,
    ticks,
    longestTickGapMs: Math.round(longestGap),
    submitMs: submitted,
    tasksMs: tasksDone,
    closeMs: closeTook,
  });
  // Nothing is left to keep the loop alive: the process ends by itself.
}

/**
 * A task still running, no close, no frees: the process ends by itself
 * when the loop has nothing left to do, and the worker goes with it.
 */
async function abandonScenario() {
  const service = pythonService();
  const queue = get('appose_queue_new');
  const script = `import os, time
task.update(f'{os.getpid()} {os.getpgid(0)}')
time.sleep(600)
`;
  const task = get('appose_service_task', service, script, null, null);
  call('appose_task_listen_queue', task, queue, TASKS_TAG);
  let watcher;
  const worker = await new Promise((resolve) => {
    watcher = watchQueue('socket', queue, (events) => {
      for (const ev of events) {
        if (RESPONSE[ev.response_type] === 'UPDATE') {
          const [pid, pgid] = ev.message.split(' ').map(Number);
          resolve({ pid, pgid });
        }
      }
    });
    call('appose_task_start', task);
  });
  assert.ok(running(worker.pid), 'the worker runs the task');
  assert.equal(c.appose_task_status_str(get('appose_task_get_status', task)), 'RUNNING');
  watcher.close();
  report({ scenario: 'abandon', ...worker });
  // The task, service and queue handles stay: the process exits with them.
}

/** A bad call returns its status and an error handle with a message. */
function errorsScenario() {
  const results = [];
  const check = (name, args, status, pattern) => {
    const out = [null];
    const error = [null];
    const got = c[name](...args, out, error);
    assert.equal(c.appose_status_str(got), status, name);
    assert.equal(out[0], null, `${name} writes no result on failure`);
    assert.notEqual(error[0], null, `${name} hands out an error`);
    assert.equal(c.appose_error_status(error[0]), got);
    const message = c.appose_error_message(error[0]);
    assert.match(message, pattern);
    assert.equal(c.appose_error_free(error[0]), 0);
    results.push({ call: name, status, message });
  };
  check('appose_env_wrap', ['/no/such/dir/anywhere'], 'APPOSE_STATUS_NOT_FOUND', /\/no\/such\/dir\/anywhere/);

  const queue = get('appose_queue_new');
  assert.equal(c.appose_queue_free(queue), 0);
  check('appose_queue_take', [queue, 0], 'APPOSE_STATUS_INVALID_HANDLE', /appose_queue/);
  // A freed handle again, and the error handle left out: the status alone.
  assert.equal(c.appose_status_str(c.appose_queue_dup_fd(queue, [0], null)), 'APPOSE_STATUS_INVALID_HANDLE');
  assert.equal(c.appose_error_free(null), 0, 'freeing no error is a no-op');
  report({ scenario: 'errors', results });
}

const scenarios = {
  tasks: tasksScenario,
  abandon: abandonScenario,
  errors: errorsScenario,
};
const [scenario, arg] = process.argv.slice(2);
if (!scenarios[scenario]) throw new Error('usage: queue_smoke_child.js tasks socket|poll | abandon | errors');
scenarios[scenario](arg);
