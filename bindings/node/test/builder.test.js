'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Builder, ApposeError } = require('..');
const { ENV_DIR } = require('./helpers');

test('a custom build resolves with an environment that runs workers', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'appose-node-'));
  try {
    const env = await new Builder('custom').base(dir).binPath(path.join(ENV_DIR, 'bin')).build();
    assert.equal(env.base, fs.realpathSync(dir));
    const svc = env.python();
    assert.equal(await svc.task('6 * 7'), 42);
    await svc.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a build that cannot succeed rejects with the library error, without blocking the loop', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'appose-node-')), 'file');
  fs.writeFileSync(file, '');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    const b = new Builder('uv').envsRoot(path.join(file, 'envs')).name('x').content('appose==0.12.0\n');
    await assert.rejects(b.build(), (e) => {
      assert.ok(e instanceof ApposeError);
      assert.match(e.message, /cannot be written/);
      return true;
    });
  } finally {
    clearInterval(timer);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
});
