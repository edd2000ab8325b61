'use strict';
// npm pack puts the cargo-built library into the tarball (prepack copies it,
// never builds it); the tarball installs offline into an empty project and
// runs a task there with the library it carries.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { libraryPath } = require('..');
const { ENV_DIR } = require('./helpers');

const pkg = path.resolve(__dirname, '..');
const PLATFORM = `${process.platform}-${process.arch}`;

/** The environment without APPOSE_LIB and CARGO_TARGET_DIR, so that only the package's own lookup counts. */
function cleanEnv() {
  const env = { ...process.env };
  delete env.APPOSE_LIB;
  delete env.CARGO_TARGET_DIR;
  return env;
}

function npm(args, cwd) {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd, env: cleanEnv(), encoding: 'utf8', timeout: 120000, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('npm pack carries libappose.so, and the tarball installs offline and runs a task', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'appose-node-pack-'));
  try {
    // A copy of the package in a checkout's layout (bindings/node beside
    // target/debug), so that packing never touches this directory.
    const copy = path.join(tmp, 'checkout', 'bindings', 'node');
    for (const f of ['package.json', 'package-lock.json', 'index.mjs', 'index.d.ts', 'README.md', 'lib', 'scripts']) {
      fs.cpSync(path.join(pkg, f), path.join(copy, f), { recursive: true });
    }
    const built = path.join(tmp, 'checkout', 'target', 'debug', 'libappose.so');
    fs.mkdirSync(path.dirname(built), { recursive: true });
    fs.symlinkSync(libraryPath, built);

    const out = path.join(tmp, 'out');
    fs.mkdirSync(out);
    const name = npm(['pack', '--pack-destination', out], copy).trim().split('\n').at(-1);
    const tarball = path.join(out, name);
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n');
    assert.ok(files.includes(`package/native/${PLATFORM}/libappose.so`), files.join(' '));
    assert.ok(files.includes('package/lib/index.js') && files.includes('package/index.d.ts'));
    assert.ok(!fs.existsSync(path.join(copy, 'native')), 'postpack removes the copy it packed');
    const packed = execFileSync('tar', ['xzOf', tarball, `package/native/${PLATFORM}/libappose.so`], {
      maxBuffer: 1 << 30,
    });
    assert.ok(packed.equals(fs.readFileSync(libraryPath)), 'the library packed is the one cargo built');

    // An empty project. Its lockfile pins koffi as this package's lockfile
    // does, so npm takes koffi from its cache and never asks the registry.
    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    const spec = `file:${path.relative(app, tarball)}`;
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const lock = JSON.parse(fs.readFileSync(path.join(pkg, 'package-lock.json'), 'utf8'));
    const own = lock.packages[''];
    const packages = { '': { name: 'app', version: '1.0.0', dependencies: { libappose: spec } } };
    packages['node_modules/libappose'] = {
      version: own.version, resolved: spec, license: own.license, dependencies: own.dependencies,
    };
    for (const [key, entry] of Object.entries(lock.packages)) if (key !== '') packages[key] = entry;
    fs.writeFileSync(path.join(app, 'package-lock.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: lock.lockfileVersion, requires: true, packages }));
    npm(['install', '--offline', tarball], app);
    assert.ok(fs.existsSync(path.join(app, 'node_modules', 'libappose', 'native', PLATFORM, 'libappose.so')));

    fs.writeFileSync(path.join(app, 'run.js'), `
const { Environment, libraryPath } = require('libappose');
(async () => {
  const svc = Environment.wrap(process.argv[2]).python();
  const result = await svc.task('6 * 7');
  await svc.close();
  console.log(JSON.stringify({ result, libraryPath }));
})();
`);
    const run = JSON.parse(execFileSync(process.execPath, ['run.js', ENV_DIR], {
      cwd: app, env: cleanEnv(), encoding: 'utf8', timeout: 60000,
    }));
    assert.equal(run.result, 42);
    assert.equal(run.libraryPath, path.join(fs.realpathSync(app), 'node_modules', 'libappose', 'native', PLATFORM,
      'libappose.so'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
