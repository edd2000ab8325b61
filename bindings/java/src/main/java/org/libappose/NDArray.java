package org.libappose;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.libappose.internal.Bridge;
import org.libappose.internal.Json;

/**
 * An n-dimensional array in shared memory, as appose-java's {@code NDArray}:
 * a dtype, a shape, and its elements in a block a worker maps too (numpy
 * sees it without copying). {@link #buffer()} is a direct buffer over that
 * memory, with typed views ({@code buffer().asFloatBuffer()}); it keeps the
 * array mapped while it or any view of it is in use.
 */
public final class NDArray implements AutoCloseable, Json.Encodable {
  private final long ndarray;
  private final Bridge.Mapping mapping;
  private final DType dtype;
  private final long[] shape; // C order
  private final String shmName;
  private final long shmRsize;
  private final boolean created;
  private boolean closed;

  private NDArray(long ndarray, boolean created) {
    Bridge b = Native.bridge();
    try {
      long[] info = b.ndarrayInfo(ndarray);
      this.dtype = DType.of((int) info[0]);
      this.shape = Arrays.copyOfRange(info, 2, info.length);
      long shm = b.ndarrayShm(ndarray);
      try {
        this.shmName = b.shmName(shm);
        this.shmRsize = b.shmSize(shm, 1);
      } finally {
        b.free(Bridge.FREE_SHM, shm);
      }
      this.mapping = b.map(ndarray, 1, info[1], Bridge.FREE_NDARRAY);
    } catch (RuntimeException e) {
      b.free(Bridge.FREE_NDARRAY, ndarray);
      throw e;
    }
    this.ndarray = ndarray;
    this.created = created;
  }

  static NDArray own(long ndarray) {
    return new NDArray(ndarray, false);
  }

  /** A new array in a new block, C order, zeroed. */
  public static NDArray create(DType dtype, long... shape) {
    return create(dtype, Order.C, shape);
  }

  /** A new array; an F-order shape is stored as its reverse in C order, as the peers do. */
  public static NDArray create(DType dtype, Order order, long... shape) {
    long[] c = order == Order.F ? reversed(shape) : shape.clone();
    return new NDArray(Native.bridge().ndarrayNew(0, dtype.code(), c), true);
  }

  /** An array over an existing block (C order). */
  public static NDArray wrap(SharedMemory shm, DType dtype, long... shape) {
    long block = Native.bridge().shmOpen(shm.name(), 0);
    try {
      return own(Native.bridge().ndarrayNew(block, dtype.code(), shape));
    } finally {
      Native.bridge().free(Bridge.FREE_SHM, block);
    }
  }

  private static long[] reversed(long[] a) {
    long[] r = new long[a.length];
    for (int i = 0; i < a.length; i++) r[i] = a[a.length - 1 - i];
    return r;
  }

  long handle() {
    return ndarray;
  }

  public DType dtype() {
    return dtype;
  }

  /** The shape in C order. */
  public long[] shape() {
    return shape.clone();
  }

  /** The shape in the given order (F: reversed). */
  public long[] shape(Order order) {
    return order == Order.F ? reversed(shape) : shape();
  }

  /** The number of elements. */
  public long size() {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
  }

  /** The elements' memory, native byte order, position 0. */
  public ByteBuffer buffer() {
    return mapping.buffer().duplicate().order(ByteOrder.nativeOrder());
  }

  /** The name of the block holding the elements. */
  public String shmName() {
    return shmName;
  }

  /**
   * Done with the array: one you created has its block unlinked now; the
   * memory is released when no buffer over it is in use (at once on the
   * FFM bridge, where later access then fails cleanly).
   */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    if (created) {
      long shm = Native.bridge().ndarrayShm(ndarray);
      try {
        Native.bridge().shmUnlink(shm);
      } catch (ApposeException e) {
        // Unlinked already.
      } finally {
        Native.bridge().free(Bridge.FREE_SHM, shm);
      }
    }
    mapping.close();
  }

  @Override
  public String toJson() {
    StringBuilder sb = new StringBuilder("{\"appose_type\":\"ndarray\",\"dtype\":\"");
    sb.append(dtype.label()).append("\",\"shape\":[");
    for (int i = 0; i < shape.length; i++) sb.append(i > 0 ? "," : "").append(shape[i]);
    sb.append("],\"shm\":{\"appose_type\":\"shm\",\"name\":").append(Json.write(shmName));
    sb.append(",\"rsize\":").append(shmRsize).append("}}");
    return sb.toString();
  }

  @Override
  public String toString() {
    return "NDArray[" + dtype.label() + " " + Arrays.toString(shape) + "]";
  }
}
