package org.libappose;

import java.io.File;

/**
 * Where everything starts, as appose-java's {@code Appose}: builders for
 * new environments, and existing ones wrapped.
 *
 * <pre>{@code
 * Environment env = Appose.wrap(new File("/path/to/venv"));
 * try (Service python = env.python()) {
 *   Task task = python.task("task.outputs['answer'] = 6 * 7").waitFor();
 *   Object answer = task.outputs().get("answer"); // 42L
 * }
 * }</pre>
 */
public final class Appose {
  private Appose() {}

  public static Builder uv() {
    return Builder.of("uv");
  }

  public static Builder pixi() {
    return Builder.of("pixi");
  }

  public static Builder mamba() {
    return Builder.of("mamba");
  }

  /** A directory of executables you made yourself (installs nothing). */
  public static Builder custom() {
    return Builder.of("custom");
  }

  /** A builder whose kind is told from the description file's content. */
  public static Builder file(File file) {
    return Builder.of("dynamic").file(file);
  }

  public static Builder url(String url) {
    return Builder.of("dynamic").url(url);
  }

  public static Builder content(String text) {
    return Builder.of("dynamic").content(text);
  }

  /** An existing environment, its kind detected (pixi, conda, venv, plain directory). */
  public static Environment wrap(File dir) {
    return new Environment(Native.bridge().envWrap(dir.getPath()));
  }

  /** The executables on this process's PATH as an environment. */
  public static Environment system() {
    return new Environment(Native.bridge().envSystem());
  }

  /** The native library's version. */
  public static String version() {
    return Native.bridge().version();
  }

  /** The bridge in use: "jni" or "ffm" (system property libappose.bridge chooses). */
  public static String bridge() {
    return Native.bridge().name();
  }
}
