package org.libappose;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The test environments: the Python one the tests' setup made, and appose-java's jars. */
final class TestEnv {
  private TestEnv() {}

  static final Duration CLOSE = Duration.ofSeconds(20);

  static Environment python() {
    File dir = new File(System.getProperty("appose.test.python", "../../target/tmp/python-env"));
    if (!new File(dir, "bin/python").exists()) {
      throw new IllegalStateException(
          "no Python test environment at " + dir + ": run tests/support/python-env.sh " + dir);
    }
    return Appose.wrap(dir);
  }

  /** appose-java 0.9.0's jars, or the test is skipped (reported, not passed). */
  static List<String> groovyJars() {
    File dir = new File(System.getProperty("appose.test.groovy", "../../target/tmp/groovy-deps"));
    List<String> jars = new ArrayList<>();
    File[] files = dir.listFiles((d, n) -> n.endsWith(".jar"));
    if (files != null) for (File f : files) jars.add(f.getAbsolutePath());
    assumeTrue(!jars.isEmpty(), "appose-java's jars are not in " + dir);
    return jars;
  }

  static final String COLLATZ =
      "time = 0\n"
          + "v = 9999\n"
          + "while v != 1:\n"
          + "    v = v//2 if v%2==0 else 3*v+1\n"
          + "    task.update(f\"[{time}] -> {v}\", current=time)\n"
          + "    time += 1\n"
          + "task.outputs[\"result\"] = time\n";

  static final String COLLATZ_GROOVY =
      "time = 0\n"
          + "v = 9999\n"
          + "while (v != 1) {\n"
          + "  v = v % 2 == 0 ? v.intdiv(2) : 3 * v + 1\n"
          + "  task.update(\"[${time}] -> ${v}\".toString(), time, null)\n"
          + "  time++\n"
          + "}\n"
          + "task.outputs['result'] = time\n";
}
