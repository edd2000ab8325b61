'use strict';
// Worker objects: values that stay in the worker (a model, a datetime),
// used from here through small tasks that never block the event loop.

const { inspect } = require('node:util');
const { c, get, getString } = require('./native');
const { own, disown } = require('./handles');
const { ENCODE } = require('./json');
const { withValues, workerObjectOf, WORKER_OBJECT } = require('./value');

/**
 * An object that lives in a worker. `attr`, `invoke`, `call` and `dir`
 * each run a task and resolve with its result; `proxy()` gives the same
 * as `await obj.year` and `await obj.isoformat()`. An object the worker
 * sent is deleted there when released: by `release()` (or `using`), or
 * when this object is garbage-collected.
 */
class WorkerObject {
  constructor(handle, service) {
    this.handle = handle;
    this.service = service;
    own(this, 'appose_worker_object_free', handle);
    /** The variable the worker keeps the object under. */
    this.name = getString('appose_worker_object_name', handle);
  }

  /** The WorkerObject behind a proxy (or `obj` itself when it is one). */
  static from(obj) {
    const wo = workerObjectOf(obj);
    if (wo === undefined) throw new TypeError('not a worker object or a proxy of one');
    return wo;
  }

  get [WORKER_OBJECT]() {
    return this;
  }

  /** Attribute `name` (a value, or a WorkerObject such as a bound method). */
  async attr(name) {
    const handle = this.live();
    return this.service.run(() => get('appose_worker_object_attr_task', handle, name));
  }

  /** Calls method `method` with `args`; its result. */
  async invoke(method, ...args) {
    const handle = this.live();
    return this.service.run(() => withValues(args,
      (values, n) => get('appose_worker_object_invoke_task', handle, method, values, n)));
  }

  /** Calls the object itself (a function, any callable) with `args`; its result. */
  async call(...args) {
    const handle = this.live();
    return this.service.run(() => withValues(args,
      (values, n) => get('appose_worker_object_call_task', handle, values, n)));
  }

  /** The object's attribute names. */
  async dir() {
    const handle = this.live();
    return this.service.run(() => get('appose_worker_object_dir_task', handle));
  }

  /**
   * A JS Proxy of this object: `await p.name` reads an attribute,
   * `await p.method(...args)` calls a method, `await p(...args)` calls the
   * object; worker objects in results come as proxies too.
   * `WorkerObject.from(p)` gives this object back.
   */
  proxy() {
    const obj = this;
    const proxied = (v) => (v instanceof WorkerObject ? v.proxy() : v);
    return new Proxy(function workerObject() {}, {
      apply(_target, _this, args) {
        return obj.call(...args).then(proxied);
      },
      get(_target, prop) {
        if (prop === WORKER_OBJECT) return obj;
        if (prop === ENCODE) return () => obj[ENCODE]();
        if (prop === Symbol.dispose) return () => obj.release();
        // Not a thenable itself (so `await p` gives p), and no other symbol.
        if (prop === 'then' || typeof prop === 'symbol') return undefined;
        const member = (...args) => obj.invoke(prop, ...args).then(proxied);
        member.then = (onFulfilled, onRejected) => obj.attr(prop).then(proxied).then(onFulfilled, onRejected);
        return member;
      },
    });
  }

  /** Lets go of the object: the worker deletes an object it sent (batched, in one task). */
  release() {
    if (this.handle === null) return;
    disown(this);
    c.appose_worker_object_free(this.handle);
    this.handle = null;
  }

  [Symbol.dispose]() {
    this.release();
  }

  live() {
    if (this.handle === null) throw new Error(`worker object ${this.name} was released`);
    return this.handle;
  }

  [inspect.custom]() {
    return `WorkerObject(${this.name}${this.handle === null ? ', released' : ''})`;
  }

  /** In task inputs: the reference the worker's scripts see (use `name` to reach the object). */
  [ENCODE]() {
    return `{"appose_type":"worker_object","var_name":${JSON.stringify(this.name)}}`;
  }
}

module.exports = { WorkerObject };
