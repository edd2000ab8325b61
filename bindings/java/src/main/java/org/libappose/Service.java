package org.libappose;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.libappose.internal.Bridge;
import org.libappose.internal.Json;

/**
 * A worker process and the tasks it runs, as appose-java's {@code Service}.
 * Close it (try-with-resources) to end the worker; a service never closed
 * is killed with its process tree when it becomes unreachable or the JVM
 * exits.
 */
public final class Service implements AutoCloseable {
  private final Handle handle;

  Service(long h) {
    this.handle = new Handle(this, Bridge.FREE_SERVICE, h);
  }

  long handle() {
    return handle.get();
  }

  /** A script run before the worker's first task (e.g. imports on the main thread). */
  public Service init(String script) {
    Native.bridge().serviceInit(handle(), script);
    return this;
  }

  /**
   * Receives the service's messages and the worker's stderr lines on the
   * dispatcher thread; an exception it throws is written to stderr.
   */
  public Service debug(Consumer<String> listener) {
    Native.bridge()
        .serviceDebug(
            handle(),
            line -> {
              Task.IN_LISTENER.set(Boolean.TRUE);
              try {
                listener.accept(line);
              } catch (Throwable t) {
                System.err.println("libappose: a debug listener threw: " + t);
              } finally {
                Task.IN_LISTENER.remove();
              }
            });
    return this;
  }

  /** Starts the worker (optional: the first task does). */
  public Service start() {
    Native.bridge().serviceStart(handle());
    return this;
  }

  public Task task(String script) {
    return task(script, null, null);
  }

  public Task task(String script, Map<String, ?> inputs) {
    return task(script, inputs, null);
  }

  /**
   * A task (not started) running {@code script} with {@code inputs} on
   * {@code queue} (null, or {@code "main"} for the worker's main thread).
   */
  public Task task(String script, Map<String, ?> inputs, String queue) {
    String json = inputs == null || inputs.isEmpty() ? null : Json.write(inputs);
    long t = Native.bridge().serviceTask(handle(), script, json, queue);
    return new Task(this, t, script, inputs == null ? null : new java.util.LinkedHashMap<>(inputs), queue);
  }

  /** How long {@link #close()} lets the worker finish before killing it. */
  public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /**
   * Closes the worker's input and waits up to {@link
   * #DEFAULT_CLOSE_TIMEOUT} for it to exit, then kills its process tree;
   * frees the service. (appose-java's close only closes the input and
   * returns; waiting, bounded, means nothing outlives the close.) Use {@code
   * close(null)} to wait without a limit.
   */
  @Override
  public void close() {
    close(DEFAULT_CLOSE_TIMEOUT);
  }

  /**
   * Closes the worker's input and waits up to {@code timeout} (null: no
   * limit) for it to exit, then kills its process tree; frees the service.
   * Returns the exit code (-1 when unknown).
   */
  public int close(Duration timeout) {
    if (!handle.isOpen()) return -1;
    try {
      return Native.bridge().serviceClose(handle(), 0, timeout == null ? -1 : timeout.toMillis());
    } finally {
      handle.close();
    }
  }

  /** Kills the worker's process tree; pending tasks end CRASHED. */
  public void kill() {
    Native.bridge().serviceKill(handle());
  }

  /** Waits up to {@code timeout} for the worker to exit on its own; its exit code. */
  public int waitFor(Duration timeout) {
    return Native.bridge().serviceClose(handle(), 1, timeout == null ? -1 : timeout.toMillis());
  }

  /** The worker's process id (-1 before it starts). */
  public long pid() {
    return Native.bridge().servicePid(handle());
  }

  public boolean isAlive() {
    return Native.bridge().serviceIsAlive(handle());
  }

  /** The value of the worker's variable {@code name}. */
  public Object getVar(String name) {
    return run(Native.bridge().serviceVarTask(handle(), 0, name, new long[0], null));
  }

  /** Sets the worker's variable {@code name} (kept for later tasks). */
  public void putVar(String name, Object value) {
    long v = Values.toValue(value);
    try {
      run(Native.bridge().serviceVarTask(handle(), 1, name, new long[] {v}, null));
    } finally {
      Native.bridge().free(Bridge.FREE_VALUE, v);
    }
  }

  /** Calls the worker's function {@code function} with {@code args}; its result. */
  public Object call(String function, Object... args) {
    long[] values = new long[args.length];
    try {
      for (int i = 0; i < args.length; i++) values[i] = Values.toValue(args[i]);
      return run(Native.bridge().serviceVarTask(handle(), 2, function, values, null));
    } finally {
      for (long v : values) Native.bridge().free(Bridge.FREE_VALUE, v);
    }
  }

  /** A worker object over a variable your scripts exported (never deleted by it). */
  public WorkerObject proxy(String var) {
    return new WorkerObject(this, Native.bridge().serviceProxy(handle(), var, null));
  }

  /**
   * An implementation of {@code api} whose methods call the same-named
   * methods of the worker's variable {@code var}, as appose-java's proxies
   * do; results are converted to the method's return type.
   */
  public <T> T proxy(String var, Class<T> api) {
    WorkerObject target = proxy(var);
    InvocationHandler h =
        (Object p, Method m, Object[] a) -> {
          if (m.getDeclaringClass() == Object.class) {
            switch (m.getName()) {
              case "toString":
                return "proxy of " + var;
              case "hashCode":
                return System.identityHashCode(p);
              default:
                return p == a[0];
            }
          }
          Object r = target.invoke(m.getName(), a == null ? new Object[0] : a);
          return Convert.to(m.getReturnType(), r);
        };
    return api.cast(Proxy.newProxyInstance(api.getClassLoader(), new Class<?>[] {api}, h));
  }

  /** Runs a helper task to its end; its result, or a TaskException. */
  Object run(long t) {
    Task task = new Task(this, t, null, null, null);
    try {
      task.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      task.cancel();
      throw new ApposeException(ApposeException.TIMEOUT, "interrupted while waiting for the worker");
    }
    if (task.status() != TaskStatus.COMPLETE) throw new TaskException(task);
    return task.result();
  }
}
