'use strict';
// Arrays and blocks are shared with the worker, never copied: what the
// worker writes shows in the typed arrays taken before the task ran.
const test = require('node:test');
const assert = require('node:assert/strict');
const {
  Environment, NDArray, SharedMemory, DTYPES, float16ToNumber, numberToFloat16,
} = require('..');
const { ENV_DIR, gc, eventually, shmExists } = require('./helpers');

function python() {
  return Environment.wrap(ENV_DIR).python();
}

// What JS writes into element i, and what the worker writes back, per
// dtype, as plain JSON values for the worker to compare with.
const BIG = 2n ** 60n;
function before(dtype, i) {
  switch (dtype) {
    case 'bool': return i % 2 === 1;
    case 'float16': return i + 0.5;
    case 'complex64':
    case 'complex128': return { re: i + 1, im: -(i + 2) };
    case 'int8': case 'int16': case 'int32': case 'int64': return -(i + 1);
    default: return i + 1;
  }
}
function after(dtype, i) {
  switch (dtype) {
    case 'bool': return i % 2 === 0;
    case 'float16': return i * 0.25;
    case 'complex64':
    case 'complex128': return { re: 10 * i, im: i / 2 };
    case 'int64': return -BIG - BigInt(i);
    case 'uint64': return BIG + BigInt(i);
    default: return 3 * i + 2;
  }
}

const CHECK_AND_WRITE = `
import numpy as np
problems = []
for name, a in arrays.items():
    v = a.ndarray()
    if str(v.dtype) != name or list(v.shape) != [2, 3]:
        problems.append(f"{name}: {v.dtype} {v.shape}")
        continue
    flat = v.reshape(-1)
    want = [complex(x['re'], x['im']) if isinstance(x, dict) else x for x in expected[name]]
    if flat.tolist() != want:
        problems.append(f"{name}: {flat.tolist()} != {want}")
    new = [complex(x['re'], x['im']) if isinstance(x, dict) else x for x in written[name]]
    flat[:] = np.array(new, dtype=v.dtype)
task.outputs['result'] = problems
`;

test('arrays of every dtype: the worker reads what JS wrote and JS sees what the worker wrote, without a copy', async () => {
  const svc = python();
  const arrays = {};
  try {
    for (const dtype of DTYPES) arrays[dtype] = await NDArray.create(dtype, [2, 3]);
    const views = {};
    const expected = {};
    const written = {};
    for (const [dtype, a] of Object.entries(arrays)) {
      assert.deepEqual(a.shape, [2, 3]);
      assert.equal(a.dtype, dtype);
      for (let i = 0; i < 6; i++) a.set(i, before(dtype, i));
      views[dtype] = a.data;
      expected[dtype] = Array.from({ length: 6 }, (_, i) => before(dtype, i));
      written[dtype] = Array.from({ length: 6 }, (_, i) => after(dtype, i));
    }
    // The typed arrays of the README's table.
    assert.ok(views.int8 instanceof Int8Array);
    assert.ok(views.int64 instanceof BigInt64Array);
    assert.ok(views.uint64 instanceof BigUint64Array);
    assert.ok(views.float32 instanceof Float32Array);
    assert.ok(views.float16 instanceof Uint16Array);
    assert.ok(views.bool instanceof Uint8Array);
    assert.ok(views.complex64 instanceof Float32Array && views.complex64.length === 12);
    assert.ok(views.complex128 instanceof Float64Array && views.complex128.length === 12);

    const problems = await svc.task(CHECK_AND_WRITE, { arrays, expected, written });
    assert.deepEqual(problems, []);

    for (const [dtype, a] of Object.entries(arrays)) {
      assert.equal(a.data, views[dtype], 'the same view every time');
      for (let i = 0; i < 6; i++) assert.deepEqual(a.get(i), after(dtype, i), `${dtype}[${i}]`);
    }
    // The raw views themselves, not only the helpers.
    assert.deepEqual(Array.from(views.int32), [2, 5, 8, 11, 14, 17]);
    assert.deepEqual(Array.from(views.uint64), [BIG, BIG + 1n, BIG + 2n, BIG + 3n, BIG + 4n, BIG + 5n]);
    assert.deepEqual(Array.from(views.bool), [1, 0, 1, 0, 1, 0]);
    assert.deepEqual(Array.from(views.complex128.subarray(2, 4)), [10, 0.5]);
    assert.equal(float16ToNumber(views.float16[3]), 0.75);
    assert.equal(arrays.uint8.buffer[5], 17, 'the Buffer is over the same memory');
  } finally {
    for (const a of Object.values(arrays)) a.close();
    await svc.close();
  }
});

