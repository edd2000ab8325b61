package org.libappose;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ArrayTest {
  /** Element i of a buffer of the dtype, as a double (complex: the real part). */
  private static double at(ByteBuffer b, DType d, int i) {
    int o = i * d.bytesPerElement();
    switch (d) {
      case INT8:
        return b.get(o);
      case UINT8:
        return b.get(o) & 0xff;
      case BOOL:
        return b.get(o);
      case INT16:
        return b.getShort(o);
      case UINT16:
        return b.getShort(o) & 0xffff;
      case FLOAT16:
        return b.getShort(o); // compared as raw bits below
      case INT32:
        return b.getInt(o);
      case UINT32:
        return b.getInt(o) & 0xffffffffL;
      case INT64:
      case UINT64:
        return b.getLong(o);
      case FLOAT32:
      case COMPLEX64:
        return b.getFloat(o);
      default:
        return b.getDouble(o);
    }
  }

  @Test
  void arraysOfEveryDtypeAreSharedWithoutCopying() throws Exception {
    Map<String, Object> inputs = new LinkedHashMap<>();
    Map<DType, NDArray> arrays = new LinkedHashMap<>();
    for (DType d : DType.values()) {
      NDArray a = NDArray.create(d, 2, 3);
      assertArrayEquals(new long[] {2, 3}, a.shape());
      assertArrayEquals(new long[] {3, 2}, a.shape(Order.F));
      assertEquals(6L * d.bytesPerElement(), a.buffer().capacity());
      arrays.put(d, a);
      inputs.put(d.label(), a);
    }
    try (Service python = TestEnv.python().python()) {
      Task task =
          python
              .task(
                  "for name, a in list(globals().items()):\n"
                      + "    if hasattr(a, 'ndarray') and hasattr(a, 'dtype'):\n"
                      + "        a.ndarray()[0, 1] = 1\n"
                      + "        a.ndarray()[1, 2] = 7 if a.dtype != 'bool' else True\n"
                      + "task.outputs['done'] = True\n",
                  inputs)
              .waitFor();
      assertEquals(TaskStatus.COMPLETE, task.status(), task.error());
    }
    for (Map.Entry<DType, NDArray> e : arrays.entrySet()) {
      DType d = e.getKey();
      ByteBuffer b = e.getValue().buffer();
      if (d == DType.FLOAT16) {
        assertEquals(0x3c00, b.getShort(2) & 0xffff, "float16 1.0");
        assertEquals(0x4700, b.getShort(10) & 0xffff, "float16 7.0");
        continue;
      }
      double seven = d == DType.BOOL ? 1 : 7;
      assertEquals(0, at(b, d, 0), d.label());
      assertEquals(1, at(b, d, 1), d.label());
      assertEquals(seven, at(b, d, 5), d.label());
    }
    // Typed views see the same memory.
    NDArray f = arrays.get(DType.FLOAT32);
    assertEquals(7f, f.buffer().asFloatBuffer().get(5));
    f.buffer().asFloatBuffer().put(0, 2.5f);
    assertEquals(2.5f, f.buffer().getFloat(0));
    for (NDArray a : arrays.values()) a.close();
  }

  @Test
  void anArrayTheWorkerMadeArrivesOverItsMemory() throws Exception {
    try (Service python = TestEnv.python().python()) {
      Task task =
          python
              .task(
                  "import numpy as np\n"
                      + "from appose import NDArray\n"
                      + "a = NDArray('float64', [3, 4])\n"
                      + "a.ndarray()[...] = np.arange(12).reshape(3, 4) * 0.5\n"
                      + "task.outputs['deep'] = {'list': [1, a]}\n")
              .waitFor();
      assertEquals(TaskStatus.COMPLETE, task.status(), task.error());
      Object list = ((Map<?, ?>) task.outputs().get("deep")).get("list");
      NDArray a = (NDArray) ((java.util.List<?>) list).get(1);
      assertEquals(DType.FLOAT64, a.dtype());
      assertArrayEquals(new long[] {3, 4}, a.shape());
      assertEquals(5.5, a.buffer().asDoubleBuffer().get(11));
      String name = a.shmName();
      assertTrue(new File("/dev/shm/" + name.replaceFirst("^/", "")).exists());
    }
  }

  @Test
  void onJava22ArraysAreMemorySegmentsToo() throws Exception {
    Class<?> segments;
    try {
      segments = Class.forName("org.libappose.Segments");
    } catch (ClassNotFoundException e) {
      org.junit.jupiter.api.Assumptions.assumeTrue(false, "no versioned classes for Java 22 here");
      return;
    }
    try (NDArray a = NDArray.create(DType.INT32, 5)) {
      a.buffer().asIntBuffer().put(4, 99);
      Object seg = segments.getMethod("of", NDArray.class).invoke(null, a);
      Class<?> api = Class.forName("java.lang.foreign.MemorySegment");
      assertEquals(20L, api.getMethod("byteSize").invoke(seg));
      ByteBuffer view =
          ((ByteBuffer) api.getMethod("asByteBuffer").invoke(seg))
              .order(java.nio.ByteOrder.nativeOrder());
      assertEquals(99, view.getInt(16));
    }
  }

  @Test
  void sharedMemoryBlocksAreNamedSizedAndUnlinked() {
    SharedMemory shm = SharedMemory.create(1000);
    assertTrue(shm.rsize() >= 1000);
    File file = new File("/dev/shm/" + shm.name().replaceFirst("^/", ""));
    assertTrue(file.exists(), file.toString());
    shm.buffer().put(3, (byte) 42);
    SharedMemory other = SharedMemory.attach(shm.name(), 1000);
    assertEquals(42, other.buffer().get(3));
    ApposeException tooBig =
        org.junit.jupiter.api.Assertions.assertThrows(
            ApposeException.class, () -> SharedMemory.attach(shm.name(), 1 << 30));
    assertEquals(ApposeException.INVALID_ARGUMENT, tooBig.status(), tooBig.getMessage());
    other.close();
    shm.close();
    assertFalse(file.exists(), file.toString());
  }
}
