'use strict';
// libappose for Node.js: environments, services and tasks whose events come
// through one event queue that the event loop watches, arrays over shared
// memory, and worker objects. No call blocks the event loop and no library
// thread calls into JS.

const { c, ApposeError, libPath } = require('./native');
const { Task, TaskError } = require('./task');
const { Service } = require('./service');
const { Environment } = require('./environment');
const { Builder } = require('./builder');
const { SharedMemory } = require('./shm');
const { NDArray, DTYPES, float16ToNumber, numberToFloat16 } = require('./ndarray');
const { WorkerObject } = require('./worker_object');

/** The library's version. */
const version = c.appose_version();

module.exports = {
  Builder,
  Environment,
  Service,
  Task,
  TaskError,
  ApposeError,
  SharedMemory,
  NDArray,
  WorkerObject,
  DTYPES,
  float16ToNumber,
  numberToFloat16,
  version,
  /** The path of the libappose.so this package loaded. */
  libraryPath: libPath,
};