test('arrays the worker makes come back in outputs (at any depth) and in UPDATE info', async () => {
  const svc = python();
  try {
    const t = svc.task(`
from appose import NDArray
a = NDArray('float64', [2, 2])
a.ndarray()[:] = [[1.5, 2.5], [3.5, 4.5]]
task.update('preview', info={'preview': a})
task.outputs['a'] = a
task.outputs['nested'] = {'list': [1, {'deep': a}]}
task.outputs['result'] = a.shm.name
`);
    let preview;
    t.on('update', (e) => { preview = e.info.preview; });
    const name = await t;
    const { a, nested } = t.outputs;
    assert.ok(a instanceof NDArray);
    assert.deepEqual(a.shape, [2, 2]);
    assert.deepEqual(Array.from(a.data), [1.5, 2.5, 3.5, 4.5]);
    assert.ok(nested.list[1].deep instanceof NDArray);
    assert.ok(preview instanceof NDArray);
    assert.deepEqual(Array.from(preview.data), [1.5, 2.5, 3.5, 4.5]);
    // One block, mapped once: a write through one handle shows in the others.
    a.data[0] = -1;
    assert.equal(nested.list[1].deep.data[0], -1);
    assert.equal(preview.data[0], -1);
    assert.equal(a.shm.name, name);
    assert.ok(shmExists(name));
    // The worker's block is ours: it goes with our last handle, views included.
    for (const x of [a, nested.list[1].deep, preview]) x.close();
  } finally {
    await svc.close();
  }
});

test('an array echoed back by the worker is the same memory', async () => {
  const svc = python();
  const x = await NDArray.create('int32', [3]);
  try {
    x.data.set([1, 2, 3]);
    const back = await svc.task('x', { x });
    assert.ok(back instanceof NDArray);
    back.data[1] = 20;
    assert.deepEqual(Array.from(x.data), [1, 20, 3]);
    back.close();
  } finally {
    x.close();
    await svc.close();
  }
});

test('a view keeps its block alive after close; the block goes once the views are collected', async () => {
  const a = await NDArray.create('uint16', [1000]);
  const name = a.shm.name;
  let view = a.data;
  view.fill(7);
  a.close();
  assert.throws(() => a.data, /closed/);
  await gc();
  assert.ok(shmExists(name), 'the view still holds the block');
  assert.equal(view[999], 7);
  view = null;
  await eventually(async () => {
    await gc();
    return !shmExists(name);
  }, 10000, `block ${name} to go`);
});

test('shared memory: a Buffer over the block, shared with the worker, attach, unlink', async () => {
  const svc = python();
  const shm = await SharedMemory.create(64);
  try {
    assert.match(shm.name, /^psm_/);
    assert.equal(shm.size, 64);
    assert.equal(shm.unlinkOnClose, true);
    shm.buffer.write('hello', 0);
    const got = await svc.task(`
text = bytes(block.buf[:5]).decode()
block.buf[5:11] = b' world'
task.outputs['result'] = text
`, { block: shm });
    assert.equal(got, 'hello');
    assert.equal(shm.buffer.toString('utf8', 0, 11), 'hello world');

    // Attached by name in this process: the same mapping.
    const again = SharedMemory.attach(shm.name, { size: 64 });
    assert.equal(again.buffer.toString('utf8', 0, 5), 'hello');
    again.buffer[0] = 'j'.charCodeAt(0);
    assert.equal(shm.buffer.toString('utf8', 0, 5), 'jello');
    again.close();

    // An array over the block, as a wrapped block in the worker.
    const ints = NDArray.wrap(shm, 'uint32', [2, 2], { order: 'F' });
    assert.deepEqual(ints.shape, [2, 2]);
    ints.data.set([1, 2, 3, 4]);
    assert.equal(await svc.task('int(a.ndarray().sum())', { a: ints }), 10);
    ints.close();

    shm.unlink();
    assert.ok(!shmExists(shm.name));
    assert.equal(shm.buffer.readUInt32LE(12), 4, 'still mapped after unlink');
  } finally {
    shm.close();
    await svc.close();
  }
});

test('a named block, F order, and refusals', async () => {
  const name = `psm_nodetest${process.pid}`;
  const shm = await SharedMemory.create(32, { name });
  try {
    assert.equal(shm.name, name);
    await assert.rejects(SharedMemory.create(32, { name }), /ALREADY_EXISTS/);
    const f = NDArray.wrap(shm, 'uint8', [4, 2], { order: 'F' });
    assert.deepEqual(f.shape, [2, 4]);
    assert.deepEqual(f.shapeF, [4, 2]);
    f.close();
    assert.throws(() => NDArray.wrap(shm, 'float64', [5]), /INVALID_ARGUMENT/);
    await assert.rejects(NDArray.create('float128', [2]), /unknown dtype/);
    await assert.rejects(NDArray.create('int8', [0]), /INVALID_ARGUMENT/);
  } finally {
    shm.close();
  }
  assert.ok(!shmExists(name));
});

test('float16 helpers agree with numpy, and a 0-d array holds one element', async () => {
  const svc = python();
  try {
    const xs = [0, -0, 1, -2.5, 65504, 1e-7, 0.1, 70000, -Infinity];
    const bits = await svc.task('import numpy as np\n[int(b) for b in np.array(xs, dtype=np.float16).view(np.uint16)]', { xs });
    assert.deepEqual(xs.map(numberToFloat16), bits);
    for (const b of bits) assert.equal(numberToFloat16(float16ToNumber(b)), b);
    const z = await NDArray.create('float64', []);
    assert.deepEqual(z.shape, []);
    assert.equal(z.length, 1);
    z.data[0] = 2.5;
    assert.equal(await svc.task('float(z.ndarray())', { z }), 2.5);
    z.close();
  } finally {
    await svc.close();
  }
});
