'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { Environment, TaskError } = require('..');
const { ENV_DIR, COLLATZ } = require('./helpers');

function python() {
  return Environment.wrap(ENV_DIR).python();
}

test('Collatz: 93 events in order, result 91', async () => {
  const svc = python();
  try {
    const task = svc.task(COLLATZ);
    const events = [];
    task.on('event', (e) => events.push(e));
    assert.equal(await task, 91);
    assert.equal(events.length, 93);
    assert.equal(events[0].type, 'LAUNCH');
    assert.equal(events[92].type, 'COMPLETION');
    for (let i = 1; i <= 91; i++) {
      assert.equal(events[i].type, 'UPDATE');
      assert.equal(events[i].current, i - 1);
    }
    assert.equal(events[1].message, '[0] -> 29998');
    assert.equal(task.status, 'COMPLETE');
  } finally {
    await svc.close();
  }
});

test('values stay exact: NaN, infinities, integers beyond 2^53', async () => {
  const svc = python();
  try {
    const big = 2n ** 70n;
    const result = await svc.task("task.outputs['result'] = [x, float('nan'), float('-inf'), 2**70 + 1]", { x: big });
    assert.equal(result[0], big);
    assert.ok(Number.isNaN(result[1]));
    assert.equal(result[2], -Infinity);
    assert.equal(result[3], big + 1n);
  } finally {
    await svc.close();
  }
});

test('a failure rejects with the traceback; a crash with the report', async () => {
  const svc = python();
  try {
    await assert.rejects(svc.task('no_such_name'), (e) => {
      assert.ok(e instanceof TaskError);
      assert.equal(e.status, 'FAILED');
      assert.match(e.message, /NameError/);
      return true;
    });
    const t = svc.task('import os\nos._exit(3)');
    await assert.rejects(t, (e) => e.status === 'CRASHED' && /exit code 3/.test(e.message));
  } finally {
    await svc.close();
  }
});

test('cancel', async () => {
  const svc = python();
  try {
    const t = svc.task('import time\nwhile not task.cancel_requested:\n    time.sleep(0.01)\ntask.cancel()');
    t.once('launch', () => t.cancel());
    await assert.rejects(t, (e) => e.status === 'CANCELED');
  } finally {
    await svc.close();
  }
});

test('close kills a worker that will not exit within its timeout', async () => {
  const svc = python();
  svc.task('import time\ntime.sleep(60)');
  const t0 = performance.now();
  const code = await svc.close({ timeout: 300 });
  assert.equal(code, 137);
  assert.ok(performance.now() - t0 < 10000);
});

test('1,000 concurrent tasks from one event loop, the loop never blocked', async () => {
  const svc = python();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const tasks = [];
    for (let i = 0; i < 1000; i++) tasks.push(svc.task(`task.update('half', current=1)\ntask.outputs['result'] = ${i} * 2`));
    const results = await Promise.all(tasks);
    results.forEach((r, i) => assert.equal(r, i * 2));
  } finally {
    clearInterval(timer);
    delay.disable();
    await svc.close();
  }
  assert.ok(ticks > 0, 'the interval ticked');
  const p99 = delay.percentile(99) / 1e6;
  assert.ok(p99 < 100, `event-loop delay p99 ${p99} ms`);
});

test('a listener that throws is reported, and the task, the service and the process go on', async () => {
  const svc = python();
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  const uncaught = [];
  const onUncaught = (e) => uncaught.push(e);
  process.on('warning', onWarning);
  process.on('uncaughtException', onUncaught);
  try {
    const t = svc.task("task.update('x')\ntask.outputs['result'] = 1");
    t.on('update', () => {
      throw new Error('listener bug');
    });
    let completed = false;
    t.on('completion', () => {
      throw new Error('another bug');
    });
    t.on('event', (e) => { completed ||= e.type === 'COMPLETION'; });
    assert.equal(await t, 1);
    assert.ok(completed, 'the task still delivered its events');
    await new Promise((r) => setImmediate(r));
    assert.ok(warnings.some((w) => w.code === 'APPOSE_LISTENER' && /listener bug/.test(w.message)), 'the throw is reported');
    assert.ok(warnings.some((w) => /another bug/.test(w.message)));
    assert.equal(await svc.task('2 + 2'), 4, 'the service goes on');
    assert.deepEqual(uncaught, []);
  } finally {
    process.off('warning', onWarning);
    process.off('uncaughtException', onUncaught);
    await svc.close();
  }
});
