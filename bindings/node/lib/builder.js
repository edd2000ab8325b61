'use strict';
// Builders: make (or reuse) an environment, off the event loop.

const { EventEmitter } = require('node:events');
const { koffi, c, call, get, getAsync, callAsync, ApposeError } = require('./native');
const { hub, emitSafely, text } = require('./hub');
const { own } = require('./handles');
const { Environment } = require('./environment');

const EVENT_BUILD_PROGRESS = 2;
const EVENT_BUILD_OUTPUT = 3;
const EVENT_BUILD_ERROR = 4;
const EVENT_BUILT = 5;

/**
 * Builds an environment ("uv", "pixi", "mamba", "custom", or "dynamic",
 * which picks one from the content). Setters chain and take effect in
 * order; `build()` resolves with the Environment without blocking the
 * event loop (the tools run on a library thread; their events come
 * through the queue). An EventEmitter of the build's 'progress' ({title,
 * current, maximum}), 'output' and 'error' (one line each).
 */
class Builder extends EventEmitter {
  constructor(kind = 'dynamic') {
    super();
    this.handle = get('appose_builder_new', kind);
    own(this, 'appose_builder_free', this.handle);
    // Set while a download (`url`) runs: later calls wait for it, in order.
    this.pending = null;
  }

  /** Runs `fn` on the builder now, or after the download under way. */
  set(fn, ...args) {
    if (this.pending === null) {
      call(fn, this.handle, ...args);
    } else {
      this.pending = this.pending.then(() => call(fn, this.handle, ...args));
      this.pending.catch(() => {});
    }
    return this;
  }

  /** The environment's name: its directory under the envs root. */
  name(name) { return this.set('appose_builder_name', name); }
  /** The environment's directory (instead of `<envs root>/<name>`). */
  base(dir) { return this.set('appose_builder_base', dir); }
  /** Where named environments and downloaded tools live. */
  envsRoot(dir) { return this.set('appose_builder_envs_root', dir); }
  /** The description itself (pixi.toml, pyproject.toml, environment.yml or requirements.txt text). */
  content(description) { return this.set('appose_builder_content', description); }
  /** Reads the description from a file (its name also gives the scheme). */
  file(path) { return this.set('appose_builder_file', path); }
  /** The description's format: "pixi.toml", "pyproject.toml", "environment.yml" or "requirements.txt". */
  scheme(name) { return this.set('appose_builder_scheme', name); }
  /** Adds a conda channel (pixi). */
  channel(name) { return this.set('appose_builder_channel', name); }
  /** Adds a flag to every tool command. */
  flag(flag) { return this.set('appose_builder_flag', flag); }
  /** uv: the venv's Python version. */
  pythonVersion(version) { return this.set('appose_builder_python_version', version); }
  /** uv: adds a PyPI requirement. */
  package(spec) { return this.set('appose_builder_package', spec); }
  /** pixi: adds a conda package. */
  conda(spec) { return this.set('appose_builder_conda', spec); }
  /** pixi: adds a PyPI package. */
  pypi(spec) { return this.set('appose_builder_pypi', spec); }
  /** pixi: the manifest's named environment to install and run. */
  pixiEnvironment(name) { return this.set('appose_builder_pixi_environment', name); }
  /** custom: adds a directory of executables. */
  binPath(dir) { return this.set('appose_builder_bin_path', dir); }
  /** custom: also searches the system PATH for executables. */
  appendSystemPath() { return this.set('appose_builder_append_system_path'); }
  /** Downloads tools from `<baseUrl>/<tool>/<version>/<file>` instead of their release hosts. */
  toolMirror(baseUrl) { return this.set('appose_builder_tool_mirror', baseUrl); }
  /** The SHA-256 (64 hex digits) a downloaded tool archive must have, for a mirror serving its own build. */
  toolSha256(hex) { return this.set('appose_builder_tool_sha256', hex); }
  /** Sets an environment variable for the tools and the environment's workers. */
  envVar(key, value) { return this.set('appose_builder_env_var', key, value); }

  /**
   * Fetches the description from `url`. The download runs on libuv's
   * thread pool; the calls after it wait for it, and `build()` fails with
   * its error.
   */
  url(url) {
    this.pending = (this.pending ?? Promise.resolve()).then(() => callAsync('appose_builder_url', this.handle, url));
    this.pending.catch(() => {});
    return this;
  }

  /** Installs the builder's tool (uv, pixi or micromamba) unless present; resolves with its path. */
  async installTool() {
    await this.pending;
    const p = await getAsync('appose_builder_install_tool', this.handle);
    try {
      return koffi.decode(p, 'char', -1);
    } finally {
      c.appose_string_free(p);
    }
  }

  /** Deletes the environment's directory (only a directory that is an environment). */
  async delete() {
    await this.pending;
    await callAsync('appose_builder_delete', this.handle);
  }

  /** Builds, or reuses the environment when unchanged. */
  async build() {
    await this.pending;
    return this.run('appose_builder_build_async');
  }

  /** Deletes the environment, then builds it. */
  async rebuild() {
    await this.pending;
    return this.run('appose_builder_rebuild_async');
  }

  run(fn) {
    return new Promise((resolve, reject) => {
      const tag = hub.register((ev) => {
        switch (ev.kind) {
          case EVENT_BUILD_PROGRESS:
            emitSafely(this, 'progress', { title: text(ev.message), current: Number(ev.current), maximum: Number(ev.maximum) },
              'build');
            break;
          case EVENT_BUILD_OUTPUT:
            emitSafely(this, 'output', text(ev.message), 'build');
            break;
          case EVENT_BUILD_ERROR:
            // 'error' without a listener would throw: these are lines, not failures.
            if (this.listenerCount('error') > 0) emitSafely(this, 'error', text(ev.message), 'build');
            break;
          case EVENT_BUILT:
            hub.done(tag);
            if (ev.status === 0) resolve(new Environment(get('appose_env_clone', ev.env)));
            else reject(new ApposeError(ev.status, text(ev.error) ?? ''));
            break;
          default:
        }
      });
      try {
        call(fn, this.handle, hub.queue, tag);
      } catch (e) {
        hub.done(tag);
        reject(e);
      }
    });
  }
}

module.exports = { Builder };
