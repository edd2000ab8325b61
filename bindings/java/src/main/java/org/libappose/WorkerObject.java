package org.libappose;

import java.util.ArrayList;
import java.util.List;
import org.libappose.internal.Bridge;
import org.libappose.internal.Json;

/**
 * An object that stays in the worker (a model, a datetime, an open file),
 * reached through its variable there. An object the worker sent is deleted
 * there when this is {@link #close() closed} or unreachable (neither peer
 * ever deletes them); a {@link Service#proxy(String) proxy} of a variable
 * your script exported never is. Release is batched: no task per object.
 */
public final class WorkerObject implements AutoCloseable, Json.Encodable {
  private final Service service;
  private final Handle handle;

  WorkerObject(Service service, long h) {
    this.service = service;
    this.handle = new Handle(this, Bridge.FREE_WORKER_OBJECT, h);
  }

  long handle() {
    return handle.get();
  }

  /** Its variable's name in the worker. */
  public String name() {
    return Native.bridge().workerObjectName(handle());
  }

  /** The attribute {@code name}'s value. */
  public Object attr(String name) {
    return service.run(Native.bridge().workerObjectTask(handle(), 0, name, new long[0]));
  }

  /** Calls its method {@code method} with {@code args}; the result. */
  public Object invoke(String method, Object... args) {
    return withValues(args, v -> Native.bridge().workerObjectTask(handle(), 1, method, v));
  }

  /** Calls the object itself (a function) with {@code args}. */
  public Object call(Object... args) {
    return withValues(args, v -> Native.bridge().workerObjectTask(handle(), 2, null, v));
  }

  /** Its attribute names ({@code dir()} in Python). */
  public List<String> dir() {
    Object r = service.run(Native.bridge().workerObjectTask(handle(), 3, null, new long[0]));
    List<String> out = new ArrayList<>();
    if (r instanceof List) for (Object o : (List<?>) r) out.add(String.valueOf(o));
    return out;
  }

  private interface TaskMaker {
    long make(long[] values);
  }

  private Object withValues(Object[] args, TaskMaker maker) {
    long[] values = new long[args.length];
    try {
      for (int i = 0; i < args.length; i++) values[i] = Values.toValue(args[i]);
      return service.run(maker.make(values));
    } finally {
      for (long v : values) Native.bridge().free(Bridge.FREE_VALUE, v);
    }
  }

  /** Releases this handle (the worker's variable goes with its last one). */
  @Override
  public void close() {
    handle.close();
  }

  @Override
  public String toJson() {
    return "{\"appose_type\":\"worker_object\",\"var_name\":" + Json.write(name()) + "}";
  }

  @Override
  public String toString() {
    return "WorkerObject[" + (handle.isOpen() ? name() : "released") + "]";
  }
}
