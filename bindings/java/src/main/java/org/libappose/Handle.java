package org.libappose;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;
import org.libappose.internal.Cleaners;

/**
 * A native handle owned by a Java object: freed once, by {@link #close()} or
 * when the owner becomes unreachable. A freed handle reads as 0, which the
 * library answers with INVALID_HANDLE (never a crash).
 */
final class Handle implements AutoCloseable {

  private final State state;
  private final Cleaner.Cleanable cleanable;

  private static final class State implements Runnable {
    final int kind;
    final AtomicLong handle;

    State(int kind, long handle) {
      this.kind = kind;
      this.handle = new AtomicLong(handle);
    }

    @Override
    public void run() {
      long h = handle.getAndSet(0);
      if (h != 0) Native.bridge().free(kind, h);
    }
  }

  Handle(Object owner, int kind, long handle) {
    this.state = new State(kind, handle);
    this.cleanable = Cleaners.CLEANER.register(owner, state);
  }

  long get() {
    return state.handle.get();
  }

  boolean isOpen() {
    return get() != 0;
  }

  @Override
  public void close() {
    cleanable.clean();
  }
}
