package org.libappose;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.libappose.internal.Bridge;
import org.libappose.internal.TaskListener;

/**
 * A script run by a worker, with its events, as appose-java's {@code Task}.
 * Add listeners, then {@link #start()} it, or {@link #waitFor()} it (which
 * starts it). Listeners run on the service's dispatcher thread, one at a
 * time, in order; an exception one throws is caught there, written to
 * stderr and kept ({@link #listenerError()}), and never reaches native
 * code. Waiting never blocks in native code, so virtual threads wait
 * without pinning their carrier.
 */
public final class Task {
  private final Service service;
  private final Handle handle;
  private final String script;
  private final Map<String, Object> inputs;
  private final String queue;
  private final List<Consumer<TaskEvent>> listeners = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Task> done = new CompletableFuture<>();
  private volatile TaskStatus status = TaskStatus.INITIAL;
  private volatile boolean started;
  private volatile boolean direct;
  private volatile Throwable listenerError;
  private volatile Map<String, Object> outputs;
  private volatile boolean released;
  private volatile String errorText;

  Task(Service service, long h, String script, Map<String, Object> inputs, String queue) {
    this.service = service;
    this.handle = new Handle(this, Bridge.FREE_TASK, h);
    this.script = script;
    this.inputs = inputs == null ? Collections.emptyMap() : Collections.unmodifiableMap(inputs);
    this.queue = queue;
  }

  /**
   * One native listener per task, fanning out here: the waiters are woken
   * after every listener has seen the last event. Registered when the task
   * starts, unless a platform thread starts it by waiting with no
   * listeners: that thread then waits in native code, where the worker's
   * answer wakes it straight from the pipe (one thread wake-up fewer).
   */
  private void listenNatively() {
    Native.bridge().taskListen(handle.get(), new Dispatch());
  }

  private static final java.lang.reflect.Method IS_VIRTUAL = isVirtualMethod();

  private static java.lang.reflect.Method isVirtualMethod() {
    try {
      return Thread.class.getMethod("isVirtual");
    } catch (NoSuchMethodException e) {
      return null; // before Java 21: no virtual threads
    }
  }

