// ESM entry point: the same objects as the CommonJS one.
import appose from './lib/index.js';

export const {
  Builder, Environment, Service, Task, TaskError, ApposeError, SharedMemory, NDArray, WorkerObject,
  DTYPES, float16ToNumber, numberToFloat16, version, libraryPath,
} = appose;
export default appose;
