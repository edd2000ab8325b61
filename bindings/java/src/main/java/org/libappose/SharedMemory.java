package org.libappose;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.libappose.internal.Bridge;
import org.libappose.internal.Json;

/**
 * A named block of shared memory, as appose-java's {@code SharedMemory}. Its
 * {@link #buffer()} is a direct buffer over the block itself (no copy); the
 * block stays mapped while the buffer or any view of it is in use. A block
 * you create is unlinked when closed (or when unreachable, or at exit).
 */
public final class SharedMemory implements AutoCloseable, Json.Encodable {
  private final long shm; // owned by the mapping
  private final Bridge.Mapping mapping;
  private final String name;
  private final long rsize;
  private final boolean created;

  private SharedMemory(long shm, boolean created) {
    this.created = created;
    Bridge b = Native.bridge();
    try {
      this.name = b.shmName(shm);
      this.rsize = b.shmSize(shm, 1);
      this.mapping = b.map(shm, 0, b.shmSize(shm, 0), Bridge.FREE_SHM);
    } catch (RuntimeException e) {
      b.free(Bridge.FREE_SHM, shm);
      throw e;
    }
    this.shm = shm;
  }

  static SharedMemory own(long shm) {
    return new SharedMemory(shm, false);
  }

  /** A new block of at least {@code size} bytes. */
  public static SharedMemory create(long size) {
    return new SharedMemory(Native.bridge().shmOpen(null, size), true);
  }

  /**
   * Attaches to the block {@code name} made by another process, refusing it
   * when smaller than {@code size} bytes (0: any size).
   */
  public static SharedMemory attach(String name, long size) {
    return own(Native.bridge().shmOpen(name, size));
  }

  public String name() {
    return name;
  }

  /** The size asked for. */
  public long rsize() {
    return rsize;
  }

  /** The block's memory, native byte order, position 0. */
  public ByteBuffer buffer() {
    return mapping.buffer().duplicate().order(ByteOrder.nativeOrder());
  }

  /** Removes the block's name now; mappings stay usable. */
  public void unlink() {
    Native.bridge().shmUnlink(shm);
  }

  /** Whether the block is unlinked with its last handle (false: keep it for another process). */
  public void unlinkOnClose(boolean unlink) {
    Native.bridge().shmSetUnlinkOnFree(shm, unlink);
    unlinkAtClose = unlink;
  }

  private volatile boolean unlinkAtClose = true;

  /**
   * Done with the block: a block you created is unlinked now (when set to
   * be); its memory is released when no buffer over it is in use (at once
   * on the FFM bridge, where later access then fails cleanly).
   */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    if (created && unlinkAtClose) {
      try {
        Native.bridge().shmUnlink(shm);
      } catch (ApposeException e) {
        // Unlinked already (unlink(), or kept for another process).
      }
    }
    mapping.close();
  }

  private boolean closed;

  @Override
  public String toJson() {
    return "{\"appose_type\":\"shm\",\"name\":" + Json.write(name) + ",\"rsize\":" + rsize + "}";
  }

  @Override
  public String toString() {
    return "SharedMemory[" + name + ", " + rsize + " bytes]";
  }
}
