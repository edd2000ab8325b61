package org.libappose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConcurrencyTest {
  /** Runs task i (odd ones fail with their own message) and checks its outcome. */
  private static String one(Service python, int i) throws Exception {
    boolean fail = i % 2 == 1;
    String script =
        fail ? "raise ValueError(f'bad {n}')" : "task.outputs['twice'] = 2 * n";
    Task task = python.task(script, Collections.singletonMap("n", (Object) i));
    if (!task.waitFor(120, TimeUnit.SECONDS)) return "task " + i + " timed out";
    if (fail) {
      if (task.status() != TaskStatus.FAILED) return "task " + i + " ended " + task.status();
      if (!task.error().contains("ValueError: bad " + i + "\n")
          && !task.error().endsWith("ValueError: bad " + i)) {
        return "task " + i + " has the error text " + task.error();
      }
    } else {
      Map<String, Object> out = task.outputs();
      if (!Long.valueOf(2L * i).equals(out.get("twice"))) return "task " + i + " gave " + out;
    }
    return null;
  }

  private static void runAll(ExecutorService pool, Service python, int n) throws Exception {
    List<Future<String>> results = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int k = i;
      results.add(pool.submit(() -> one(python, k)));
    }
    List<String> problems = new ArrayList<>();
    for (Future<String> f : results) {
      String p = f.get(300, TimeUnit.SECONDS);
      if (p != null) problems.add(p);
    }
    assertEquals(Collections.emptyList(), problems);
  }

  @Test
  void aThousandTasksFromSixteenThreads() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try (Service python = TestEnv.python().python()) {
      runAll(pool, python, 1000);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void fiveHundredTasksFromVirtualThreads() throws Exception {
    assumeTrue(Runtime.version().feature() >= 21, "virtual threads need Java 21");
    ExecutorService pool =
        (ExecutorService)
            Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    try (Service python = TestEnv.python().python()) {
      runAll(pool, python, 500);
    } finally {
      pool.shutdownNow();
      assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }
  }
}
