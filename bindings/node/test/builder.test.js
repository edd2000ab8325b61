'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const { Builder, Environment, ApposeError } = require('..');
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

// Stand-ins for pixi and uv (the real ones cannot reach conda-forge or
// PyPI from every test machine): each records its argv and lays out what
// the real tool would, with a python that is the test environment's.
function writeExe(file, text) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode: 0o755 });
}

function pixiStandIn(root) {
  writeExe(path.join(root, '.pixi', 'bin', 'pixi'), `#!/bin/sh
echo "pixi $*" >> "${root}/calls.log"
while [ "\${1#-}" != "$1" ]; do shift; done
cmd=$1; shift
case "$cmd" in
  init)
    mkdir -p "$1"
    [ -f "$1/pixi.toml" ] || printf '[workspace]\\nname = "made"\\n\\n[dependencies]\\n' > "$1/pixi.toml"
    ;;
  install|run)
    manifest=""; env=default
    while [ $# -gt 0 ]; do
      case "$1" in
        --manifest-path) manifest=$2; shift 2;;
        --environment) env=$2; shift 2;;
        *) break;;
      esac
    done
    bin="$(dirname "$manifest")/.pixi/envs/$env/bin"
    if [ "$cmd" = install ]; then
      mkdir -p "$bin"
      printf '#!/bin/sh\\nexec "${ENV_DIR}/bin/python" "$@"\\n' > "$bin/python"
      chmod +x "$bin/python"
    else
      PATH="$bin:$PATH" exec "$@"
    fi
    ;;
esac
`);
}

function uvStandIn(root) {
  writeExe(path.join(root, '.uv', 'bin', 'uv'), `#!/bin/sh
echo "uv $*" >> "${root}/calls.log"
while [ "\${1#-}" != "$1" ]; do shift; done
if [ "$1" = venv ]; then
  for dir; do :; done
  mkdir -p "$dir/bin"
  echo "home = ${ENV_DIR}/bin" > "$dir/pyvenv.cfg"
  printf '#!/bin/sh\\nexec "${ENV_DIR}/bin/python" "$@"\\n' > "$dir/bin/python"
  chmod +x "$dir/bin/python"
fi
`);
}

function calls(root) {
  return fs.readFileSync(path.join(root, 'calls.log'), 'utf8').trim().split('\n');
}

async function runIn(env, script) {
  const svc = env.python();
  try {
    return await svc.task(script);
  } finally {
    await svc.close();
  }
}

function tempRoot() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'appose-node-'));
}