  private static boolean onVirtualThread() {
    try {
      return IS_VIRTUAL != null && (Boolean) IS_VIRTUAL.invoke(Thread.currentThread());
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  /** Set while this thread runs task listeners (a service's dispatcher). */
  static final ThreadLocal<Boolean> IN_LISTENER = new ThreadLocal<>();

  /**
   * Refuses to wait inside a listener, as the C ABI refuses blocking calls
   * in callbacks: the task waited for may need the very dispatcher thread
   * the listener holds, which would then never come back.
   */
  private static void refuseInListener(String what) {
    if (IN_LISTENER.get() != null) {
      throw new ApposeException(
          ApposeException.REENTRANT,
          what + " inside a task listener could wait forever for the thread the listener runs"
              + " on: start the task there and wait for it elsewhere, or use future() with a"
              + " callback (thenAccept)");
    }
  }

  /** How long one native wait lasts at most, so that an interrupt is seen. */
  private static final long WAIT_SLICE_MS = 100;

  /**
   * Waits in native code when the task was (or is now) started that way;
   * null when it was started with its listener. Otherwise whether it ended
   * within {@code timeoutMs} (negative: no limit).
   */
  private Boolean waitNatively(long timeoutMs) throws InterruptedException {
    synchronized (this) {
      if (!started) {
        if (!listeners.isEmpty() || onVirtualThread()) return null;
        started = true;
        direct = true;
      } else if (!direct) {
        return null;
      }
    }
    long deadline = timeoutMs < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMs * 1_000_000;
    while (true) {
      long left = timeoutMs < 0 ? WAIT_SLICE_MS : (deadline - System.nanoTime()) / 1_000_000;
      int st = Native.bridge().taskWait(handle.get(), Math.max(0, Math.min(left, WAIT_SLICE_MS)));
      if (st != ApposeException.TIMEOUT) break;
      if (Thread.interrupted()) throw new InterruptedException();
      if (timeoutMs >= 0 && System.nanoTime() >= deadline) return false;
    }
    status = TaskStatus.of(Native.bridge().taskStatus(handle.get()));
    done.complete(this);
    return true;
  }

  private final class Dispatch implements TaskListener {
    @Override
    public void onEvent(
        int responseType,
        int taskStatus,
        String message,
        boolean hasCurrent,
        long current,
        boolean hasMaximum,
        long maximum,
        String infoJson,
        String error) {
      ResponseType type = ResponseType.of(responseType);
      status = TaskStatus.of(taskStatus);
      TaskEvent event =
          new TaskEvent(
              Task.this,
              type,
              status,
              message,
              hasCurrent ? current : null,
              hasMaximum ? maximum : null,
              infoJson,
              error);
      IN_LISTENER.set(Boolean.TRUE);
      try {
        for (Consumer<TaskEvent> l : listeners) {
          try {
            l.accept(event);
          } catch (Throwable t) {
            if (listenerError == null) listenerError = t;
            System.err.println("libappose: a task listener threw: " + t);
          }
        }
      } finally {
        IN_LISTENER.remove();
      }
      if (type.isTerminal()) done.complete(Task.this);
    }
  }

  /** The service this task runs on. */
  public Service service() {
    return service;
  }

  public String script() {
    return script;
  }

  /** The inputs as given (unmodifiable). */
  public Map<String, Object> inputs() {
    return inputs;
  }

  /** The worker queue it runs on ({@code "main"}), or null. */
  public String queue() {
    return queue;
  }

  /** Adds a listener; only before the task starts. */
  public synchronized Task listen(Consumer<TaskEvent> listener) {
    if (started) throw new IllegalStateException("listeners are added before the task starts");
    listeners.add(listener);
    return this;
  }

  /** Sends the task to the worker (once). */
  public synchronized Task start() {
    if (!started) {
      listenNatively();
      started = true;
      Native.bridge().taskStart(handle.get());
    }
    return this;
  }

  /** Starts the task if needed and waits until it has finished. */
  public Task waitFor() throws InterruptedException {
    refuseInListener("waitFor");
    if (waitNatively(-1) != null) return this;
    start();
    try {
      done.get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
    return this;
  }

  /**
   * Starts the task if needed and waits up to {@code timeout}; false when
   * time ran out (the task goes on).
   */
  public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
    refuseInListener("waitFor");
    Boolean ended = waitNatively(unit.toMillis(timeout));
    if (ended != null) return ended;
    start();
    try {
      done.get(timeout, unit);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Completes with the task's {@link #result()} once it is COMPLETE, or
   * exceptionally with a {@link TaskException} when it fails, is canceled
   * or crashes. Starts the task.
   */
  public CompletableFuture<Object> future() {
    start();
    if (direct && !done.isDone()) {
      // Started by a native wait: nothing will complete the future but one.
      Thread waiter =
          new Thread(
              () -> {
                try {
                  waitNatively(-1);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "libappose-task-wait");
      waiter.setDaemon(true);
      waiter.start();
    }
    return done.thenApply(
        t -> {
          if (t.status() != TaskStatus.COMPLETE) throw new TaskException(t);
          return t.result();
        });
  }

  /** Asks the worker to cancel the task (cooperative: the script checks for it). */
  public void cancel() {
    if (!status.isFinished()) Native.bridge().taskCancel(handle.get());
  }

  public TaskStatus status() {
    if (!status.isFinished()) status = TaskStatus.of(Native.bridge().taskStatus(handle.get()));
    return status;
  }

  /** The error text of a FAILED or CRASHED task (the worker's traceback), else null. */
  public String error() {
    if (released) return errorText;
    return Native.bridge().taskText(handle.get(), 1);
  }

  /**
   * The outputs once the task is COMPLETE (empty before): values exact
   * (Long, or BigInteger beyond 64 bits; Double with NaN and infinities),
   * arrays as {@link NDArray} over the worker's memory, blocks as {@link
   * SharedMemory}, objects the worker kept as {@link WorkerObject}.
   */
  public Map<String, Object> outputs() {
    Map<String, Object> out = outputs;
    if (out == null) {
      if (!status().isFinished()) return Collections.emptyMap();
      synchronized (this) {
        if (outputs == null) {
          outputs = Values.outputs(service, handle.get(), Native.bridge().taskText(handle.get(), 0));
          // Everything is here now: the native task goes, and with it its
          // hold on the worker's objects (the Java ones have their own).
          errorText = Native.bridge().taskText(handle.get(), 1);
          released = true;
          handle.close();
        }
        out = outputs;
      }
    }
    return out;
  }

  /** {@code outputs().get("result")}. */
  public Object result() {
    return outputs().get("result");
  }

  /** The first exception a listener threw, or null. */
  public Throwable listenerError() {
    return listenerError;
  }

  @Override
  public String toString() {
    return "Task[" + status + "]";
  }
}
