package org.libappose.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The bridge over the JNI glue (libappose_jni.so, built by the project's
 * CMake). Works on Java 11 and later. Strings cross as NUL-terminated UTF-8
 * byte arrays, so every code point arrives exactly.
 */
public final class JniBridge implements Bridge {
  public JniBridge() {
    // libappose first: the glue then finds it loaded under its SONAME.
    System.load(NativeLibraries.library().toString());
    System.load(NativeLibraries.jniGlue().toString());
  }

  /** NUL-terminated UTF-8, or null. */
  static byte[] c(String s) {
    if (s == null) return null;
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[utf8.length + 1];
    System.arraycopy(utf8, 0, out, 0, utf8.length);
    return out;
  }

  static byte[][] c(String[] a) {
    if (a == null) return new byte[0][];
    byte[][] out = new byte[a.length][];
    for (int i = 0; i < a.length; i++) {
      if (a[i] == null) throw new NullPointerException("element " + i + " is null");
      out[i] = c(a[i]);
    }
    return out;
  }

  @Override
  public String name() {
    return "jni";
  }

  @Override
  public String version() {
    return nVersion();
  }

  @Override
  public long builderNew(String kind) {
    return nBuilderNew(c(kind));
  }

  @Override
  public void builderSet(long b, int which, String value) {
    nBuilderSet(b, which, c(value));
  }

  @Override
  public void builderEnvVar(long b, String key, String value) {
    nBuilderEnvVar(b, c(key), c(value));
  }

  @Override
  public void builderAppendSystemPath(long b) {
    nBuilderAppendSystemPath(b);
  }

  @Override
  public void builderOnProgress(long b, ProgressListener l) {
    nBuilderListen(b, 0, l);
  }

  @Override
  public void builderOnLine(long b, int kind, LineListener l) {
    nBuilderListen(b, kind, l);
  }

  @Override
  public long builderBuild(long b, int what) {
    return nBuilderBuild(b, what);
  }

  @Override
  public void builderDelete(long b) {
    nBuilderDelete(b);
  }

  @Override
  public long envSystem() {
    return nEnvSystem();
  }

  @Override
  public long envWrap(String dir) {
    return nEnvWrap(c(dir));
  }

  @Override
  public String envBase(long e) {
    return nEnvBase(e);
  }

  @Override
  public String envType(long e) {
    return nEnvType(e);
  }

  @Override
  public long envBuilder(long e) {
    return nEnvBuilder(e);
  }

  @Override
  public long envPython(long e) {
    return nEnvPython(e);
  }

  @Override
  public long envService(long e, int kind, String mainClass, String[] first, String[] second) {
    return nEnvService(e, kind, c(mainClass), c(first), c(second));
  }

  @Override
  public void serviceInit(long s, String script) {
    nServiceInit(s, c(script));
  }

  @Override
  public void serviceDebug(long s, LineListener l) {
    nServiceDebug(s, l);
  }

  @Override
  public void serviceStart(long s) {
    nServiceStart(s);
  }

  @Override
  public long serviceTask(long s, String script, String inputsJson, String queue) {
    return nServiceTask(s, c(script), c(inputsJson), c(queue));
  }

  @Override
  public int serviceClose(long s, int what, long timeoutMs) {
    return nServiceClose(s, what, timeoutMs);
  }

  @Override
  public void serviceKill(long s) {
    nServiceKill(s);
  }

  @Override
  public long servicePid(long s) {
    return nServicePid(s);
  }

  @Override
  public boolean serviceIsAlive(long s) {
    return nServiceIsAlive(s);
  }

  @Override
  public long serviceVarTask(long s, int what, String name, long[] args, String queue) {
    return nServiceVarTask(s, what, c(name), args, c(queue));
  }

  @Override
  public long serviceProxy(long s, String var, String queue) {
    return nServiceProxy(s, c(var), c(queue));
  }

  @Override
  public void taskListen(long t, TaskListener l) {
    nTaskListen(t, l);
  }

  @Override
  public void taskStart(long t) {
    nTaskStart(t);
  }

  @Override
  public int taskWait(long t, long timeoutMs) {
    return nTaskWait(t, timeoutMs);
  }

  @Override
  public void taskCancel(long t) {
    nTaskCancel(t);
  }

  @Override
  public int taskStatus(long t) {
    return nTaskStatus(t);
  }

  @Override
  public String taskText(long t, int what) {
    return nTaskText(t, what);
  }

  @Override
  public long taskOutputs(long t) {
    return nTaskOutputs(t);
  }

  @Override
  public long valueChild(long h, int what, String key, long index) {
    return nValueChild(h, what, c(key), index);
  }

  @Override
  public long valueFromJson(String json) {
    return nValueFromJson(c(json));
  }

