package org.libappose;

import java.util.Collections;
import java.util.List;
import org.libappose.internal.Bridge;

/** A built (or wrapped) environment, and the workers it runs, as appose-java's. */
public final class Environment {
  private final Handle handle;

  Environment(long h) {
    this.handle = new Handle(this, Bridge.FREE_ENV, h);
  }

  long handle() {
    return handle.get();
  }

  /** Its directory. */
  public String base() {
    return Native.bridge().envBase(handle());
  }

  /** What kind it is: "pixi", "mamba", "uv" (a venv) or "custom". */
  public String type() {
    return Native.bridge().envType(handle());
  }

  /** A Python worker service (not started). */
  public Service python() {
    return new Service(Native.bridge().envPython(handle()));
  }

  /** A Groovy worker service; see {@link #groovy(List, String...)}. */
  public Service groovy(String... jvmArgs) {
    return groovy(Collections.emptyList(), jvmArgs);
  }

  /**
   * A Groovy worker service (not started): appose-java's own GroovyWorker,
   * run by {@code java} from this environment. The class path holds the
   * worker's jars (found from this JVM's copy of appose-java when it is on
   * the class path, else named by {@code APPOSE_GROOVY_CLASSPATH}) and
   * {@code classPath}.
   */
  public Service groovy(List<String> classPath, String... jvmArgs) {
    List<String> cp = new java.util.ArrayList<>(GroovyJars.find());
    cp.addAll(classPath);
    return new Service(
        Native.bridge().envService(handle(), 0, null, cp.toArray(new String[0]), jvmArgs));
  }

  /** A service running a Java main class with {@code java} from this environment. */
  public Service java(String mainClass, List<String> classPath, String... jvmArgs) {
    return new Service(
        Native.bridge()
            .envService(handle(), 1, mainClass, classPath.toArray(new String[0]), jvmArgs));
  }

  /** A service running the first of {@code exes} found here, with {@code args}. */
  public Service service(List<String> exes, String... args) {
    return new Service(
        Native.bridge().envService(handle(), 2, null, exes.toArray(new String[0]), args));
  }

  /** The builder that would rebuild it. */
  public Builder builder() {
    return new Builder(Native.bridge().envBuilder(handle()));
  }

  @Override
  public String toString() {
    return "Environment[" + base() + "]";
  }
}
