'use strict';
// Values cross exactly, both ways: NaN, the infinities, -0.0, integers
// beyond 2^53 (BigInt), floats to the last bit.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Environment } = require('..');
const json = require('../lib/json');
const { ENV_DIR } = require('./helpers');

test('the worker receives what JS sent and JS receives what the worker sent', async () => {
  const svc = Environment.wrap(ENV_DIR).python();
  try {
    const sent = {
      nan: NaN,
      inf: Infinity,
      ninf: -Infinity,
      nzero: -0,
      big: 2n ** 64n + 1n,
      neg: -(2n ** 63n) - 1n,
      third: 1 / 3,
      tiny: 5e-324,
      nested: [{ x: [2n ** 100n, 0.1 + 0.2] }],
      text: 'é ✓ "quoted" \\ \n NaN Infinity 12345678901234567',
    };
    const report = await svc.task(`
import math
task.outputs['result'] = {
  'nan': math.isnan(nan), 'inf': inf == math.inf, 'ninf': ninf == -math.inf,
  'nzero': isinstance(nzero, float) and math.copysign(1, nzero) == -1,
  'big': big == 2**64 + 1, 'neg': neg == -2**63 - 1,
  'third': third == 1/3, 'tiny': tiny == 5e-324,
  'nested': nested == [{'x': [2**100, 0.1 + 0.2]}],
  'text': text == 'é ✓ "quoted" \\\\ \\n NaN Infinity 12345678901234567',
}
task.outputs['back'] = [nan, inf, ninf, nzero, big, neg, third, tiny, nested, text]
task.outputs['made'] = [float('nan'), 2**2000, -(2**70), 9007199254740993, 9007199254740992, 1e300, -0.0]
`, sent);
    assert.deepEqual(report, {
      nan: true, inf: true, ninf: true, nzero: true, big: true, neg: true,
      third: true, tiny: true, nested: true, text: true,
    });
  } finally {
    await svc.close();
  }
});

test('values come back exactly', async () => {
  const svc = Environment.wrap(ENV_DIR).python();
  try {
    const t = svc.task(`
task.outputs['made'] = [float('nan'), float('inf'), 2**2000, -(2**70), 9007199254740993, 9007199254740991, 1e300, -0.0, 0.1 + 0.2]
task.update('exact', info={'big': 2**64, 'nan': float('nan')})
`);
    let info;
    t.on('update', (e) => { info = e.info; });
    await t;
    const [nan, inf, huge, neg, over, safe, large, nzero, sum] = t.outputs.made;
    assert.ok(Number.isNaN(nan));
    assert.equal(inf, Infinity);
    assert.equal(huge, 2n ** 2000n);
    assert.equal(neg, -(2n ** 70n));
    assert.equal(over, 2n ** 53n + 1n);
    assert.equal(safe, Number.MAX_SAFE_INTEGER);
    assert.equal(large, 1e300);
    assert.ok(Object.is(nzero, -0));
    assert.equal(sum, 0.1 + 0.2);
    assert.equal(info.big, 2n ** 64n);
    assert.ok(Number.isNaN(info.nan));
  } finally {
    await svc.close();
  }
});

test('the JSON reader: exact, and strict about malformed text', () => {
  assert.deepEqual(json.parse('{"a": [1, 2.5, "x"]}'), { a: [1, 2.5, 'x'] });
  assert.equal(json.parse('12345678901234567890'), 12345678901234567890n);
  assert.equal(json.parse('-9007199254740993'), -9007199254740993n);
  assert.equal(json.parse('0.30000000000000004'), 0.30000000000000004);
  assert.equal(json.parse(`[${'9'.repeat(500)}]`)[0], BigInt('9'.repeat(500)));
  assert.deepEqual(json.parse('{"s": "NaN \\" Infinity", "n": NaN}').s, 'NaN " Infinity');
  for (const bad of ['{"a": 1', '[1,]', 'NaNx', '"open', '{"a" 1}', '[1 2]']) {
    assert.throws(() => json.parse(bad), SyntaxError, bad);
  }
  assert.equal(json.stringify({ a: NaN, b: -Infinity, c: 2n ** 70n, d: -0, e: undefined, f: [1.5] }),
    '{"a":NaN,"b":-Infinity,"c":1180591620717411303424,"d":-0.0,"f":[1.5]}');
  assert.equal(json.stringify({ t: new Float32Array([0.5, NaN]), u: new BigInt64Array([-1n]) }),
    '{"t":[0.5,NaN],"u":[-1]}');
  assert.throws(() => json.stringify({ f: Symbol('x') }), TypeError);
});
