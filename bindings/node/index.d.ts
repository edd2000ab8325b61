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

export interface TaskEvent {
  type: 'LAUNCH' | 'UPDATE' | 'COMPLETION' | 'CANCELATION' | 'FAILURE' | 'CRASH';
  status: TaskStatus;
  message?: string;
  current?: number;
  maximum?: number;
  /** UPDATE info (integers beyond 2^53 as bigint). */
  info?: unknown;
  /** FAILURE and CRASH: the worker's traceback or the crash report. */
  error?: string;
}

/** A script running in a worker: an EventEmitter of its events, and awaitable for `outputs.result`. */
export class Task extends EventEmitter implements PromiseLike<unknown> {
  readonly id: string;
  readonly status: TaskStatus;
  readonly outputs: Record<string, unknown> | undefined;
  readonly error: string | undefined;
  cancel(): void;
  then<R1 = unknown, R2 = never>(
    onFulfilled?: ((value: unknown) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: TaskError) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2>;
  catch<R = never>(onRejected?: ((reason: TaskError) => R | PromiseLike<R>) | null): Promise<unknown>;
  on(event: 'event' | 'launch' | 'update' | 'completion' | 'cancelation' | 'failure' | 'crash',
    listener: (event: TaskEvent) => void): this;
}

export class Service {
  task(script: string, inputs?: Record<string, unknown>, options?: { queue?: string }): Task;
  readonly pid: number;
  /** Resolves with the worker's exit code. */
  close(options?: { timeout?: number }): Promise<number | null>;
  kill(): void;
}

/** Builds an environment; emits 'progress', 'output' and 'error' while it runs. */
export class Builder extends EventEmitter {
  constructor(kind?: 'uv' | 'pixi' | 'mamba' | 'custom' | 'dynamic');
  name(name: string): this;
  base(dir: string): this;
  envsRoot(dir: string): this;
  content(text: string): this;
  scheme(name: string): this;
  package(spec: string): this;
  binPath(dir: string): this;
  build(): Promise<Environment>;
  rebuild(): Promise<Environment>;
  on(event: 'progress', listener: (p: { title: string; current: number; maximum: number }) => void): this;
  on(event: 'output' | 'error', listener: (line: string) => void): this;
}

export class Environment {
  readonly base: string;
  static wrap(dir: string): Environment;
  static system(): Environment;
  python(): Service;
}

export const version: string;
