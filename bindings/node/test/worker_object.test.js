'use strict';
// Worker objects, variables and calls: each a task, none blocking the
// event loop; objects the worker sent are deleted there on release.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Environment, WorkerObject, NDArray, TaskError } = require('..');
const { ENV_DIR, gc, eventually } = require('./helpers');

function python() {
  return Environment.wrap(ENV_DIR).python();
}

/** How many variables the worker exports (a private detail of appose 0.12.0's Python worker). */
function exports(svc) {
  return svc.task('len(task._worker.exports)');
}

test("a datetime's attributes and methods, through the object and its proxy", async () => {
  const svc = python();
  try {
    const dt = await svc.task('import datetime\ndatetime.datetime(2024, 5, 17, 10, 30)');
    assert.ok(dt instanceof WorkerObject);
    assert.match(dt.name, /^_appose_auto_/);
    assert.equal(await dt.attr('year'), 2024);
    assert.equal(await dt.invoke('isoformat'), '2024-05-17T10:30:00');
    assert.equal(await dt.invoke('strftime', '%d/%m'), '17/05');
    assert.ok((await dt.dir()).includes('isoformat'));
    // A bound method is itself a worker object, callable.
    const iso = await dt.attr('isoformat');
    assert.ok(iso instanceof WorkerObject);
    assert.equal(await iso.call(), '2024-05-17T10:30:00');
    iso.release();

    const p = dt.proxy();
    assert.equal(await p.month, 5);
    assert.equal(await p.strftime('%Y'), '2024');
    // A method returning another datetime gives a proxy of it.
    const later = await p.replace(2030);
    assert.equal(await later.year, 2030);
    assert.equal(WorkerObject.from(later).name === dt.name, false);
    assert.equal(WorkerObject.from(p), dt);
    // Objects as arguments: the object itself, through either form.
    assert.equal(await svc.call('str', [p]), '2024-05-17 10:30:00');
    assert.equal(await svc.call('max', [dt, later]).then((m) => WorkerObject.from(m).attr('year')), 2030);
    await assert.rejects(p.no_such_method(), (e) => e instanceof TaskError && /AttributeError/.test(e.message));
    WorkerObject.from(later).release();
  } finally {
    await svc.close();
  }
});

test('a user object mutated across calls', async () => {
  const svc = python();
  try {
    await svc.task(`
class Counter:
    def __init__(self, start):
        self.total = start
    def add(self, n):
        self.total += n
        return self.total
task.export(Counter=Counter)
`);
    const counter = await svc.call('Counter', [10]);
    assert.ok(counter instanceof WorkerObject);
    assert.equal(await counter.invoke('add', 5), 15);
    const p = counter.proxy();
    assert.equal(await p.add(7), 22);
    assert.equal(await p.total, 22);
    // The object is the worker's: a task sees the same state by its name.
    assert.equal(await svc.task(`${counter.name}.total`), 22);
    counter.release();
  } finally {
    await svc.close();
  }
});

test('variables and calls: putVar, getVar, call, proxy of an exported variable', async () => {
  const svc = python();
  const arr = await NDArray.create('int64', [3]);
  try {
    await svc.putVar('threshold', 0.5);
    assert.equal(await svc.getVar('threshold'), 0.5);
    await svc.putVar('huge', 2n ** 80n);
    assert.equal(await svc.getVar('huge'), 2n ** 80n);
    assert.equal(await svc.task('threshold * 4'), 2);
    arr.data.set([1n, 2n, 3n]);
    await svc.putVar('arr', arr);
    // An assignment: the worker would evaluate only the right side of a final `*=`.
    await svc.task("arr.ndarray()[:] = arr.ndarray() * 10");
    assert.deepEqual(Array.from(arr.data), [10n, 20n, 30n]);
    assert.equal(await svc.call('max', [3, 7, 5]), 7);
    assert.equal(await svc.call('math.floor', [2.7]).catch((e) => e.status), 'FAILED', 'math is not exported');
    await svc.task('import math\ntask.export(math=math)');
    assert.equal(await svc.call('math.floor', [2.7]), 2);
    await assert.rejects(svc.getVar('no_such_var'), (e) => e instanceof TaskError && /no_such_var/.test(e.message));
    await assert.rejects(svc.getVar('not a name'), /INVALID_ARGUMENT/);

    await svc.task('task.export(items=[1, 2])');
    const items = svc.proxy('items');
    await items.invoke('append', 3);
    assert.deepEqual(await svc.getVar('items'), [1, 2, 3]);
    items.release();
    assert.deepEqual(await svc.getVar('items'), [1, 2, 3], 'a proxy never deletes your variable');
  } finally {
    arr.close();
    await svc.close();
  }
});

test('calls never block the event loop', async () => {
  const svc = python();
  try {
    await svc.task('import time\ntask.export(time=time)');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await svc.call('time.sleep', [0.5]);
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks >= 20, `the loop ticked ${ticks} times during a 0.5 s call`);
  } finally {
    await svc.close();
  }
});

test("release, explicit or by the garbage collector, brings the worker's exports back", async () => {
  const svc = python();
  try {
    const before = await exports(svc);
    let objs = await svc.task('import datetime\n[datetime.date(2000 + i, 1, 1) for i in range(20)]');
    assert.equal(objs.length, 20);
    assert.ok(objs.every((o) => o instanceof WorkerObject));
    assert.equal(await exports(svc), before + 20);
    assert.equal(await objs[3].attr('year'), 2003);

    // Explicitly: release() and `using`'s Symbol.dispose.
    for (const o of objs.slice(0, 9)) o.release();
    objs[9][Symbol.dispose]();
    await assert.rejects(objs[0].attr('year'), /released/);
    await eventually(async () => (await exports(svc)) === before + 10, 10000, 'ten exports released');

    // By the garbage collector: nothing refers to them any more.
    objs = null;
    await eventually(async () => {
      await gc();
      return (await exports(svc)) === before;
    }, 20000, 'the collected objects released');
  } finally {
    await svc.close();
  }
});
