package org.libappose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TaskTest {
  @Test
  void theBridgeAskedForIsTheOneInUse() {
    String wanted = System.getProperty("libappose.bridge");
    org.junit.jupiter.api.Assumptions.assumeTrue(wanted != null, "no bridge asked for");
    assertEquals(wanted, Appose.bridge());
    assertTrue(Appose.version().startsWith("0."), Appose.version());
  }

  @Test
  void collatzGives93EventsAndResult91() throws Exception {
    try (Service python = TestEnv.python().python()) {
      List<TaskEvent> events = Collections.synchronizedList(new ArrayList<>());
      Task task = python.task(TestEnv.COLLATZ).listen(events::add).waitFor();
      assertEquals(TaskStatus.COMPLETE, task.status());
      assertEquals(93, events.size());
      assertEquals(ResponseType.LAUNCH, events.get(0).responseType);
      assertEquals(ResponseType.COMPLETION, events.get(92).responseType);
      long v = 9999;
      for (int i = 1; i <= 91; i++) {
        v = v % 2 == 0 ? v / 2 : 3 * v + 1;
        TaskEvent e = events.get(i);
        assertEquals(ResponseType.UPDATE, e.responseType);
        assertEquals("[" + (i - 1) + "] -> " + v, e.message);
        assertEquals(Long.valueOf(i - 1), e.current);
        assertNull(e.maximum);
      }
      assertEquals(91L, task.result());
      assertEquals(91L, python.task(TestEnv.COLLATZ).future().get());
    }
  }

  @Test
  void failureCarriesThePythonTraceback() throws Exception {
    try (Service python = TestEnv.python().python()) {
      Task task = python.task("def f():\n    raise ValueError('no good')\nf()").waitFor();
      assertEquals(TaskStatus.FAILED, task.status());
      assertTrue(task.error().contains("ValueError: no good"), task.error());
      assertTrue(task.error().contains("Traceback"), task.error());
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> python.task("1/0").future().get());
      TaskException te = (TaskException) e.getCause();
      assertEquals(ApposeException.TASK_FAILED, te.status());
      assertTrue(te.getMessage().contains("ZeroDivisionError"), te.getMessage());
    }
  }

  @Test
  void cancelIsCooperative() throws Exception {
    try (Service python = TestEnv.python().python()) {
      Task task =
          python.task(
              "import time\n"
                  + "while not task.cancel_requested:\n"
                  + "    task.update('waiting')\n"
                  + "    time.sleep(0.01)\n"
                  + "task.cancel()\n");
      List<TaskEvent> events = Collections.synchronizedList(new ArrayList<>());
      task.listen(events::add).start();
      while (events.size() < 2) Thread.sleep(5);
      task.cancel();
      assertTrue(task.waitFor(20, TimeUnit.SECONDS));
      assertEquals(TaskStatus.CANCELED, task.status());
    }
  }

  @Test
  void killCrashesPendingTasks() throws Exception {
    Service python = TestEnv.python().python();
    Task task = python.task("import time\ntask.update('go')\ntime.sleep(60)");
    List<TaskEvent> events = Collections.synchronizedList(new ArrayList<>());
    task.listen(events::add).start();
    while (events.size() < 2) Thread.sleep(5);
    long pid = python.pid();
    assertTrue(pid > 0);
    python.kill();
    assertTrue(task.waitFor(20, TimeUnit.SECONDS));
    assertEquals(TaskStatus.CRASHED, task.status());
    assertEquals(ResponseType.CRASH, events.get(events.size() - 1).responseType);
    assertNotNull(task.error());
    python.close(TestEnv.CLOSE);
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
  }

  @Test
  void initScriptAndMainQueue() throws Exception {
    try (Service python = TestEnv.python().python()) {
      python.init("import threading\nINIT_THREAD = threading.current_thread().name");
      Task task =
          python
              .task(
                  "import threading\n"
                      + "task.outputs['init'] = INIT_THREAD\n"
                      + "task.outputs['here'] = threading.current_thread().name",
                  null,
                  "main")
              .waitFor();
      assertEquals(TaskStatus.COMPLETE, task.status(), task.error());
      assertEquals("MainThread", task.outputs().get("here"));
      assertEquals("MainThread", task.outputs().get("init"));
      assertEquals("main", task.queue());
    }
  }

  @Test
  void timeoutsLeaveTasksRunningAndCloseKills() throws Exception {
    Service python = TestEnv.python().python();
    Task task = python.task("import time\ntime.sleep(60)");
    assertFalse(task.waitFor(200, TimeUnit.MILLISECONDS));
    // Still on its way (QUEUED while the worker starts under load, then RUNNING).
    assertFalse(task.status().isFinished(), task.status().toString());
    long pid = python.pid();
    long t0 = System.nanoTime();
    python.close(java.time.Duration.ofMillis(300));
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
    assertTrue(task.waitFor(10, TimeUnit.SECONDS));
    assertEquals(TaskStatus.CRASHED, task.status());
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
  }

  @Test
  void closeWithoutATimeoutIsBoundedAndKillsABusyWorker() throws Exception {
    Service python = TestEnv.python().python();
    Task busy = python.task("import time\ntask.update('busy')\ntime.sleep(120)");
    List<TaskEvent> events = Collections.synchronizedList(new ArrayList<>());
    busy.listen(events::add).start();
    while (events.size() < 2) Thread.sleep(5);
    long pid = python.pid();
    long t0 = System.nanoTime();
    python.close(); // try-with-resources' close: bounded, never a hang
    long took = System.nanoTime() - t0;
    assertTrue(took < TimeUnit.SECONDS.toNanos(60), "close took " + took / 1e9 + " s");
    assertTrue(busy.waitFor(30, TimeUnit.SECONDS));
    assertEquals(TaskStatus.CRASHED, busy.status());
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
  }

  @Test
  void valuesStayExact() throws Exception {
    try (Service python = TestEnv.python().python()) {
      Map<String, Object> inputs = new LinkedHashMap<>();
      BigInteger wide = new BigInteger("123456789012345678901234567890");
      inputs.put("wide", wide);
      inputs.put("nan", Double.NaN);
      inputs.put("inf", Double.NEGATIVE_INFINITY);
      inputs.put("text", "h\u00e9llo \ud83d\ude00 \"q\"\n");
      inputs.put("list", java.util.Arrays.asList(1, 2.5, true, null));
      Task task =
          python
              .task(
                  "import math\n"
                      + "task.outputs['wide'] = wide + 1\n"
                      + "task.outputs['nan'] = math.isnan(nan)\n"
                      + "task.outputs['inf'] = inf\n"
                      + "task.outputs['text'] = text\n"
                      + "task.outputs['list'] = list\n"
                      + "task.outputs['max'] = 2**63 - 1\n"
                      + "task.outputs['big'] = float('nan')\n",
                  inputs)
              .waitFor();
      assertEquals(TaskStatus.COMPLETE, task.status(), task.error());
      Map<String, Object> out = task.outputs();
      assertEquals(wide.add(BigInteger.ONE), out.get("wide"));
      assertEquals(true, out.get("nan"));
      assertEquals(Double.NEGATIVE_INFINITY, out.get("inf"));
      assertEquals("h\u00e9llo \ud83d\ude00 \"q\"\n", out.get("text"));
      assertEquals(java.util.Arrays.asList(1L, 2.5, true, null), out.get("list"));
      assertEquals(Long.MAX_VALUE, out.get("max"));
      assertTrue(Double.isNaN((Double) out.get("big")));
    }
  }

  @Test
  void aListenerThatThrowsIsReportedAndTheTaskCompletes() throws Exception {
    try (Service python = TestEnv.python().python()) {
      Task task =
          python
              .task("task.update('x')\ntask.outputs['ok'] = 1")
              .listen(
                  e -> {
                    throw new IllegalStateException("listener bug");
                  })
              .waitFor();
      assertEquals(TaskStatus.COMPLETE, task.status());
      assertEquals("listener bug", task.listenerError().getMessage());
      assertEquals(1L, task.outputs().get("ok"));
      assertEquals(2L, python.task("task.outputs['v'] = 2").waitFor().outputs().get("v"));
    }
  }

  /** A finished task with a listener, referenced weakly only. */
  private static java.lang.ref.WeakReference<Task> finishedTask(Service python) throws Exception {
    Task t = python.task("task.update('x')").listen(e -> {}).waitFor();
    assertEquals(TaskStatus.COMPLETE, t.status());
    return new java.lang.ref.WeakReference<>(t);
  }

  @Test
  void theLibraryLetsGoOfListenersAfterTheLastEvent() throws Exception {
    try (Service python = TestEnv.python().python()) {
      java.lang.ref.WeakReference<Task> ref = finishedTask(python);
      // The native side held the listener (a JNI global reference, or the
      // FFM bridge's table entry) until userdata_free: then it can go.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (ref.get() != null && System.nanoTime() < deadline) {
        System.gc();
        Thread.sleep(20);
      }
      assertNull(ref.get(), "the task and its listener are still held");
    }
  }

  @Test
  void waitingInsideAListenerIsRefusedNotAHang() throws Exception {
    try (Service python = TestEnv.python().python()) {
      Task other = python.task("task.outputs['v'] = 2").listen(e -> {});
      Task task =
          python
              .task("task.update('x')")
              .listen(
                  e -> {
                    if (e.responseType != ResponseType.UPDATE) return;
                    try {
                      other.waitFor(); // would need this very dispatcher thread
                    } catch (InterruptedException ex) {
                      Thread.currentThread().interrupt();
                    }
                  });
      assertTrue(task.waitFor(30, TimeUnit.SECONDS), "the listener hung the dispatcher");
      ApposeException refused = (ApposeException) task.listenerError();
      assertEquals(ApposeException.REENTRANT, refused.status(), refused.getMessage());
      assertTrue(refused.getMessage().contains("inside a task listener"), refused.getMessage());
      // Outside the listener, waiting works; so do calls.
      assertTrue(other.waitFor(30, TimeUnit.SECONDS));
      assertEquals(2L, other.outputs().get("v"));
    }
  }

  @Test
  void aListenerThatBlocksDoesNotHangClose() throws Exception {
    Service python = TestEnv.python().python();
    java.util.concurrent.CountDownLatch inListener = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    Task stuck =
        python
            .task("task.update('x')\ntask.outputs['v'] = 1")
            .listen(
                e -> {
                  if (e.responseType == ResponseType.UPDATE) {
                    inListener.countDown();
                    try {
                      release.await();
                    } catch (InterruptedException ex) {
                      Thread.currentThread().interrupt();
                    }
                  }
                });
    stuck.start();
    assertTrue(inListener.await(30, TimeUnit.SECONDS));
    long pid = python.pid();
    long t0 = System.nanoTime();
    // The worker ends, but the listener still runs: close says so, in time.
    ApposeException busy =
        assertThrows(ApposeException.class, () -> python.close(java.time.Duration.ofMillis(500)));
    long took = System.nanoTime() - t0;
    assertEquals(ApposeException.LISTENER_BUSY, busy.status(), busy.getMessage());
    assertTrue(busy.getMessage().contains("listener was still running"), busy.getMessage());
    release.countDown();
    assertTrue(took < TimeUnit.SECONDS.toNanos(30), "close took " + took / 1e6 + " ms");
    assertTrue(stuck.waitFor(30, TimeUnit.SECONDS));
    assertTrue(stuck.status().isFinished());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
  }

  @Test
  void useAfterCloseIsAnErrorNeverACrash() throws Exception {
    Service python = TestEnv.python().python();
    WorkerObject o = (WorkerObject) python.task("object()").waitFor().result();
    o.close();
    ApposeException released = assertThrows(ApposeException.class, () -> o.attr("x"));
    assertTrue(released.status() == ApposeException.INVALID_HANDLE
        || released.status() == ApposeException.NULL_ARGUMENT, released.getMessage());
    python.close(TestEnv.CLOSE);
    ApposeException closed = assertThrows(ApposeException.class, () -> python.task("1"));
    assertTrue(closed.status() == ApposeException.INVALID_HANDLE
        || closed.status() == ApposeException.NULL_ARGUMENT, closed.getMessage());
    assertEquals(-1, python.close(TestEnv.CLOSE));
    NDArray a = NDArray.create(DType.FLOAT64, 8);
    java.nio.DoubleBuffer view = a.buffer().asDoubleBuffer();
    a.close();
    try {
      view.put(0, 1.0); // JNI: still mapped until the view goes; FFM: refused
      assertEquals(1.0, view.get(0));
    } catch (IllegalStateException expected) {
      assertEquals("ffm", Appose.bridge());
    }
  }

  @Test
  void badInputGetsAClearError() {
    ApposeException e =
        assertThrows(ApposeException.class, () -> Appose.wrap(new java.io.File("/no/such/dir")));
    assertEquals(ApposeException.NOT_FOUND, e.status(), e.getMessage());
    try (Service python = TestEnv.python().python()) {
      IllegalArgumentException bad =
          assertThrows(
              IllegalArgumentException.class,
              () -> python.task("1", Collections.singletonMap("x", new Object())));
      assertTrue(bad.getMessage().contains("cannot be sent"), bad.getMessage());
    }
  }
}
