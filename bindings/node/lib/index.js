'use strict';
// libappose for Node.js: environments, services and tasks whose events come
// through one event queue that the event loop watches. No call blocks the
// event loop and no library thread calls into JS.

const { EventEmitter } = require('node:events');
const { koffi, c, Event, ApposeError, call, get, getString } = require('./native');
const json = require('./json');

const EVENT_CLOSED = 1;
const EVENT_BUILD_PROGRESS = 2;
const EVENT_BUILD_OUTPUT = 3;
const EVENT_BUILD_ERROR = 4;
const EVENT_BUILT = 5;
const RESPONSE = ['LAUNCH', 'UPDATE', 'COMPLETION', 'CANCELATION', 'FAILURE', 'CRASH'];
const STATUS = ['INITIAL', 'QUEUED', 'RUNNING', 'COMPLETE', 'CANCELED', 'FAILED', 'CRASHED'];

/**
 * The one queue of this process and its watcher. The watcher holds the
 * event loop only while something waits for an event (a task not yet
 * ended, a close not yet done), so a process with nothing pending exits.
 */
const hub = {
  queue: null,
  handle: null,
  nextTag: 1,
  waiting: new Map(),

  start() {
    if (this.queue !== null) return;
    this.queue = get('appose_queue_new');
    const fd = get('appose_queue_fd', this.queue);
    // koffi's libuv poll on the queue's own fd (it never reads nor closes
    // it). Level-triggered: each wake-up takes until the queue is empty.
    this.handle = koffi.node.poll(fd, { readable: true }, () => {
      // koffi drops what a poll callback throws: hand it to the event
      // loop, so that a bug here is an uncaught exception, not silence.
      try {
        this.drain();
      } catch (e) {
        setImmediate(() => {
          throw e;
        });
      }
    });
    this.handle.unref();
  },

  /** Registers `onEvent` for a new tag; the loop is held until `done(tag)`. */
  register(onEvent) {
    this.start();
    const tag = this.nextTag++;
    this.waiting.set(tag, onEvent);
    if (this.waiting.size === 1) this.handle.ref();
    return tag;
  },

  done(tag) {
    this.waiting.delete(tag);
    if (this.waiting.size === 0) this.handle.unref();
  },

  drain() {
    for (;;) {
      const batch = get('appose_queue_take', this.queue, 0);
      try {
        const n = Number(c.appose_event_batch_len(batch));
        if (n === 0) return;
        // Handled before the batch is freed: what an event points to (its
        // strings, a built environment) lives until then.
        for (let i = 0; i < n; i++) {
          const ev = koffi.decode(c.appose_event_batch_get(batch, i), Event);
          const onEvent = this.waiting.get(Number(ev.tag));
          if (onEvent) onEvent(ev);
        }
      } finally {
        c.appose_event_batch_free(batch);
      }
    }
  },
};

/** A task that did not complete: `status` is 'FAILED', 'CANCELED' or 'CRASHED'; the message is the worker's. */
class TaskError extends Error {
  constructor(status, message) {
    super(message || `task ${status.toLowerCase()}`);
    this.name = 'TaskError';
    this.status = status;
  }
}

/**
 * A script running in a worker. An EventEmitter of its events ('launch',
 * 'update', and one of 'completion', 'cancelation', 'failure', 'crash';
 * 'event' for each) and a thenable: `await task` gives `outputs.result`,
 * or rejects with a TaskError. A listener that throws is reported as a
 * process warning; the task and the process go on.
 */
class Task extends EventEmitter {
  constructor(handle) {
    super();
    this.handle = handle;
    this.status = 'QUEUED';
    this.outputs = undefined;
    this.error = undefined;
    this.promise = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A rejection nobody awaits must not crash the process: `await task`
    // or `.then` still sees it.
    this.promise.catch(() => {});
    this.tag = hub.register((ev) => this.onEvent(ev));
    try {
      call('appose_task_listen_queue', handle, hub.queue, this.tag);
      call('appose_task_start', handle);
    } catch (e) {
      hub.done(this.tag);
      c.appose_task_free(handle);
      throw e;
    }
  }

  get id() {
    return getString('appose_task_id', this.handle);
  }

  then(onFulfilled, onRejected) {
    return this.promise.then(onFulfilled, onRejected);
  }

  catch(onRejected) {
    return this.promise.catch(onRejected);
  }

  /** Asks the worker to cancel (the script must check `task.cancel_requested`). */
  cancel() {
    call('appose_task_cancel', this.handle);
  }

  onEvent(ev) {
    const type = RESPONSE[ev.response_type];
    this.status = STATUS[ev.task_status];
    const event = {
      type,
      status: this.status,
      message: ev.message ?? undefined,
      current: ev.has_current ? Number(ev.current) : undefined,
      maximum: ev.has_maximum ? Number(ev.maximum) : undefined,
      info: ev.info_json != null ? json.parse(ev.info_json) : undefined,
      error: ev.error ?? undefined,
    };
    const terminal = type !== 'LAUNCH' && type !== 'UPDATE';
    if (terminal) {
      hub.done(this.tag);
      if (type === 'COMPLETION') {
        this.outputs = json.parse(getString('appose_task_outputs_json', this.handle));
      }
      this.error = event.error;
      c.appose_task_free(this.handle);
      this.handle = null;
    }
    for (const name of ['event', type.toLowerCase()]) {
      try {
        this.emit(name, event);
      } catch (e) {
        process.emitWarning(`a listener of task event ${name} threw: ${e && e.stack ? e.stack : e}`,
          { code: 'APPOSE_LISTENER' });
      }
    }
    if (terminal) {
      if (type === 'COMPLETION') this.settle.resolve(this.outputs.result);
      else this.settle.reject(new TaskError(this.status, event.error));
    }
  }
}

