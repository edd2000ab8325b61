package org.libappose.internal;

import java.nio.ByteBuffer;

/**
 * The C ABI as the public classes use it, implemented twice: over JNI glue
 * ({@link JniBridge}, Java 11+) and over the Foreign Function and Memory API
 * (FfmBridge, Java 22+, in the jar's versioned part). Handles are C pointers
 * as longs; a failed call throws {@link org.libappose.ApposeException}.
 * Small integer selectors pick among C functions of one shape, so both
 * bridges stay thin.
 */
public interface Bridge {
  /** The builder setters {@link #builderSet} selects from, in order. */
  String[] BUILDER_SETTERS = {
    "name", "base", "envs_root", "content", "file", "url", "scheme", "channel", "flag",
    "python_version", "package", "conda", "pypi", "pixi_environment", "bin_path", "tool_mirror",
    "tool_sha256",
  };

  int FREE_BUILDER = 0;
  int FREE_ENV = 1;
  int FREE_SERVICE = 2;
  int FREE_TASK = 3;
  int FREE_MAP = 4;
  int FREE_VALUE = 5;
  int FREE_WORKER_OBJECT = 6;
  int FREE_SHM = 7;
  int FREE_NDARRAY = 8;

  /** "jni" or "ffm". */
  String name();

  String version();

  long builderNew(String kind);

  void builderSet(long builder, int which, String value);

  void builderEnvVar(long builder, String key, String value);

  void builderAppendSystemPath(long builder);

  void builderOnProgress(long builder, ProgressListener listener);

  /** kind 1: output lines, 2: error lines. */
  void builderOnLine(long builder, int kind, LineListener listener);

  /** what 0: build, 1: rebuild. Blocks while the tool runs. */
  long builderBuild(long builder, int what);

  void builderDelete(long builder);

  long envSystem();

  long envWrap(String dir);

  String envBase(long env);

  String envType(long env);

  long envBuilder(long env);

  long envPython(long env);

  /** kind 0: groovy(first=class path, second=JVM args), 1: java(mainClass, ...), 2: service(exes, args). */
  long envService(long env, int kind, String mainClass, String[] first, String[] second);

  void serviceInit(long service, String script);

  void serviceDebug(long service, LineListener listener);

  void serviceStart(long service);

  long serviceTask(long service, String script, String inputsJson, String queue);

  /** what 0: close, 1: wait for exit. Returns the exit code. */
  int serviceClose(long service, int what, long timeoutMs);

  void serviceKill(long service);

  long servicePid(long service);

  boolean serviceIsAlive(long service);

  /** what 0: get_var(name), 1: put_var(name, args[0]), 2: call(name, args); a task. */
  long serviceVarTask(long service, int what, String name, long[] args, String queue);

  long serviceProxy(long service, String var, String queue);

  void taskListen(long task, TaskListener listener);

  void taskStart(long task);

  /**
   * Blocks in native code until the task ends (starting it if needed), up
   * to {@code timeoutMs} (negative: no limit). Returns the C status: 0 for
   * COMPLETE, TASK_FAILED / _CANCELED / _CRASHED, or TIMEOUT (the task goes
   * on); throws for anything else. A task without listeners waited on this
   * way is woken straight from the worker's pipe.
   */
  int taskWait(long task, long timeoutMs);

  void taskCancel(long task);

  int taskStatus(long task);

  /** what 0: outputs as JSON, 1: the error text (null when none). */
  String taskText(long task, int what);

  long taskOutputs(long task);

  /** what 0: member of a map, 1: member of a value, 2: item of a value; a new value. */
  long valueChild(long handle, int what, String key, long index);

  long valueFromJson(String json);

  /** what 0: ndarray, 1: shm, 2: worker object; a new handle. */
  long valueTake(long value, int what);

  long valueFromWorkerObject(long object);

  long valueFromNdarray(long ndarray);

  String workerObjectName(long object);

  /** what 0: attr(name), 1: invoke(name, args), 2: call(args), 3: dir; a task. */
  long workerObjectTask(long object, int what, String name, long[] args);

  /** name null: a new block of size bytes; else attach (size > 0: at least that size). */
  long shmOpen(String name, long size);

  String shmName(long shm);

  /** what 0: size, 1: rsize. */
  long shmSize(long shm, int what);

  void shmUnlink(long shm);

  void shmSetUnlinkOnFree(long shm, boolean unlink);

  /** shm 0: a new array; else one over that block. C order. */
  long ndarrayNew(long shm, int dtype, long[] shape);

  /** [dtype, byte length, dims in C order...]. */
  long[] ndarrayInfo(long ndarray);

  long ndarrayShm(long ndarray);

  /**
   * A buffer over the memory of a block (what 0) or an array (what 1) of
   * {@code size} bytes that owns the handle: freed (with {@code freeKind})
   * when the buffer and every view of it are unreachable, or at {@link
   * Mapping#close} where the bridge can make later access fail safely.
   */
  Mapping map(long handle, int what, long size, int freeKind);

  void free(int kind, long handle);

  /** A buffer that owns a handle; see {@link #map}. */
  interface Mapping {
    ByteBuffer buffer();

    /**
     * Releases the memory now when later access then fails cleanly (FFM);
     * otherwise (JNI) it is released when the buffer is unreachable.
     */
    void close();
  }
}
