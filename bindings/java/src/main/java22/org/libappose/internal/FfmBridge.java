package org.libappose.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.libappose.ApposeException;

/**
 * The bridge over the Foreign Function and Memory API (Java 22+): the C ABI
 * called directly, no native glue. Listeners are upcalls, which the JVM
 * attaches to library threads by itself; each catches everything, since an
 * exception escaping an upcall ends the VM. Userdata is a number naming the
 * listener in a table, removed by the library's userdata_free.
 */
public final class FfmBridge implements Bridge {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final Map<Long, Object> LISTENERS = new ConcurrentHashMap<>();
  private static final AtomicLong NEXT_ID = new AtomicLong(1);

  private final SymbolLookup lib;
  private final Map<String, MethodHandle> handles = new ConcurrentHashMap<>();
  private final MemorySegment onEvent;
  private final MemorySegment onLine;
  private final MemorySegment onProgress;
  private final MemorySegment dropListener;

  // struct appose_event offsets (x86_64 and aarch64 LP64, as in appose.h).
  private static final long EV_RESPONSE_TYPE = 12;
  private static final long EV_TASK_STATUS = 16;
  private static final long EV_HAS_CURRENT = 24;
  private static final long EV_HAS_MAXIMUM = 28;
  private static final long EV_CURRENT = 48;
  private static final long EV_MAXIMUM = 56;
  private static final long EV_MESSAGE = 72;
  private static final long EV_INFO_JSON = 80;
  private static final long EV_ERROR = 96;
  private static final long EV_SIZE = 104;

