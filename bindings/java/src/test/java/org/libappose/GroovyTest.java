package org.libappose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The second real peer: appose-java 0.9.0's GroovyWorker, run through libappose. */
class GroovyTest {
  /** A view of a StringBuilder in the worker, through a proxy. */
  public interface Text {
    /** The worker sends the builder back as its text. */
    String append(String s);

    int length();
  }

  @Test
  void collatzAndAProxyOnTheGroovyWorker() throws Exception {
    List<String> jars = TestEnv.groovyJars();
    try (Service groovy = Appose.system().groovy(jars)) {
      List<TaskEvent> events = Collections.synchronizedList(new ArrayList<>());
      Task task = groovy.task(TestEnv.COLLATZ_GROOVY).listen(events::add).waitFor();
      assertEquals(TaskStatus.COMPLETE, task.status(), task.error());
      assertEquals(93, events.size());
      assertEquals("[0] -> 29998", events.get(1).message);
      assertEquals(91L, ((Number) task.result()).longValue());

      Task failed = groovy.task("throw new IllegalStateException('groovy says no')").waitFor();
      assertEquals(TaskStatus.FAILED, failed.status());
      assertTrue(failed.error().contains("groovy says no"), failed.error());

      groovy.task("task.export([sb: new StringBuilder('ab')])").waitFor();
      Text sb = groovy.proxy("sb", Text.class);
      assertEquals("abcd", sb.append("cd"));
      assertEquals(4, sb.length());
      WorkerObject raw = groovy.proxy("sb");
      assertEquals("abcd", raw.invoke("toString"));
      groovy.putVar("n", 20);
      assertEquals(40L, ((Number) groovy.call("Math.multiplyExact", 2L, 20L)).longValue());
      assertEquals(20L, ((Number) groovy.getVar("n")).longValue());
    }
  }

  @Test
  void theWorkerJarsAreFoundOnTheClassPathAsApposeJavaDoes() throws Exception {
    // appose-java is a test dependency: no class path given, none in the
    // environment variable; the binding finds GroovyWorker's jars itself.
    List<String> found = GroovyJars.find();
    assertTrue(found.stream().anyMatch(p -> p.contains("appose-0.9.0")), found.toString());
    assertTrue(found.stream().anyMatch(p -> p.contains("groovy-json")), found.toString());
    try (Service groovy = Appose.system().groovy()) {
      Task t = groovy.task("task.outputs['sum'] = 20 + 22").waitFor();
      assertEquals(TaskStatus.COMPLETE, t.status(), t.error());
      assertEquals(42L, ((Number) t.outputs().get("sum")).longValue());
    }
  }
}
