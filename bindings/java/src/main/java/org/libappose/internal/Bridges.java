package org.libappose.internal;

/**
 * Chooses the bridge once per process: the system property {@code
 * libappose.bridge} ({@code jni} or {@code ffm}); else JNI, the faster of
 * the two here (see the README's figures), falling back to FFM on Java 22
 * and later when the JNI glue cannot be loaded.
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
    switch (wanted) {
      case "jni":
        return new JniBridge();
      case "ffm":
        return ffm();
      case "":
        try {
          return new JniBridge();
        } catch (UnsatisfiedLinkError e) {
          if (Runtime.version().feature() < 22) throw e;
          return ffm();
        }
      default:
        throw new IllegalArgumentException(
            "libappose.bridge is " + wanted + ": expected jni or ffm");
    }
  }

  private static Bridge ffm() {
    try {
      Class<?> c = Class.forName("org.libappose.internal.FfmBridge");
      return (Bridge) c.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException | LinkageError e) {
      throw new IllegalStateException(
          "the FFM bridge needs Java 22 or later and the jar's versioned classes (running "
              + Runtime.version() + ")",
          e);
    }
  }
}