/** One worker process. Tasks made here start at once. */
class Service {
  constructor(handle) {
    this.handle = handle;
  }

  /**
   * Runs `script` with `inputs` (a plain object; BigInt and NaN kept) on
   * `options.queue` ("main" for the worker's main thread).
   */
  task(script, inputs, options = {}) {
    if (this.handle === null) throw new Error('the service is closed');
    const inputsJson = inputs === undefined ? null : json.stringify(inputs);
    const t = get('appose_service_task', this.handle, script, inputsJson, options.queue ?? null);
    return new Task(t);
  }

  /** The worker's process id (throws before it starts). */
  get pid() {
    return Number(get('appose_service_pid', this.handle));
  }

  /**
   * Closes the worker's stdin, waits up to `timeout` ms for it to exit, then
   * kills it; resolves with the exit code (128 + signal when killed). Never
   * blocks the event loop.
   */
  close({ timeout = 10000 } = {}) {
    if (this.handle === null) return Promise.resolve(null);
    const handle = this.handle;
    this.handle = null;
    return new Promise((resolve, reject) => {
      const tag = hub.register((ev) => {
        if (ev.kind !== EVENT_CLOSED) return;
        hub.done(tag);
        c.appose_service_free(handle);
        if (ev.status === 0) resolve(ev.exit_code);
        else reject(new ApposeError(ev.status, ev.error ?? ''));
      });
      try {
        call('appose_service_close_async', handle, timeout, hub.queue, tag);
      } catch (e) {
        hub.done(tag);
        reject(e);
      }
    });
  }

  /** Kills the worker's process group now; pending tasks end CRASHED. */
  kill() {
    if (this.handle !== null) call('appose_service_kill', this.handle);
  }
}

/** Where a worker runs: a wrapped directory (a venv, pixi, conda) or the system. */
class Environment {
  constructor(handle) {
    this.handle = handle;
  }

  /** The environment's directory. */
  get base() {
    return getString('appose_env_base', this.handle);
  }

  static wrap(dir) {
    return new Environment(get('appose_env_wrap', dir));
  }

  static system() {
    return new Environment(get('appose_env_system'));
  }

  /** A Python worker service (the `appose` package must be installed). */
  python() {
    return new Service(get('appose_env_python', this.handle));
  }
}

/**
 * Builds an environment ("uv", "pixi", "mamba", "custom", or "dynamic",
 * which picks one from the content). An EventEmitter of the build's
 * 'progress' ({title, current, maximum}), 'output' and 'error' (one line
 * each); `build()` resolves with the Environment without blocking the
 * event loop (the tools run on a library thread; their events come
 * through the queue).
 */
class Builder extends EventEmitter {
  constructor(kind = 'dynamic') {
    super();
    this.handle = get('appose_builder_new', kind);
  }

  name(name) { call('appose_builder_name', this.handle, name); return this; }
  base(dir) { call('appose_builder_base', this.handle, dir); return this; }
  envsRoot(dir) { call('appose_builder_envs_root', this.handle, dir); return this; }
  content(text) { call('appose_builder_content', this.handle, text); return this; }
  scheme(name) { call('appose_builder_scheme', this.handle, name); return this; }
  package(spec) { call('appose_builder_package', this.handle, spec); return this; }
  binPath(dir) { call('appose_builder_bin_path', this.handle, dir); return this; }

  /** Builds, or reuses the environment when unchanged. */
  build() { return this.run('appose_builder_build_async'); }

  /** Deletes the environment, then builds it. */
  rebuild() { return this.run('appose_builder_rebuild_async'); }

  run(fn) {
    return new Promise((resolve, reject) => {
      const tag = hub.register((ev) => {
        const report = (name, payload) => {
          try {
            this.emit(name, payload);
          } catch (e) {
            process.emitWarning(`a listener of build event ${name} threw: ${e && e.stack ? e.stack : e}`,
              { code: 'APPOSE_LISTENER' });
          }
        };
        switch (ev.kind) {
          case EVENT_BUILD_PROGRESS:
            report('progress', { title: ev.message, current: Number(ev.current), maximum: Number(ev.maximum) });
            break;
          case EVENT_BUILD_OUTPUT:
            report('output', ev.message);
            break;
          case EVENT_BUILD_ERROR:
            if (this.listenerCount('error') > 0) report('error', ev.message);
            break;
          case EVENT_BUILT:
            hub.done(tag);
            if (ev.status === 0) resolve(new Environment(get('appose_env_clone', ev.env)));
            else reject(new ApposeError(ev.status, ev.error ?? ''));
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

const version = c.appose_version();

module.exports = { Builder, Environment, Service, Task, TaskError, ApposeError, version };
