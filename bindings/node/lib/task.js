'use strict';
// Tasks: a script running in a worker, its events from the hub's queue.

const { EventEmitter } = require('node:events');
const { c, call, get, getString } = require('./native');
const { hub, emitSafely, text } = require('./hub');
const { decodeMap } = require('./value');

const RESPONSE = ['LAUNCH', 'UPDATE', 'COMPLETION', 'CANCELATION', 'FAILURE', 'CRASH'];
const STATUS = ['INITIAL', 'QUEUED', 'RUNNING', 'COMPLETE', 'CANCELED', 'FAILED', 'CRASHED'];

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
  /** Made by a Service (its `task`, and the variable, call and worker-object helpers). */
  constructor(service) {
    super();
    this.service = service;
    this.handle = null;
    this.tag = 0;
    this.status = 'INITIAL';
    this.outputs = undefined;
    this.error = undefined;
    this.cancelRequested = false;
    this.promise = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A rejection nobody awaits must not crash the process: `await task`
    // or `.then` still sees it.
    this.promise.catch(() => {});
  }

  /** Starts the task of `handle` (an unstarted appose_task this object now owns). */
  attach(handle) {
    this.handle = handle;
    this.tag = hub.register((ev) => this.onEvent(ev));
    try {
      call('appose_task_listen_queue', handle, hub.queue, this.tag);
      call('appose_task_start', handle);
    } catch (e) {
      hub.done(this.tag);
      c.appose_task_free(handle);
      this.handle = null;
      throw e;
    }
    this.status = 'QUEUED';
    if (this.cancelRequested) this.cancel();
  }

  /** Ends a task that could not be made or started. */
  fail(error) {
    this.status = 'FAILED';
    this.error = error.message;
    this.settle.reject(error);
  }

  /** The id sent to the worker (undefined before the task is sent, and after it ends). */
  get id() {
    return this.handle === null ? undefined : getString('appose_task_id', this.handle);
  }

  then(onFulfilled, onRejected) {
    return this.promise.then(onFulfilled, onRejected);
  }

  catch(onRejected) {
    return this.promise.catch(onRejected);
  }

  finally(onFinally) {
    return this.promise.finally(onFinally);
  }

  /** Asks the worker to cancel (the script must check `task.cancel_requested`). */
  cancel() {
    this.cancelRequested = true;
    if (this.handle !== null) call('appose_task_cancel', this.handle);
  }

  onEvent(ev) {
    const type = RESPONSE[ev.response_type];
    this.status = STATUS[ev.task_status];
    const info = text(ev.info_json);
    const event = {
      type,
      status: this.status,
      message: text(ev.message),
      current: ev.has_current ? Number(ev.current) : undefined,
      maximum: ev.has_maximum ? Number(ev.maximum) : undefined,
      info: info !== undefined ? decodeMap(info, ev.info, this.service) : undefined,
      error: text(ev.error),
    };
    const terminal = type !== 'LAUNCH' && type !== 'UPDATE';
    let outcome;
    if (terminal) {
      hub.done(this.tag);
      try {
        if (type === 'COMPLETION') this.outputs = this.readOutputs();
        this.error = event.error;
        outcome = type === 'COMPLETION'
          ? () => this.settle.resolve(this.outputs.result)
          : () => this.settle.reject(new TaskError(this.status, event.error));
      } catch (e) {
        // Outputs that cannot be read here: the task fails with the reason.
        outcome = () => this.settle.reject(e);
      } finally {
        c.appose_task_free(this.handle);
        this.handle = null;
      }
    }
    emitSafely(this, 'event', event, 'task');
    emitSafely(this, type.toLowerCase(), event, 'task');
    if (outcome) outcome();
  }

  readOutputs() {
    const json = getString('appose_task_outputs_json', this.handle);
    if (!json.includes('"appose_type"')) return decodeMap(json, null, this.service);
    const map = get('appose_task_outputs', this.handle);
    try {
      return decodeMap(json, map, this.service);
    } finally {
      c.appose_map_free(map);
    }
  }
}

module.exports = { Task, TaskError, RESPONSE, STATUS };
