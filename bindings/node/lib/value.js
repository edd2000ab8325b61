'use strict';
// Values between JS and the worker. Out: JSON text read exactly (json.js),
// then the parts JSON cannot carry (arrays, blocks, worker objects) taken
// as handles from the library's typed value tree. In: JSON text, or typed
// handles for arrays and worker objects.

const { c, call, get } = require('./native');
const json = require('./json');
const { NDArray } = require('./ndarray');
const { SharedMemory } = require('./shm');

const VALUE_SHM = 6;
const VALUE_NDARRAY = 7;
const VALUE_WORKER_OBJECT = 8;
const TYPED = new Set(['shm', 'ndarray', 'worker_object']);

/** Marks the WorkerObject behind a proxy (see worker_object.js). */
const WORKER_OBJECT = Symbol('appose.workerObject');

/**
 * The JS value of a map (a task's outputs, an UPDATE's info) given as its
 * JSON `text` and its `map` handle (read, never freed here). Arrays, blocks
 * and worker objects become NDArray, SharedMemory and WorkerObject objects
 * holding handles of their own; `service` is the one worker objects live in.
 */
function decodeMap(text, map, service) {
  const obj = json.parse(text);
  // Most results hold nothing typed: then the JSON is all there is.
  if (!text.includes('"appose_type"')) return obj;
  const made = [];
  // A handle to the value at a path, made only when a typed value lies
  // below it, and freed at the end.
  const lazy = (make) => {
    let h;
    return () => {
      if (h === undefined) {
        h = make();
        made.push(h);
      }
      return h;
    };
  };
  const typify = (node, handle) => {
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        node[i] = typify(node[i], lazy(() => get('appose_value_at', handle(), i)));
      }
      return node;
    }
    if (TYPED.has(node.appose_type)) {
      const h = handle();
      switch (get('appose_value_get_kind', h)) {
        case VALUE_NDARRAY: return new NDArray(get('appose_value_ndarray', h));
        case VALUE_SHM: return new SharedMemory(get('appose_value_shm', h));
        case VALUE_WORKER_OBJECT: {
          const { WorkerObject } = require('./worker_object');
          return new WorkerObject(get('appose_value_worker_object', h), service);
        }
        // The library could not decode it (a block gone): left as it came.
        default: return node;
      }
    }
    for (const key of Object.keys(node)) {
      node[key] = typify(node[key], lazy(() => get('appose_value_get', handle(), key)));
    }
    return node;
  };
  try {
    for (const key of Object.keys(obj)) {
      obj[key] = typify(obj[key], lazy(() => get('appose_map_get_value', map, key)));
    }
  } finally {
    for (const h of made) c.appose_value_free(h);
  }
  return obj;
}

/** The WorkerObject a value is or stands for (a proxy), else undefined. */
function workerObjectOf(v) {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return undefined;
  return v[WORKER_OBJECT];
}

/**
 * Value handles for `args` (a worker object or an array as itself, anything
 * else through JSON), passed to `use`; freed when it returns (the task it
 * makes holds what it needs).
 */
function withValues(args, use) {
  const handles = [];
  try {
    for (const arg of args) {
      const wo = workerObjectOf(arg);
      if (wo !== undefined) handles.push(get('appose_value_from_worker_object', wo.live()));
      else if (arg instanceof NDArray) handles.push(get('appose_value_from_ndarray', arg.live()));
      else handles.push(get('appose_value_from_json', json.stringify(arg)));
    }
    return use(handles.length ? handles : null, handles.length);
  } finally {
    for (const h of handles) c.appose_value_free(h);
  }
}

/**
 * Task inputs: `{json}` when they are plain values, else `{map}` (a handle
 * the caller frees) whose arrays and blocks at the top are shared by
 * handle and deeper ones by name.
 */
function encodeInputs(inputs) {
  if (inputs === undefined || inputs === null) return { json: null };
  if (typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new TypeError('task inputs must be an object of named values');
  }
  const found = [];
  const text = json.stringify(inputs, found);
  if (found.length === 0) return { json: text };
  const map = get('appose_map_new');
  try {
    for (const [key, v] of Object.entries(inputs)) {
      if (v === undefined) continue;
      if (v instanceof NDArray) call('appose_map_put_ndarray', map, key, v.live());
      else if (v instanceof SharedMemory) call('appose_map_put_shm', map, key, v.live());
      else call('appose_map_put_json', map, key, json.stringify(v));
    }
  } catch (e) {
    c.appose_map_free(map);
    throw e;
  }
  return { map };
}

module.exports = { decodeMap, withValues, encodeInputs, workerObjectOf, WORKER_OBJECT };
