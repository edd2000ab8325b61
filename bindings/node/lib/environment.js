'use strict';
// Environments: where workers run.

const { get, getString, getAsync } = require('./native');
const { own } = require('./handles');
const { Service } = require('./service');

/** Where a worker runs: a wrapped directory (a venv, pixi, conda) or the system. */
class Environment {
  constructor(handle) {
    this.handle = handle;
    own(this, 'appose_env_free', handle);
  }

  /** The environment's directory. */
  get base() {
    return getString('appose_env_base', this.handle);
  }

  /**
   * An existing environment directory, its kind detected. For a venv or a
   * plain directory this never waits; a pixi or conda environment may
   * need pixi or micromamba downloaded first: wrap those with `wrapAsync`.
   */
  static wrap(dir) {
    const kind = get('appose_env_dir_type', dir);
    if (kind === 'pixi' || kind === 'mamba') {
      throw new Error(`${dir} is a ${kind} environment, whose tool may have to be downloaded first: `
        + 'use await Environment.wrapAsync(dir)');
    }
    return new Environment(get('appose_env_wrap', dir));
  }

  /** Any existing environment directory, wrapped on libuv's thread pool (a tool download never blocks the loop). */
  static async wrapAsync(dir) {
    return new Environment(await getAsync('appose_env_wrap', dir));
  }

  /** The system's executables (on PATH). */
  static system() {
    return new Environment(get('appose_env_system'));
  }

  /** A Python worker service (the `appose` package must be installed); it starts with its first task. */
  python() {
    return new Service(get('appose_env_python', this.handle));
  }
}

module.exports = { Environment };
