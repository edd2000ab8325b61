package org.libappose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerObjectTest {
  /** How many variables appose 0.12.0's Python worker exports (a private detail). */
  private static long exports(Service python) throws Exception {
    Task t = python.task("task.outputs['n'] = len(task._worker.exports)").waitFor();
    return ((Number) t.outputs().get("n")).longValue();
  }

  public interface Counter {
    void add(int n);

    long total();
  }

  @Test
  void aDatetimeIsUsedThroughAttributesAndMethods() throws Exception {
    try (Service python = TestEnv.python().python()) {
      Task task = python.task("import datetime\ndatetime.datetime(2024, 5, 17, 13, 45)").waitFor();
      WorkerObject dt = (WorkerObject) task.result();
      assertEquals(2024L, dt.attr("year"));
      assertEquals("2024-05-17T13:45:00", dt.invoke("isoformat"));
      assertEquals("2024-05-17 13:45:00", python.call("str", dt));
      assertTrue(dt.dir().contains("strftime"));
      TaskException missing = assertThrows(TaskException.class, () -> dt.attr("no_such"));
      assertTrue(missing.getMessage().contains("no_such"), missing.getMessage());
      dt.close();
    }
  }

  @Test
  void aUserObjectIsMutatedAcrossTasksAndProxied() throws Exception {
    try (Service python = TestEnv.python().python()) {
      python
          .task(
              "class Counter:\n"
                  + "    def __init__(self):\n"
                  + "        self.n = 0\n"
                  + "    def add(self, k):\n"
                  + "        self.n += k\n"
                  + "    def total(self):\n"
                  + "        return self.n\n"
                  + "task.export(counter=Counter())\n")
          .waitFor();
      Counter c = python.proxy("counter", Counter.class);
      c.add(5);
      c.add(7);
      assertEquals(12L, c.total());
      assertEquals(12L, python.proxy("counter").attr("n"));
      TaskException e = assertThrows(TaskException.class, () -> python.call("no_such_function"));
      assertTrue(e.getMessage().contains("no_such_function"), e.getMessage());
    }
  }

  @Test
  void variablesRoundTripAndCallsWork() throws Exception {
    try (Service python = TestEnv.python().python()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("a", 1L);
      m.put("b", Arrays.asList("x", 2.5));
      for (Object v : Arrays.asList("text", 42L, 2.5, Arrays.asList(1L, 2L), m)) {
        python.putVar("v", v);
        assertEquals(v, python.getVar("v"));
      }
      assertEquals(9L, python.call("max", 3, 9, 4));
      python.task("def twice(x):\n    return 2 * x\ntask.export(twice=twice)").waitFor();
      assertEquals(42L, python.call("twice", 21));
    }
  }

  @Test
  void releasedObjectsLeaveTheWorker() throws Exception {
    try (Service python = TestEnv.python().python()) {
      long before = exports(python);
      List<WorkerObject> objects = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        objects.add((WorkerObject) python.task("object()").waitFor().result());
      }
      assertEquals(before + 200, exports(python));
      for (WorkerObject o : objects) o.close();
      long deadline = System.nanoTime() + 30_000_000_000L;
      long now = exports(python);
      while (now != before && System.nanoTime() < deadline) {
        Thread.sleep(50);
        now = exports(python);
      }
      assertEquals(before, now);
    }
  }
}
