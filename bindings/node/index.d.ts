// TypeScript declarations for libappose's Node.js binding.
import { EventEmitter } from 'node:events';

/** A failed library call. */
export class ApposeError extends Error {
  /** The C status number. */
  readonly status: number;
  /** Its name, e.g. "APPOSE_STATUS_NOT_FOUND". */
  readonly statusName: string;
  /** The library's message. */
  readonly detail: string;
}

/** A task that did not complete. */
export class TaskError extends Error {
  readonly status: 'FAILED' | 'CANCELED' | 'CRASHED';
}

export type TaskStatus = 'INITIAL' | 'QUEUED' | 'RUNNING' | 'COMPLETE' | 'CANCELED' | 'FAILED' | 'CRASHED';

/**
 * A value crossing to or from a worker: JSON values, with integers beyond
 * 2^53 as bigint and NaN/±Infinity as numbers; arrays, blocks and worker
 * objects as themselves.
 */
export type Value =
  | null
  | boolean
  | number
  | bigint
  | string
  | NDArray
  | SharedMemory
  | WorkerObject
  | Value[]
  | { [key: string]: Value };

export interface TaskEvent {
  type: 'LAUNCH' | 'UPDATE' | 'COMPLETION' | 'CANCELATION' | 'FAILURE' | 'CRASH';
  status: TaskStatus;
  message?: string;
  current?: number;
  maximum?: number;
  /** UPDATE info (arrays in it as NDArray). */
  info?: { [key: string]: Value };
  /** FAILURE and CRASH: the worker's traceback or the crash report. */
  error?: string;
}

/** A script running in a worker: an EventEmitter of its events, and awaitable for `outputs.result`. */
export class Task<T = any> extends EventEmitter implements PromiseLike<T> {
  /** The id sent to the worker (undefined before it is sent and after the task ends). */
  readonly id: string | undefined;
  readonly status: TaskStatus;
  readonly outputs: { [key: string]: Value } | undefined;
  readonly error: string | undefined;
  cancel(): void;
  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: TaskError | ApposeError) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2>;
  catch<R = never>(onRejected?: ((reason: TaskError | ApposeError) => R | PromiseLike<R>) | null): Promise<T | R>;
  finally(onFinally?: (() => void) | null): Promise<T>;
  on(event: 'event' | 'launch' | 'update' | 'completion' | 'cancelation' | 'failure' | 'crash',
    listener: (event: TaskEvent) => void): this;
}

export interface QueueOption {
  /** The worker queue to run on: "main" for the worker's main thread. */
  queue?: string;
}

/** One worker process; it starts with its first task (or `start()`), off the event loop. */
export class Service {
  start(): Promise<void>;
  task<T = any>(script: string, inputs?: { [key: string]: unknown }, options?: QueueOption): Task<T>;
  getVar<T = any>(name: string, options?: QueueOption): Promise<T>;
  putVar(name: string, value: unknown, options?: QueueOption): Promise<void>;
  call<T = any>(fn: string, args?: unknown[], options?: QueueOption): Promise<T>;
  /** A worker object for a variable your script exported (never deleted on release). */
  proxy(name: string, options?: QueueOption): WorkerObject;
  readonly pid: number;
  /** Resolves with the worker's exit code. */
  close(options?: { timeout?: number }): Promise<number | null>;
  kill(): void;
}

/** An object that lives in a worker. */
export class WorkerObject {
  /** The variable the worker keeps it under. */
  readonly name: string;
  /** The WorkerObject behind a proxy (or the object itself). */
  static from(obj: WorkerObject | WorkerProxy): WorkerObject;
  attr<T = any>(name: string): Promise<T>;
  invoke<T = any>(method: string, ...args: unknown[]): Promise<T>;
  call<T = any>(...args: unknown[]): Promise<T>;
  dir(): Promise<string[]>;
  proxy(): WorkerProxy;
  /** Lets go of it: the worker deletes an object it sent. */
  release(): void;
  [Symbol.dispose](): void;
}

/** A member of a proxy: awaited, the attribute; called, the method. */
export interface WorkerMember extends PromiseLike<any> {
  (...args: unknown[]): Promise<any>;
}