  public FfmBridge() {
    lib = SymbolLookup.libraryLookup(NativeLibraries.library(), Arena.global());
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      onEvent =
          upcall(
              l.findStatic(
                  FfmBridge.class,
                  "onEvent",
                  MethodType.methodType(void.class, MemorySegment.class, MemorySegment.class)),
              FunctionDescriptor.ofVoid(ADDRESS, ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(EV_SIZE, java.lang.foreign.ValueLayout.JAVA_BYTE))));
      onLine =
          upcall(
              l.findStatic(
                  FfmBridge.class,
                  "onLine",
                  MethodType.methodType(void.class, MemorySegment.class, MemorySegment.class)),
              FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
      onProgress =
          upcall(
              l.findStatic(
                  FfmBridge.class,
                  "onProgress",
                  MethodType.methodType(
                      void.class, MemorySegment.class, MemorySegment.class, long.class, long.class)),
              FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
      dropListener =
          upcall(
              l.findStatic(
                  FfmBridge.class, "drop", MethodType.methodType(void.class, MemorySegment.class)),
              FunctionDescriptor.ofVoid(ADDRESS));
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static MemorySegment upcall(MethodHandle target, FunctionDescriptor fd) {
    return LINKER.upcallStub(target, fd, Arena.global());
  }

  // --- upcalls: never let anything escape ------------------------------------

  private static String str(MemorySegment p) {
    return p.equals(MemorySegment.NULL) ? null : p.reinterpret(Long.MAX_VALUE).getString(0);
  }

  private static void onEvent(MemorySegment ud, MemorySegment e) {
    try {
      TaskListener l = (TaskListener) LISTENERS.get(ud.address());
      if (l == null) return;
      l.onEvent(
          e.get(JAVA_INT, EV_RESPONSE_TYPE),
          e.get(JAVA_INT, EV_TASK_STATUS),
          str(e.get(ADDRESS, EV_MESSAGE)),
          e.get(JAVA_INT, EV_HAS_CURRENT) != 0,
          e.get(JAVA_LONG, EV_CURRENT),
          e.get(JAVA_INT, EV_HAS_MAXIMUM) != 0,
          e.get(JAVA_LONG, EV_MAXIMUM),
          str(e.get(ADDRESS, EV_INFO_JSON)),
          str(e.get(ADDRESS, EV_ERROR)));
    } catch (Throwable t) {
      System.err.println("libappose: a task listener threw: " + t);
    }
  }

  private static void onLine(MemorySegment ud, MemorySegment line) {
    try {
      LineListener l = (LineListener) LISTENERS.get(ud.address());
      if (l != null) l.onLine(str(line));
    } catch (Throwable t) {
      System.err.println("libappose: a listener threw: " + t);
    }
  }

  private static void onProgress(MemorySegment ud, MemorySegment title, long cur, long max) {
    try {
      ProgressListener l = (ProgressListener) LISTENERS.get(ud.address());
      if (l != null) l.onProgress(str(title), cur, max);
    } catch (Throwable t) {
      System.err.println("libappose: a progress listener threw: " + t);
    }
  }

  private static void drop(MemorySegment ud) {
    LISTENERS.remove(ud.address());
  }

  private static long register(Object listener) {
    long id = NEXT_ID.getAndIncrement();
    LISTENERS.put(id, listener);
    return id;
  }

  // --- downcalls ---------------------------------------------------------------

  /** The C function {@code name}: every argument and the status are as the descriptor says. */
  private MethodHandle fn(String name, FunctionDescriptor fd) {
    return handles.computeIfAbsent(
        name,
        n ->
            LINKER.downcallHandle(
                lib.find(n).orElseThrow(() -> new UnsatisfiedLinkError("no symbol " + n)), fd));
  }

  /** A status-returning C function whose arguments are all pointers (or handles). */
  private MethodHandle ptrs(String name, int nargs) {
    MemoryLayout[] args = new MemoryLayout[nargs];
    java.util.Arrays.fill(args, ADDRESS);
    return fn(name, FunctionDescriptor.of(JAVA_INT, args));
  }

  private static MemorySegment h(long handle) {
    return MemorySegment.ofAddress(handle);
  }

  private static MemorySegment s(Arena a, String v) {
    return v == null ? MemorySegment.NULL : a.allocateFrom(v);
  }

  private static MemorySegment strs(Arena a, String[] v) {
    if (v == null || v.length == 0) return a.allocate(ADDRESS);
    MemorySegment arr = a.allocate(ADDRESS, v.length);
    for (int i = 0; i < v.length; i++) {
      if (v[i] == null) throw new NullPointerException("element " + i + " is null");
      arr.setAtIndex(ADDRESS, i, a.allocateFrom(v[i]));
    }
    return arr;
  }

  private static MemorySegment longs(Arena a, long[] v) {
    if (v == null || v.length == 0) return a.allocate(ADDRESS);
    MemorySegment arr = a.allocate(ADDRESS, v.length);
    for (int i = 0; i < v.length; i++) arr.setAtIndex(ADDRESS, i, h(v[i]));
    return arr;
  }

  /** Each downcall handle as (Object[])Object, made once: cheaper than invokeWithArguments. */
  private final Map<MethodHandle, MethodHandle> spreaders = new ConcurrentHashMap<>();

  private int invoke(MethodHandle mh, Object[] all) {
    MethodHandle sp =
        spreaders.computeIfAbsent(
            mh,
            m ->
                m.asType(m.type().generic())
                    .asSpreader(Object[].class, m.type().parameterCount()));
    try {
      return (int) (Object) sp.invokeExact(all);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** Calls {@code mh} with {@code args} then the error out-pointer; throws on failure. */
  private void call(Arena a, MethodHandle mh, Object... args) {
    MemorySegment err = a.allocate(ADDRESS);
    Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
    all[args.length] = err;
    int st = invoke(mh, all);
    if (st != 0) throw failure(st, err.get(ADDRESS, 0));
  }

  private ApposeException failure(int status, MemorySegment error) {
    String msg = null;
    try {
      if (!error.equals(MemorySegment.NULL)) {
        MemorySegment m =
            (MemorySegment)
                fn("appose_error_message", FunctionDescriptor.of(ADDRESS, ADDRESS)).invokeExact(error);
        msg = str(m);
        int ignored = (int) fn("appose_error_free", FunctionDescriptor.of(JAVA_INT, ADDRESS)).invokeExact(error);
      }
      if (msg == null) {
        msg = str((MemorySegment) fn("appose_status_str", FunctionDescriptor.of(ADDRESS, JAVA_INT)).invokeExact(status));
      }
    } catch (Throwable t) {
      msg = "status " + status;
    }
    return new ApposeException(status, msg);
  }

  /** A call whose result is written to a pointer-sized out-parameter before the error one. */
  private long out(String name, Object... args) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment o = a.allocate(JAVA_LONG);
      Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
      all[args.length] = o;
      call(a, ptrs(name, all.length + 1), resolve(a, all));
      return o.get(JAVA_LONG, 0);
    }
  }

  /** Like {@link #out} for a string the library allocates (freed here). */
  private String outString(String name, Object... args) {
    long p = out(name, args);
    if (p == 0) return null;
    String v = str(h(p));
    try {
      fn("appose_string_free", FunctionDescriptor.ofVoid(ADDRESS)).invokeExact(h(p));
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
    return v;
  }

  /** Strings become C strings in the arena; Longs become handles. */
  private static Object[] resolve(Arena a, Object[] args) {
    Object[] r = new Object[args.length];
    for (int i = 0; i < args.length; i++) {
      Object v = args[i];
      if (v instanceof String) r[i] = a.allocateFrom((String) v);
      else if (v instanceof Long) r[i] = h((Long) v);
      else if (v == null) r[i] = MemorySegment.NULL;
      else r[i] = v;
    }
    return r;
  }

  private void plain(String name, Object... args) {
    try (Arena a = Arena.ofConfined()) {
      call(a, ptrs(name, args.length + 1), resolve(a, args));
    }
  }

  // --- the bridge ---------------------------------------------------------

  @Override
  public String name() {
    return "ffm";
  }

  @Override
  public String version() {
    try {
      return str((MemorySegment) fn("appose_version", FunctionDescriptor.of(ADDRESS)).invokeExact());
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  @Override
  public long builderNew(String kind) {
    return out("appose_builder_new", kind);
  }

  @Override
  public void builderSet(long b, int which, String value) {
    if (which < 0 || which >= BUILDER_SETTERS.length) {
      throw new ApposeException(ApposeException.INVALID_ARGUMENT, "no builder setting " + which);
    }
    plain("appose_builder_" + BUILDER_SETTERS[which], b, value);
  }

  @Override
  public void builderEnvVar(long b, String key, String value) {
    plain("appose_builder_env_var", b, key, value);
  }

  @Override
  public void builderAppendSystemPath(long b) {
    plain("appose_builder_append_system_path", b);
  }

  private void listen(String name, long handle, MemorySegment stub, Object listener) {
    long id = register(listener);
    try {
      plain(name, handle, stub, h(id), dropListener);
    } catch (RuntimeException e) {
      LISTENERS.remove(id);
      throw e;
    }
  }

  @Override
  public void builderOnProgress(long b, ProgressListener l) {
    listen("appose_builder_on_progress", b, onProgress, l);
  }

  @Override
  public void builderOnLine(long b, int kind, LineListener l) {
    listen(kind == 1 ? "appose_builder_on_output" : "appose_builder_on_error", b, onLine, l);
  }

  @Override
  public long builderBuild(long b, int what) {
    return out(what == 0 ? "appose_builder_build" : "appose_builder_rebuild", b);
  }

  @Override
  public void builderDelete(long b) {
    plain("appose_builder_delete", b);
  }

  @Override
  public long envSystem() {
    return out("appose_env_system");
  }

  @Override
  public long envWrap(String dir) {
    return out("appose_env_wrap", dir);
  }

  @Override
  public String envBase(long e) {
    return outString("appose_env_base", e);
  }

  @Override
  public String envType(long e) {
    return str(h(out("appose_env_type", e))); // static: never freed
  }

  @Override
  public long envBuilder(long e) {
    return out("appose_env_builder", e);
  }

  @Override
  public long envPython(long e) {
    return out("appose_env_python", e);
  }

  @Override
  public long envService(long e, int kind, String mainClass, String[] first, String[] second) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment o = a.allocate(JAVA_LONG);
      int n1 = first == null ? 0 : first.length;
      int n2 = second == null ? 0 : second.length;
      MemorySegment p1 = strs(a, first);
      MemorySegment p2 = strs(a, second);
      if (kind == 1) {
        MethodHandle mh =
            fn(
                "appose_env_java",
                FunctionDescriptor.of(
                    JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS,
                    ADDRESS));
        call(a, mh, h(e), s(a, mainClass), p1, (long) n1, p2, (long) n2, o);
      } else {
        MethodHandle mh =
            fn(
                kind == 0 ? "appose_env_groovy" : "appose_env_service",
                FunctionDescriptor.of(
                    JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        call(a, mh, h(e), p1, (long) n1, p2, (long) n2, o);
      }
      return o.get(JAVA_LONG, 0);
    }
  }

  @Override
  public void serviceInit(long s, String script) {
    plain("appose_service_init", s, script);
  }

  @Override
  public void serviceDebug(long s, LineListener l) {
    listen("appose_service_debug", s, onLine, l);
  }

  @Override
  public void serviceStart(long s) {
    plain("appose_service_start", s);
  }

  @Override
  public long serviceTask(long s, String script, String inputsJson, String queue) {
    return out("appose_service_task", s, script, inputsJson, queue);
  }

  @Override
  public int serviceClose(long s, int what, long timeoutMs) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment code = a.allocate(JAVA_INT);
      code.set(JAVA_INT, 0, -1);
      MethodHandle mh =
          fn(
              what == 0 ? "appose_service_close" : "appose_service_wait_exit",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
      call(a, mh, h(s), timeoutMs, code);
      return code.get(JAVA_INT, 0);
    }
  }

  @Override
  public void serviceKill(long s) {
    plain("appose_service_kill", s);
  }

  @Override
  public long servicePid(long s) {
    return out("appose_service_pid", s);
  }

  @Override
  public boolean serviceIsAlive(long s) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment o = a.allocate(JAVA_BOOLEAN);
      call(a, ptrs("appose_service_is_alive", 3), h(s), o);
      return o.get(JAVA_BOOLEAN, 0);
    }
  }

  @Override
  public long serviceVarTask(long s, int what, String name, long[] args, String queue) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment o = a.allocate(JAVA_LONG);
      if (what == 0) {
        call(a, ptrs("appose_service_get_var_task", 5), h(s), s(a, name), s(a, queue), o);
      } else if (what == 1) {
        call(
            a,
            ptrs("appose_service_put_var_task", 6),
            h(s),
            s(a, name),
            h(args[0]),
            s(a, queue),
            o);
      } else {
        MethodHandle mh =
            fn(
                "appose_service_call_task",
                FunctionDescriptor.of(
                    JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS));
        call(a, mh, h(s), s(a, name), longs(a, args), (long) args.length, s(a, queue), o);
      }
      return o.get(JAVA_LONG, 0);
    }
  }

