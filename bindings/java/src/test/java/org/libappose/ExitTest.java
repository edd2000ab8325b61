package org.libappose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A JVM that loads libappose and ends without closing anything: it exits by
 * itself (no thread holds it), prints no JNI or native-access warning, and
 * leaves no worker and no shared memory behind.
 */
class ExitTest {
  /** The child: a service, a task with an array, and no close. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      Service python = Appose.wrap(new File(args[0])).python();
      NDArray a = NDArray.create(DType.FLOAT32, 4);
      Task t =
          python
              .task(
                  "import os\nimg.ndarray()[0] = 3\ntask.outputs['pid'] = os.getpid()",
                  Collections.singletonMap("img", (Object) a))
              .waitFor();
      System.out.println("pid=" + t.outputs().get("pid"));
      System.out.println("shm=" + a.shmName());
      System.out.println("value=" + a.buffer().asFloatBuffer().get(0));
      // A second task left running: the worker must still go at exit.
      python.task("import time\ntime.sleep(60)").start();
    }
  }

  @Test
  void aJvmThatNeverClosesExitsCleanlyAndLeavesNothing() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    if (Appose.bridge().equals("jni")) cmd.add("-Xcheck:jni");
    if (Runtime.version().feature() >= 22) cmd.add("--enable-native-access=ALL-UNNAMED");
    for (String p : new String[] {"libappose.bridge", "libappose.library", "libappose.jni"}) {
      String v = System.getProperty(p);
      if (v != null) cmd.add("-D" + p + "=" + v);
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(Child.class.getName());
    cmd.add(System.getProperty("appose.test.python", "../../target/tmp/python-env"));
    File out = File.createTempFile("libappose-exit", ".txt");
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out).start();
      boolean exited = p.waitFor(120, TimeUnit.SECONDS);
      if (!exited) p.destroyForcibly();
      String text = new String(Files.readAllBytes(out.toPath()), StandardCharsets.UTF_8);
      assertTrue(exited, "the JVM did not exit by itself:\n" + text);
      assertEquals(0, p.exitValue(), text);
      assertFalse(text.contains("WARNING"), text);
      assertTrue(text.contains("value=3.0"), text);
      Matcher pid = Pattern.compile("pid=(\\d+)").matcher(text);
      Matcher shm = Pattern.compile("shm=/?(\\S+)").matcher(text);
      assertTrue(pid.find() && shm.find(), text);
      long worker = Long.parseLong(pid.group(1));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (ProcessHandle.of(worker).map(ProcessHandle::isAlive).orElse(false)
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertFalse(ProcessHandle.of(worker).map(ProcessHandle::isAlive).orElse(false), "worker lives");
      assertFalse(new File("/dev/shm/" + shm.group(1)).exists(), "block left: " + shm.group(1));
    } finally {
      out.delete();
    }
  }
}
