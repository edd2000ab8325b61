package org.libappose;

import java.lang.foreign.MemorySegment;

/**
 * Java 22 and later: arrays and blocks as {@link MemorySegment}s over the
 * shared memory itself (no copy). A segment keeps the memory mapped as its
 * buffer does; after {@code close()} on the FFM bridge, access fails cleanly.
 */
public final class Segments {
  private Segments() {}

  /** The array's elements. */
  public static MemorySegment of(NDArray array) {
    return MemorySegment.ofBuffer(array.buffer());
  }

  /** The block's bytes. */
  public static MemorySegment of(SharedMemory block) {
    return MemorySegment.ofBuffer(block.buffer());
  }
}
