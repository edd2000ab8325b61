'use strict';
// npm pack's prepack (and, with --clean, postpack): puts the libappose.so
// that cargo built into native/<platform>-<arch>/, where the package loads
// it from. It never builds: run `cargo build --release` (or `cargo build`)
// first. APPOSE_LIB names another library to pack; otherwise the newer of
// the release and debug builds in the checkout's target directory.

const fs = require('node:fs');
const path = require('node:path');

const pkg = path.resolve(__dirname, '..');
const dest = path.join(pkg, 'native', `${process.platform}-${process.arch}`, 'libappose.so');

if (process.argv.includes('--clean')) {
  fs.rmSync(path.join(pkg, 'native'), { recursive: true, force: true });
  process.exit(0);
}

function source() {
  if (process.env.APPOSE_LIB) return process.env.APPOSE_LIB;
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(process.env.CARGO_TARGET_DIR)
    : path.resolve(pkg, '..', '..', 'target');
  const built = ['release', 'debug']
    .map((profile) => path.join(target, profile, 'libappose.so'))
    .filter((p) => fs.existsSync(p))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (built.length === 0) {
    console.error(`prepack: no libappose.so in ${target}/{release,debug}: run cargo build --release first`);
    process.exit(1);
  }
  return built[0];
}

const from = source();
fs.mkdirSync(path.dirname(dest), { recursive: true });
fs.copyFileSync(from, dest);
console.error(`prepack: ${path.relative(pkg, dest)} from ${from}`);