test('pixi: channel, conda, pypi, pixiEnvironment, flag and envVar reach pixi and the workers', async () => {
  const root = tempRoot();
  try {
    pixiStandIn(root);
    const env = await new Builder('pixi').envsRoot(root).name('prog')
      .channel('conda-forge').conda('python=3.11').conda('numpy').pypi('appose==0.12.0')
      .pixiEnvironment('gpu').flag('--frozen').envVar('APPOSE_NODE_BUILDER_VAR', 'set by the builder')
      .build();
    const dir = path.join(root, 'prog');
    const m = path.join(dir, 'pixi.toml');
    assert.deepEqual(calls(root), [
      `pixi --frozen init ${dir}`,
      `pixi --frozen project channel add --manifest-path ${m} conda-forge`,
      `pixi --frozen add --manifest-path ${m} python=3.11 numpy`,
      `pixi --frozen add --pypi --manifest-path ${m} appose==0.12.0`,
      // -vv: the build reads progress from pixi's log.
      `pixi --frozen -vv install --manifest-path ${m} --environment gpu`,
    ]);
    assert.equal(await runIn(env, "import os\nos.environ.get('APPOSE_NODE_BUILDER_VAR')"), 'set by the builder');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('uv: pythonVersion, package, flag; a description from a file; delete', async () => {
  const root = tempRoot();
  try {
    uvStandIn(root);
    const b = new Builder('uv').envsRoot(root).name('venv').pythonVersion('3.11').package('numpy').flag('--offline');
    const env = await b.build();
    const dir = path.join(root, 'venv');
    assert.deepEqual(calls(root), [
      `uv --offline venv --python 3.11 ${dir}`,
      `uv --offline pip install --python ${dir} numpy appose`,
    ]);
    assert.equal(await runIn(env, '6 * 7'), 42);
    await b.delete();
    assert.ok(!fs.existsSync(dir));

    const reqs = path.join(root, 'requirements.txt');
    fs.writeFileSync(reqs, 'appose==0.12.0\n');
    await new Builder().envsRoot(root).name('fromfile').file(reqs).build();
    const last = calls(root).at(-1);
    assert.match(last, /^uv pip install --python \S+fromfile -r \S+fromfile\/requirements\.txt$/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

/** A local HTTP server answering `respond(req, res)`; resolves with its base URL and a closer. */
function serve(respond) {
  const server = http.createServer(respond);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() });
    });
  });
}

test('url: the description is downloaded off the loop, and the setters after it wait for it', async () => {
  const root = tempRoot();
  const saved = process.env.NO_PROXY;
  process.env.NO_PROXY = '127.0.0.1';
  const server = await serve((req, res) => {
    if (req.url === '/requirements.txt') res.end('appose==0.12.0\n');
    else res.writeHead(404).end();
  });
  try {
    uvStandIn(root);
    await new Builder().url(`${server.url}/requirements.txt`).envsRoot(root).name('fromurl').build();
    assert.match(calls(root).at(-1), /^uv pip install --python \S+fromurl -r /);
    assert.equal(fs.readFileSync(path.join(root, 'fromurl', 'requirements.txt'), 'utf8'), 'appose==0.12.0\n');
    await assert.rejects(new Builder().url(`${server.url}/missing`).envsRoot(root).build(), /cannot fetch/);
  } finally {
    server.close();
    if (saved === undefined) delete process.env.NO_PROXY;
    else process.env.NO_PROXY = saved;
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('toolMirror and toolSha256: installTool downloads from the mirror and checks the checksum', async () => {
  const root = tempRoot();
  const saved = process.env.NO_PROXY;
  process.env.NO_PROXY = '127.0.0.1';
  const asked = [];
  const server = await serve((req, res) => {
    asked.push(req.url);
    res.end('not really an archive');
  });
  try {
    assert.throws(() => new Builder('pixi').toolSha256('xyz'), /INVALID_ARGUMENT.*SHA-256/);
    const b = new Builder('pixi').envsRoot(root).toolMirror(`${server.url}/mirror`).toolSha256('0'.repeat(64));
    await assert.rejects(b.installTool(), /SHA-256|sha256|checksum/i);
    assert.ok(asked.length > 0 && asked.every((u) => u.startsWith('/mirror/pixi/')), asked.join(', '));
  } finally {
    server.close();
    if (saved === undefined) delete process.env.NO_PROXY;
    else process.env.NO_PROXY = saved;
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('appendSystemPath: a custom environment finds python on PATH', async () => {
  const dir = tempRoot();
  const saved = process.env.PATH;
  process.env.PATH = `${path.join(ENV_DIR, 'bin')}:${saved}`;
  try {
    const without = await new Builder('custom').base(dir).build();
    assert.throws(() => without.python(), /NOT_FOUND/);
    const env = await new Builder('custom').base(dir).appendSystemPath().build();
    assert.equal(await runIn(env, 'import appose\n1'), 1);
  } finally {
    process.env.PATH = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a pixi environment: wrap refuses it (its tool may need a download), wrapAsync wraps it off the loop', async () => {
  const root = tempRoot();
  const saved = process.env.APPOSE_ENVS_DIR;
  process.env.APPOSE_ENVS_DIR = root;
  try {
    pixiStandIn(root);
    await new Builder('pixi').envsRoot(root).name('px').conda('python').pypi('appose==0.12.0').build();
    const dir = path.join(root, 'px');
    assert.throws(() => Environment.wrap(dir), /pixi environment.*wrapAsync/);
    const env = await Environment.wrapAsync(dir);
    assert.equal(env.base, fs.realpathSync(dir));
    assert.equal(await runIn(env, '6 * 7'), 42);
    assert.match(calls(root).at(-1), /^pixi run --manifest-path \S+px\/pixi\.toml /);
  } finally {
    if (saved === undefined) delete process.env.APPOSE_ENVS_DIR;
    else process.env.APPOSE_ENVS_DIR = saved;
    fs.rmSync(root, { recursive: true, force: true });
  }
});