/** `await p.attr`, `await p.method(...args)`, `await p(...args)`; worker objects in results come as proxies. */
export type WorkerProxy = {
  readonly [name: string]: WorkerMember;
} & ((...args: unknown[]) => Promise<any>) & { [Symbol.dispose](): void };

export type DType =
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'float16' | 'float32' | 'float64'
  | 'complex64' | 'complex128' | 'bool';

/** The view of each dtype (see the README's table). */
export interface DTypeView {
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  /** Raw float16 bits: float16ToNumber / numberToFloat16. */
  float16: Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
  /** Interleaved real and imaginary parts. */
  complex64: Float32Array;
  complex128: Float64Array;
  /** 0 or 1. */
  bool: Uint8Array;
}

/** The value `NDArray.get` gives for each dtype. */
export interface DTypeElement {
  int8: number; int16: number; int32: number; int64: bigint;
  uint8: number; uint16: number; uint32: number; uint64: bigint;
  float16: number; float32: number; float64: number;
  complex64: { re: number; im: number }; complex128: { re: number; im: number };
  bool: boolean;
}

/** A shared memory block; `buffer` is the mapped memory itself. */
export class SharedMemory {
  readonly name: string;
  readonly size: number;
  static create(size: number, options?: { name?: string }): Promise<SharedMemory>;
  static attach(name: string, options?: { size?: number }): SharedMemory;
  readonly buffer: Buffer;
  unlinkOnClose: boolean;
  unlink(): void;
  close(): void;
  [Symbol.dispose](): void;
}

/** An n-dimensional array over shared memory; `data` is a typed array over the block itself. */
export class NDArray<D extends DType = DType> {
  readonly dtype: D;
  /** C order (slowest axis first). */
  readonly shape: number[];
  /** F order (fastest axis first). */
  readonly shapeF: number[];
  readonly length: number;
  readonly byteLength: number;
  static create<D extends DType>(dtype: D, shape: number[], options?: { order?: 'C' | 'F' }): Promise<NDArray<D>>;
  static wrap<D extends DType>(shm: SharedMemory, dtype: D, shape: number[], options?: { order?: 'C' | 'F' }): NDArray<D>;
  readonly data: DTypeView[D];
  readonly buffer: Buffer;
  readonly shm: SharedMemory;
  get(index: number): DTypeElement[D];
  set(index: number, value: DTypeElement[D] | number): void;
  close(): void;
  [Symbol.dispose](): void;
}

export const DTYPES: DType[];
export function float16ToNumber(bits: number): number;
export function numberToFloat16(x: number): number;

/**
 * Builds an environment; emits 'progress', 'output' and 'error' while it
 * runs. Setters chain and take effect in order (after a `url` download).
 */
export class Builder extends EventEmitter {
  constructor(kind?: 'uv' | 'pixi' | 'mamba' | 'custom' | 'dynamic');
  name(name: string): this;
  base(dir: string): this;
  envsRoot(dir: string): this;
  content(text: string): this;
  file(path: string): this;
  /** Downloaded off the event loop; a failure rejects build(). */
  url(url: string): this;
  scheme(name: 'pixi.toml' | 'pyproject.toml' | 'environment.yml' | 'requirements.txt'): this;
  channel(name: string): this;
  flag(flag: string): this;
  pythonVersion(version: string): this;
  package(spec: string): this;
  conda(spec: string): this;
  pypi(spec: string): this;
  pixiEnvironment(name: string): this;
  binPath(dir: string): this;
  appendSystemPath(): this;
  toolMirror(baseUrl: string): this;
  toolSha256(hex: string): this;
  envVar(key: string, value: string): this;
  /** Resolves with the tool's path. */
  installTool(): Promise<string>;
  delete(): Promise<void>;
  build(): Promise<Environment>;
  rebuild(): Promise<Environment>;
  on(event: 'progress', listener: (p: { title: string; current: number; maximum: number }) => void): this;
  on(event: 'output' | 'error', listener: (line: string) => void): this;
}

export class Environment {
  readonly base: string;
  /** A venv or plain directory (a pixi or conda one: wrapAsync). */
  static wrap(dir: string): Environment;
  static wrapAsync(dir: string): Promise<Environment>;
  static system(): Environment;
  python(): Service;
}

export const version: string;
/** The libappose.so this package loaded. */
export const libraryPath: string;
