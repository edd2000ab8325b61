'use strict';
const path = require('node:path');

/** The Python environment with the pinned appose package (tests/support/python-env.sh makes it). */
const ENV_DIR = process.env.APPOSE_TEST_PYTHON_ENV
  || path.resolve(__dirname, '..', '..', '..', 'target', 'tmp', 'python-env');

const COLLATZ = `
# Computes the stopping time of a given value
# according to the Collatz conjecture sequence.
time = 0
v = 9999
while v != 1:
    v = v//2 if v%2==0 else 3*v+1
    task.update(f"[{time}] -> {v}", current=time)
    time += 1
task.outputs["result"] = time
`;

module.exports = { ENV_DIR, COLLATZ };
