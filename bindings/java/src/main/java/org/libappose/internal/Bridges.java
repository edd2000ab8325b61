package org.libappose.internal;

/**
 * Chooses the bridge once per process: the system property {@code
 * libappose.bridge} ({@code jni} or {@code ffm}), else FFM on Java 22 and
 * later (no native glue), else JNI.
 */
public final class Bridges {
  private static volatile Bridge bridge;

  private Bridges() {}

  public static Bridge get() {
    Bridge b = bridge;
    if (b == null) {
      synchronized (Bridges.class) {
        b = bridge;
        if (b == null) bridge = b = choose();
      }
    }
    return b;
  }

  private static Bridge choose() {
    String wanted = System.getProperty("libappose.bridge", "");
    int feature = Runtime.version().feature();
    if (wanted.equals("jni")) return new JniBridge();
    if (wanted.equals("ffm") || (wanted.isEmpty() && feature >= 22)) {
      try {
        Class<?> c = Class.forName("org.libappose.internal.FfmBridge");
        return (Bridge) c.getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException | LinkageError e) {
        if (wanted.equals("ffm")) {
          throw new IllegalStateException(
              "the FFM bridge needs Java 22 or later and the jar's versioned classes (running "
                  + Runtime.version() + ")",
              e);
        }
      }
    }
    if (!wanted.isEmpty() && !wanted.equals("ffm")) {
      throw new IllegalArgumentException(
          "libappose.bridge is " + wanted + ": expected jni or ffm");
    }
    return new JniBridge();
  }
}