  @Override
  public long valueTake(long v, int what) {
    return nValueTake(v, what);
  }

  @Override
  public long valueFromWorkerObject(long w) {
    return nValueFromWorkerObject(w);
  }

  @Override
  public long valueFromNdarray(long a) {
    return nValueFromNdarray(a);
  }

  @Override
  public String workerObjectName(long w) {
    return nWorkerObjectName(w);
  }

  @Override
  public long workerObjectTask(long w, int what, String name, long[] args) {
    return nWorkerObjectTask(w, what, c(name), args);
  }

  @Override
  public long shmOpen(String name, long size) {
    return nShmOpen(c(name), size);
  }

  @Override
  public String shmName(long s) {
    return nShmName(s);
  }

  @Override
  public long shmSize(long s, int what) {
    return nShmSize(s, what);
  }

  @Override
  public void shmUnlink(long s) {
    nShmUnlink(s);
  }

  @Override
  public void shmSetUnlinkOnFree(long s, boolean unlink) {
    nShmSetUnlinkOnFree(s, unlink);
  }

  @Override
  public long ndarrayNew(long shm, int dtype, long[] shape) {
    return nNdarrayNew(shm, dtype, shape);
  }

  @Override
  public long[] ndarrayInfo(long a) {
    return nNdarrayInfo(a);
  }

  @Override
  public long ndarrayShm(long a) {
    return nNdarrayShm(a);
  }

  @Override
  public Mapping map(long handle, int what, long size, int freeKind) {
    ByteBuffer buffer = size == 0 ? ByteBuffer.allocateDirect(0) : nBuffer(handle, what, size);
    // Views of a direct buffer keep it reachable, so the memory stays
    // mapped while any of them is in use; a JNI buffer cannot be made to
    // fail safely, so close() leaves the freeing to the cleaner.
    Cleaners.CLEANER.register(buffer, () -> nFree(freeKind, handle));
    return new Mapping() {
      @Override
      public ByteBuffer buffer() {
        return buffer;
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public void free(int kind, long handle) {
    if (handle != 0) nFree(kind, handle);
  }

  private static native String nVersion();

  private static native long nBuilderNew(byte[] kind);

  private static native void nBuilderSet(long b, int which, byte[] value);

  private static native void nBuilderEnvVar(long b, byte[] key, byte[] value);

  private static native void nBuilderAppendSystemPath(long b);

  private static native void nBuilderListen(long b, int kind, Object listener);

  private static native long nBuilderBuild(long b, int what);

  private static native void nBuilderDelete(long b);

  private static native long nEnvSystem();

  private static native long nEnvWrap(byte[] dir);

  private static native String nEnvBase(long e);

  private static native String nEnvType(long e);

  private static native long nEnvBuilder(long e);

  private static native long nEnvPython(long e);

  private static native long nEnvService(
      long e, int kind, byte[] mainClass, byte[][] first, byte[][] second);

  private static native void nServiceInit(long s, byte[] script);

  private static native void nServiceDebug(long s, LineListener l);

  private static native void nServiceStart(long s);

  private static native long nServiceTask(long s, byte[] script, byte[] inputs, byte[] queue);

  private static native int nServiceClose(long s, int what, long timeoutMs);

  private static native void nServiceKill(long s);

  private static native long nServicePid(long s);

  private static native boolean nServiceIsAlive(long s);

  private static native long nServiceVarTask(
      long s, int what, byte[] name, long[] args, byte[] queue);

  private static native long nServiceProxy(long s, byte[] var, byte[] queue);

  private static native void nTaskListen(long t, TaskListener l);

  private static native void nTaskStart(long t);

  private static native void nTaskCancel(long t);

  private static native int nTaskWait(long t, long timeoutMs);

  private static native int nTaskStatus(long t);

  private static native String nTaskText(long t, int what);

  private static native long nTaskOutputs(long t);

  private static native long nValueChild(long h, int what, byte[] key, long index);

  private static native long nValueFromJson(byte[] json);

  private static native long nValueTake(long v, int what);

  private static native long nValueFromWorkerObject(long w);

  private static native long nValueFromNdarray(long a);

  private static native String nWorkerObjectName(long w);

  private static native long nWorkerObjectTask(long w, int what, byte[] name, long[] args);

  private static native long nShmOpen(byte[] name, long size);

  private static native String nShmName(long s);

  private static native long nShmSize(long s, int what);

  private static native ByteBuffer nBuffer(long h, int what, long size);

  private static native void nShmUnlink(long s);

  private static native void nShmSetUnlinkOnFree(long s, boolean unlink);

  private static native long nNdarrayNew(long shm, int dtype, long[] shape);

  private static native long[] nNdarrayInfo(long a);

  private static native long nNdarrayShm(long a);

  private static native void nFree(int kind, long h);
}
