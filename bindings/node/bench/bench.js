'use strict';
// Benchmark (not a test; not run by CI): the Node package against the C ABI
// driven from C (tests/bench/client.c), in one run, alternating, against
// the same appose==0.12.0 Python worker and the same libappose.so.
//
//   round trip: 2,000 sequential trivial tasks after 200 warm-up, median
//               and p99 of each task's time (the C client waits with
//               appose_task_wait; Node awaits the task, its events taken
//               from the event queue by the event loop)
//   events:     one task sending 100,000 UPDATEs, received by a listener
//               (C: a task listener on the dispatcher thread; Node: an
//               'update' listener fed from the queue), per second
//
// Usage: node bench/bench.js [ROUNDS]   (default 5; the median of the rounds)
// Build the library first (cargo build --release: the package loads
// target/release before target/debug; APPOSE_LIB overrides). Needs cc.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Environment, libraryPath } = require('..');

const root = path.resolve(__dirname, '..', '..', '..');
const ENV_DIR = process.env.APPOSE_TEST_PYTHON_ENV || path.join(root, 'target', 'tmp', 'python-env');
const ROUNDS = Number(process.argv[2] || 5);
const TASKS = 2000;
const WARMUP = TASKS / 10;
const EVENTS = 100000;
const EVENTS_SCRIPT = 'for i in range(n):\n    task.update(current=i)\n';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The C client, built against the very library this package loaded. */
function buildClient() {
  const out = path.join(root, 'target', 'bench-node');
  fs.mkdirSync(out, { recursive: true });
  const exe = path.join(out, 'client');
  const libDir = path.dirname(fs.realpathSync(libraryPath));
  execFileSync('cc', ['-O2', '-std=c11', '-Wall', '-Wextra', '-Werror', `-I${path.join(root, 'include')}`,
    '-o', exe, path.join(root, 'tests', 'bench', 'client.c'),
    `-L${libDir}`, `-Wl,-rpath,${libDir}`, '-lappose'], { stdio: 'inherit' });
  return exe;
}

function runC(exe, mode, n) {
  const text = execFileSync(exe, [ENV_DIR, mode, String(n)], { encoding: 'utf8', timeout: 300000 });
  return JSON.parse(text.trim().split('\n').at(-1));
}

async function nodeRoundTrip() {
  const svc = Environment.wrap(ENV_DIR).python();
  try {
    for (let i = 0; i < WARMUP; i++) await svc.task('1');
    const times = new Float64Array(TASKS);
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < TASKS; i++) {
      const t0 = performance.now();
      await svc.task('1');
      times[i] = (performance.now() - t0) * 1000;
    }
    const cpu = process.cpuUsage(cpu0);
    const sorted = Array.from(times).sort((a, b) => a - b);
    return {
      median_us: sorted[TASKS / 2],
      p99_us: sorted[Math.floor((TASKS * 99) / 100)],
      cpu_us: (cpu.user + cpu.system) / TASKS,
    };
  } finally {
    await svc.close();
  }
}

async function nodeEvents() {
  const svc = Environment.wrap(ENV_DIR).python();
  try {
    await svc.task('1');
    let received = 0;
    const t0 = performance.now();
    const task = svc.task(EVENTS_SCRIPT, { n: EVENTS });
    task.on('update', () => { received++; });
    await task;
    const seconds = (performance.now() - t0) / 1000;
    return { events_per_s: received / seconds, received };
  } finally {
    await svc.close();
  }
}

async function main() {
  if (!fs.existsSync(path.join(ENV_DIR, 'bin', 'python'))) {
    execFileSync('bash', [path.join(root, 'tests', 'support', 'python-env.sh'), ENV_DIR], { stdio: 'inherit' });
  }
  const exe = buildClient();
  console.error(`library: ${libraryPath}`);
  const rt = { node: [], c: [] };
  const ev = { node: [], c: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    // Alternating, so that a busy spell of the machine hits both.
    const pairs = [
      ['roundtrip', 'node', () => nodeRoundTrip()],
      ['roundtrip', 'c', () => runC(exe, 'roundtrip', TASKS)],
      ['events', 'node', () => nodeEvents()],
      ['events', 'c', () => runC(exe, 'events', EVENTS)],
    ];
    for (const [mode, who, run] of pairs) {
      const res = await run();
      (mode === 'roundtrip' ? rt : ev)[who].push(res);
      console.error(`round ${r} ${mode.padEnd(9)} ${who.padEnd(4)} ${JSON.stringify(res, (k, v) => (typeof v === 'number' ? Math.round(v * 10) / 10 : v))}`);
    }
    if (ev.node.at(-1).received !== EVENTS) throw new Error(`Node received ${ev.node.at(-1).received} of ${EVENTS} UPDATEs`);
  }
  const m = (rows, key) => median(rows.map((x) => x[key]));
  const nodeRt = m(rt.node, 'median_us');
  const cRt = m(rt.c, 'median_us');
  const nodeEv = m(ev.node, 'events_per_s');
  const cEv = m(ev.c, 'events_per_s');
  const f = (x) => Math.round(x).toLocaleString('en-US');
  const cpus = os.cpus();
  console.log(`Machine: ${cpus.length} cores, ${cpus[0].model.trim()}, Node ${process.version}; `
    + `library ${path.relative(root, libraryPath)}; median of ${ROUNDS} alternating rounds.\n`);
  console.log('| | round trip median (µs) | p99 (µs) | CPU per task (µs) | UPDATE events/s |');
  console.log('| --- | --- | --- | --- | --- |');
  console.log(`| Node (this package) | ${f(nodeRt)} | ${f(m(rt.node, 'p99_us'))} | ${f(m(rt.node, 'cpu_us'))} | ${f(nodeEv)} |`);
  console.log(`| C ABI from C | ${f(cRt)} | ${f(m(rt.c, 'p99_us'))} | ${f(m(rt.c, 'cpu_us'))} | ${f(cEv)} |`);
  console.log(`| Node / C | ${(nodeRt / cRt).toFixed(2)}x | | | ${(nodeEv / cEv).toFixed(2)}x |`);
  console.log(`\nTargets: round trip within 1.5x of C (${(nodeRt / cRt).toFixed(2)}x), `
    + `events at least 0.8x of C's (${(nodeEv / cEv).toFixed(2)}x).`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
