'use strict';
// Services: one worker process, its tasks, variables and calls.

const { c, call, get, callAsync, ApposeError } = require('./native');
const { hub, text } = require('./hub');
const { own, disown } = require('./handles');
const { Task } = require('./task');
const { encodeInputs, withValues } = require('./value');

const EVENT_CLOSED = 1;

/**
 * One worker process. It starts with its first task (or `start()`), off
 * the event loop; tasks made meanwhile are sent once it runs.
 */
class Service {
  constructor(handle) {
    this.handle = handle;
    this.starting = null;
    this.started = false;
    own(this, 'appose_service_free', handle);
  }

  /** Starts the worker process (on libuv's thread pool: spawning never blocks the loop). */
  start() {
    if (this.starting === null) {
      this.starting = callAsync('appose_service_start', this.live()).then(() => {
        this.started = true;
      });
      this.starting.catch(() => {});
    }
    return this.starting;
  }

  /**
   * Runs `script` with `inputs` (an object of named values: JSON values,
   * BigInt, NaN and the infinities kept, NDArray and SharedMemory shared
   * without copying) on `options.queue` ("main" for the worker's main
   * thread). The task starts at once.
   */
  task(script, inputs, options = {}) {
    const handle = this.live();
    const { json, map } = encodeInputs(inputs);
    const queue = options.queue ?? null;
    const dispose = () => {
      if (map !== undefined) c.appose_map_free(map);
    };
    return this.run(() => {
      try {
        return map === undefined
          ? get('appose_service_task', handle, script, json, queue)
          : get('appose_service_task_map', handle, script, map, queue);
      } finally {
        dispose();
      }
    }, dispose);
  }

  /**
   * A Task over the unstarted task `make()` gives, made once the worker
   * runs; `dispose()` releases what `make` would have used when the worker
   * cannot start.
   */
  run(make, dispose = () => {}) {
    const task = new Task(this);
    if (this.started) {
      task.attach(make());
    } else {
      this.start().then(() => task.attach(make()), (e) => {
        dispose();
        throw e;
      }).catch((e) => task.fail(e));
    }
    return task;
  }

  /** The value of the worker's exported variable `name` (a WorkerObject when JSON cannot carry it). */
  async getVar(name, options = {}) {
    const handle = this.live();
    return this.run(() => get('appose_service_get_var_task', handle, name, options.queue ?? null));
  }

  /** Sets the worker's variable `name` to `value` and exports it for later tasks. */
  async putVar(name, value, options = {}) {
    const handle = this.live();
    await this.run(() => withValues([value],
      (args) => get('appose_service_put_var_task', handle, name, args[0], options.queue ?? null)));
  }

  /**
   * Calls `fn` in the worker (a builtin, or a name a task or the init
   * script exported; dotted names allowed) with `args`; resolves with its
   * result. A WorkerObject of this service is passed as the object itself.
   */
  async call(fn, args = [], options = {}) {
    const handle = this.live();
    return this.run(() => withValues(args,
      (values, n) => get('appose_service_call_task', handle, fn, values, n, options.queue ?? null)));
  }

  /**
   * A WorkerObject for the variable `name` a script exported
   * (`task.export(name=...)`); its tasks run on `options.queue`. The
   * variable is yours: releasing the object never deletes it.
   */
  proxy(name, options = {}) {
    const { WorkerObject } = require('./worker_object');
    return new WorkerObject(get('appose_service_proxy', this.live(), name, options.queue ?? null), this);
  }

  /** The worker's process id (throws before it starts). */
  get pid() {
    return Number(get('appose_service_pid', this.live()));
  }

  /**
   * Closes the worker's stdin, waits up to `timeout` ms for it to exit, then
   * kills it; resolves with the exit code (128 + signal when killed). Never
   * blocks the event loop.
   */
  async close({ timeout = 10000 } = {}) {
    if (this.handle === null) return null;
    const handle = this.handle;
    this.handle = null;
    disown(this);
    // A start under way finishes first (its tasks then end with the worker).
    if (this.starting !== null) await this.starting.catch(() => {});
    return new Promise((resolve, reject) => {
      const tag = hub.register((ev) => {
        if (ev.kind !== EVENT_CLOSED) return;
        hub.done(tag);
        c.appose_service_free(handle);
        if (ev.status === 0) resolve(ev.exit_code);
        else reject(new ApposeError(ev.status, text(ev.error) ?? ''));
      });
      try {
        call('appose_service_close_async', handle, timeout, hub.queue, tag);
      } catch (e) {
        hub.done(tag);
        c.appose_service_free(handle);
        reject(e);
      }
    });
  }

  /** Kills the worker's process group now; pending tasks end CRASHED. */
  kill() {
    if (this.handle !== null) call('appose_service_kill', this.handle);
  }

  live() {
    if (this.handle === null) throw new Error('the service is closed');
    return this.handle;
  }
}

module.exports = { Service };
