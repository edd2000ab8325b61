// ESM entry point: the same objects as the CommonJS one.
import appose from './lib/index.js';

export const { Builder, Environment, Service, Task, TaskError, ApposeError, version } = appose;
export default appose;