  @Override
  public long serviceProxy(long s, String var, String queue) {
    return out("appose_service_proxy", s, var, queue);
  }

  @Override
  public void taskListen(long t, TaskListener l) {
    listen("appose_task_listen", t, onEvent, l);
  }

  @Override
  public void taskStart(long t) {
    plain("appose_task_start", t);
  }

  @Override
  public int taskWait(long t, long timeoutMs) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment err = a.allocate(ADDRESS);
      MethodHandle mh =
          fn("appose_task_wait", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS));
      int st = invoke(mh, new Object[] {h(t), timeoutMs, err});
      if (st == 0 || st == ApposeException.TIMEOUT || st == ApposeException.TASK_FAILED
          || st == ApposeException.TASK_CANCELED || st == ApposeException.TASK_CRASHED) {
        MemorySegment e = err.get(ADDRESS, 0);
        if (!e.equals(MemorySegment.NULL)) failure(st, e); // frees it
        return st;
      }
      throw failure(st, err.get(ADDRESS, 0));
    }
  }

  @Override
  public void taskCancel(long t) {
    plain("appose_task_cancel", t);
  }

  @Override
  public int taskStatus(long t) {
    return (int) out("appose_task_get_status", t);
  }

  @Override
  public String taskText(long t, int what) {
    return outString(what == 0 ? "appose_task_outputs_json" : "appose_task_error", t);
  }

  @Override
  public long taskOutputs(long t) {
    return out("appose_task_outputs", t);
  }

  @Override
  public long valueChild(long h, int what, String key, long index) {
    if (what == 2) {
      try (Arena a = Arena.ofConfined()) {
        MemorySegment o = a.allocate(JAVA_LONG);
        MethodHandle mh =
            fn(
                "appose_value_at",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS));
        call(a, mh, h(h), index, o);
        return o.get(JAVA_LONG, 0);
      }
    }
    return out(what == 0 ? "appose_map_get_value" : "appose_value_get", h, key);
  }

  @Override
  public long valueFromJson(String json) {
    return out("appose_value_from_json", json);
  }

  @Override
  public long valueTake(long v, int what) {
    String name =
        what == 0
            ? "appose_value_ndarray"
            : what == 1 ? "appose_value_shm" : "appose_value_worker_object";
    return out(name, v);
  }

  @Override
  public long valueFromWorkerObject(long w) {
    return out("appose_value_from_worker_object", w);
  }

  @Override
  public long valueFromNdarray(long a) {
    return out("appose_value_from_ndarray", a);
  }

  @Override
  public String workerObjectName(long w) {
    return outString("appose_worker_object_name", w);
  }

  @Override
  public long workerObjectTask(long w, int what, String name, long[] args) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment o = a.allocate(JAVA_LONG);
      long n = args == null ? 0 : args.length;
      switch (what) {
        case 0:
          call(a, ptrs("appose_worker_object_attr_task", 4), h(w), s(a, name), o);
          break;
        case 1:
          call(
              a,
              fn(
                  "appose_worker_object_invoke_task",
                  FunctionDescriptor.of(
                      JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS)),
              h(w),
              s(a, name),
              longs(a, args),
              n,
              o);
          break;
        case 2:
          call(
              a,
              fn(
                  "appose_worker_object_call_task",
                  FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS)),
              h(w),
              longs(a, args),
              n,
              o);
          break;
        default:
          call(a, ptrs("appose_worker_object_dir_task", 3), h(w), o);
      }
      return o.get(JAVA_LONG, 0);
    }
  }

  @Override
  public long shmOpen(String name, long size) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment o = a.allocate(JAVA_LONG);
      if (name == null) {
        call(
            a,
            fn("appose_shm_create", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS)),
            size,
            o);
      } else if (size > 0) {
        call(
            a,
            fn(
                "appose_shm_attach_sized",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS)),
            s(a, name),
            size,
            o);
      } else {
        call(a, ptrs("appose_shm_attach", 3), s(a, name), o);
      }
      return o.get(JAVA_LONG, 0);
    }
  }

  @Override
  public String shmName(long s) {
    return outString("appose_shm_name", s);
  }

  @Override
  public long shmSize(long s, int what) {
    return out(what == 0 ? "appose_shm_size" : "appose_shm_rsize", s);
  }

  @Override
  public void shmUnlink(long s) {
    plain("appose_shm_unlink", s);
  }

  @Override
  public void shmSetUnlinkOnFree(long s, boolean unlink) {
    try (Arena a = Arena.ofConfined()) {
      call(
          a,
          fn(
              "appose_shm_set_unlink_on_free",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_BOOLEAN, ADDRESS)),
          h(s),
          unlink);
    }
  }

  @Override
  public long ndarrayNew(long shm, int dtype, long[] shape) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment o = a.allocate(JAVA_LONG);
      MemorySegment dims = a.allocate(JAVA_LONG, Math.max(1, shape.length));
      for (int i = 0; i < shape.length; i++) dims.setAtIndex(JAVA_LONG, i, shape[i]);
      if (shm == 0) {
        call(
            a,
            fn(
                "appose_ndarray_new",
                FunctionDescriptor.of(
                    JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS)),
            dtype,
            dims,
            (long) shape.length,
            0,
            o);
      } else {
        call(
            a,
            fn(
                "appose_ndarray_wrap",
                FunctionDescriptor.of(
                    JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS)),
            h(shm),
            dtype,
            dims,
            (long) shape.length,
            0,
            o);
      }
      return o.get(JAVA_LONG, 0);
    }
  }

  @Override
  public long[] ndarrayInfo(long arr) {
    try (Arena a = Arena.ofConfined()) {
      MemorySegment i = a.allocate(JAVA_LONG);
      call(a, ptrs("appose_ndarray_dtype", 3), h(arr), i);
      int dtype = i.get(JAVA_INT, 0);
      call(a, ptrs("appose_ndarray_ndim", 3), h(arr), i);
      int ndim = (int) i.get(JAVA_LONG, 0);
      call(a, ptrs("appose_ndarray_byte_length", 3), h(arr), i);
      long len = i.get(JAVA_LONG, 0);
      MemorySegment dims = a.allocate(JAVA_LONG, Math.max(1, ndim));
      call(
          a,
          fn(
              "appose_ndarray_shape",
              FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS)),
          h(arr),
          0,
          dims,
          (long) ndim);
      long[] info = new long[ndim + 2];
      info[0] = dtype;
      info[1] = len;
      for (int k = 0; k < ndim; k++) info[2 + k] = dims.getAtIndex(JAVA_LONG, k);
      return info;
    }
  }

  @Override
  public long ndarrayShm(long a) {
    return out("appose_ndarray_shm", a);
  }

  @Override
  public Mapping map(long handle, int what, long size, int freeKind) {
    long data = out(what == 0 ? "appose_shm_data" : "appose_ndarray_data", handle);
    // A shared arena: close() invalidates every buffer over the memory (a
    // later access throws instead of touching unmapped memory), then frees.
    Arena arena = Arena.ofShared();
    MemorySegment seg = h(data).reinterpret(size, arena, ignored -> free(freeKind, handle));
    ByteBuffer buffer = seg.asByteBuffer();
    AtomicBoolean closed = new AtomicBoolean();
    Runnable release =
        () -> {
          if (closed.compareAndSet(false, true)) arena.close();
        };
    Cleaners.CLEANER.register(buffer, release);
    return new Mapping() {
      @Override
      public ByteBuffer buffer() {
        return buffer;
      }

      @Override
      public void close() {
        release.run();
      }
    };
  }

  @Override
  public void free(int kind, long handle) {
    if (handle == 0) return;
    String[] names = {
      "appose_builder_free", "appose_env_free", "appose_service_free", "appose_task_free",
      "appose_map_free", "appose_value_free", "appose_worker_object_free", "appose_shm_free",
      "appose_ndarray_free",
    };
    try {
      int ignored =
          (int) fn(names[kind], FunctionDescriptor.of(JAVA_INT, ADDRESS)).invokeExact(h(handle));
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
}
