package org.libappose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Builders through the binding. uv is a stand-in that records its argv and
 * lays out a venv whose python is the test environment's (the real uv
 * would need PyPI); custom builds need no tool.
 */
class BuilderTest {
  private Path root;

  @BeforeEach
  void makeRoot() throws Exception {
    root = Files.createTempDirectory("libappose-java-builder");
  }

  @AfterEach
  void removeRoot() throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private String python() {
    return new File(TestEnv.python().base(), "bin/python").getPath();
  }

  private void uvStandIn() throws Exception {
    Path uv = root.resolve(".uv/bin/uv");
    Files.createDirectories(uv.getParent());
    String script =
        "#!/bin/sh\n"
            + "echo \"uv $*\" >> \"" + root + "/calls.log\"\n"
            + "echo \"uv says $1\"\n"
            + "while [ \"${1#-}\" != \"$1\" ]; do shift; done\n"
            + "if [ \"$1\" = venv ]; then\n"
            + "  for dir; do :; done\n"
            + "  mkdir -p \"$dir/bin\"\n"
            + "  echo \"home = /usr/bin\" > \"$dir/pyvenv.cfg\"\n"
            + "  printf '#!/bin/sh\\nexec \"" + python() + "\" \"$@\"\\n' > \"$dir/bin/python\"\n"
            + "  chmod +x \"$dir/bin/python\"\n"
            + "fi\n";
    Files.write(uv, script.getBytes(StandardCharsets.UTF_8));
    Files.setPosixFilePermissions(uv, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private List<String> calls() throws Exception {
    return Files.readAllLines(root.resolve("calls.log"));
  }

  @Test
  void uvBuildsWithEverySettingProgressAndOutputThenReusesAndDeletes() throws Exception {
    uvStandIn();
    List<String> progress = Collections.synchronizedList(new ArrayList<>());
    List<String> output = Collections.synchronizedList(new ArrayList<>());
    Builder b =
        Appose.uv()
            .envsRoot(root.toFile())
            .name("venv")
            .pythonVersion("3.11")
            .include("numpy")
            .flag("--offline")
            .env("LIBAPPOSE_JAVA_VAR", "from the builder")
            .subscribeProgress((t, c, m) -> progress.add(t + " " + c + "/" + m))
            .subscribeOutput(output::add);
    Environment env = b.build();
    String dir = root.resolve("venv").toString();
    assertEquals(
        java.util.Arrays.asList(
            "uv --offline venv --python 3.11 " + dir,
            "uv --offline pip install --python " + dir + " numpy appose"),
        calls());
    assertEquals(new File(dir).getCanonicalPath(), new File(env.base()).getCanonicalPath());
    assertEquals("uv", env.type());
    assertTrue(progress.contains("Environment ready 2/2"), progress.toString());
    assertTrue(output.contains("uv says --offline"), output.toString());
    try (Service svc = env.python()) {
      Task t = svc.task("import os\ntask.outputs['v'] = os.environ['LIBAPPOSE_JAVA_VAR']").waitFor();
      assertEquals("from the builder", t.outputs().get("v"), t.error());
    }
    // Unchanged: reused without running uv again.
    b.build();
    assertEquals(2, calls().size());
    // The builder recovered from the environment deletes it.
    env.builder().delete();
    assertFalse(new File(dir).exists());
  }

  @Test
  void aCustomBuildRunsWorkersAndBadBuildsSayWhy() throws Exception {
    Path base = Files.createDirectories(root.resolve("custom"));
    Environment env =
        Appose.custom()
            .base(base.toFile())
            .binPath(new File(TestEnv.python().base(), "bin").getPath())
            .build();
    try (Service svc = env.python()) {
      assertEquals(42L, svc.task("task.outputs['result'] = 6 * 7").waitFor().result());
    }
    // An envs root that cannot be written is named first.
    File file = root.resolve("a-file").toFile();
    Files.write(file.toPath(), new byte[0]);
    ApposeException e =
        assertThrows(
            ApposeException.class,
            () ->
                Appose.uv()
                    .envsRoot(new File(file, "envs"))
                    .name("x")
                    .content("appose==0.12.0\n")
                    .build());
    assertTrue(e.getMessage().contains("cannot be written"), e.getMessage());
    // The custom builder refuses what it would ignore.
    ApposeException named =
        assertThrows(ApposeException.class, () -> Appose.custom().name("n").build());
    assertEquals(ApposeException.INVALID_STATE, named.status(), named.getMessage());
    assertTrue(named.getMessage().contains("takes no name"), named.getMessage());
  }
}
