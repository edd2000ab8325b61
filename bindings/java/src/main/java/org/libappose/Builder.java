package org.libappose;

import java.io.File;
import java.util.function.Consumer;
import org.libappose.internal.Bridge;

/**
 * Builds an environment (uv, pixi, micromamba, custom, or told from its
 * description), as appose-java's builders. Setters return the builder;
 * {@link #build()} blocks while the tool runs, with progress and output
 * through the subscribed listeners on the calling thread.
 */
public final class Builder {
  private final Handle handle;

  Builder(long h) {
    this.handle = new Handle(this, Bridge.FREE_BUILDER, h);
  }

  static Builder of(String kind) {
    return new Builder(Native.bridge().builderNew(kind));
  }

  private Builder set(String what, String value) {
    int i = java.util.Arrays.asList(Bridge.BUILDER_SETTERS).indexOf(what);
    Native.bridge().builderSet(handle.get(), i, value);
    return this;
  }

  /** The environment's name: its directory under the envs root. */
  public Builder name(String name) {
    return set("name", name);
  }

  /** The environment's directory (instead of envs root / name). */
  public Builder base(File dir) {
    return set("base", dir.getPath());
  }

  public Builder base(String dir) {
    return set("base", dir);
  }

  /** Where named environments go (default: APPOSE_ENVS_DIR, else ~/.local/share/appose). */
  public Builder envsRoot(File dir) {
    return set("envs_root", dir.getPath());
  }

  /** The environment's description (pixi.toml, pyproject.toml, environment.yml, requirements.txt). */
  public Builder content(String text) {
    return set("content", text);
  }

  public Builder file(File file) {
    return set("file", file.getPath());
  }

  public Builder url(String url) {
    return set("url", url);
  }

  /** The description's kind when it cannot be told from the content. */
  public Builder scheme(String scheme) {
    return set("scheme", scheme);
  }

  public Builder channels(String... channels) {
    for (String c : channels) set("channel", c);
    return this;
  }

  /** An extra command-line flag for the tool. */
  public Builder flag(String flag) {
    return set("flag", flag);
  }

  public Builder pythonVersion(String version) {
    return set("python_version", version);
  }

  /** Packages from the builder's default source. */
  public Builder include(String... packages) {
    for (String p : packages) set("package", p);
    return this;
  }

  public Builder conda(String... packages) {
    for (String p : packages) set("conda", p);
    return this;
  }

  public Builder pypi(String... packages) {
    for (String p : packages) set("pypi", p);
    return this;
  }

  public Builder pixiEnvironment(String name) {
    return set("pixi_environment", name);
  }

  /** custom: a directory of executables. */
  public Builder binPath(String dir) {
    return set("bin_path", dir);
  }

  /** custom: also search the system PATH. */
  public Builder appendSystemPath() {
    Native.bridge().builderAppendSystemPath(handle.get());
    return this;
  }

  /** Fetch tools from {@code <url>/<tool>/<version>/<file>} instead of their release hosts. */
  public Builder toolMirror(String url) {
    return set("tool_mirror", url);
  }

  /** The SHA-256 a downloaded tool archive must have (a mirror serving its own build). */
  public Builder toolSha256(String hex) {
    return set("tool_sha256", hex);
  }

  /** An environment variable for the tools and the environment's workers. */
  public Builder env(String key, String value) {
    Native.bridge().builderEnvVar(handle.get(), key, value);
    return this;
  }

  /** Receives (title, current, maximum) while building. */
  public Builder subscribeProgress(ProgressConsumer listener) {
    Native.bridge()
        .builderOnProgress(
            handle.get(),
            (t, c, m) -> {
              try {
                listener.accept(t, c, m);
              } catch (Throwable e) {
                System.err.println("libappose: a progress listener threw: " + e);
              }
            });
    return this;
  }

  public Builder subscribeOutput(Consumer<String> listener) {
    return lines(1, listener);
  }

  public Builder subscribeError(Consumer<String> listener) {
    return lines(2, listener);
  }

  private Builder lines(int kind, Consumer<String> listener) {
    Native.bridge()
        .builderOnLine(
            handle.get(),
            kind,
            line -> {
              try {
                listener.accept(line);
              } catch (Throwable e) {
                System.err.println("libappose: a build listener threw: " + e);
              }
            });
    return this;
  }

  /** Builds the environment, or reuses it when unchanged. */
  public Environment build() {
    return new Environment(Native.bridge().builderBuild(handle.get(), 0));
  }

  /** Deletes the environment and builds it again. */
  public Environment rebuild() {
    return new Environment(Native.bridge().builderBuild(handle.get(), 1));
  }

  /** Deletes the environment's directory. */
  public void delete() {
    Native.bridge().builderDelete(handle.get());
  }

  /** Build progress. */
  @FunctionalInterface
  public interface ProgressConsumer {
    void accept(String title, long current, long maximum);
  }
}
