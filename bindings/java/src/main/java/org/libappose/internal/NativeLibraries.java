package org.libappose.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Where libappose and the JNI glue are: the system properties {@code
 * libappose.library} and {@code libappose.jni} (paths), else the copies the
 * jar carries for this platform, unpacked once per process into a private
 * temporary directory that is removed at exit.
 */
public final class NativeLibraries {
  private static Path unpacked;

  private NativeLibraries() {}

  /** "linux-x86_64" and the like: the jar's directory for this platform. */
  public static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (arch.equals("amd64")) arch = "x86_64";
    if (arch.equals("arm64")) arch = "aarch64";
    return (os.contains("linux") ? "linux" : os.replace(' ', '_')) + "-" + arch;
  }

  /** libappose itself. */
  public static Path library() {
    return find("libappose.library", "libappose.so");
  }

  /** The JNI glue. */
  public static Path jniGlue() {
    return find("libappose.jni", "libappose_jni.so");
  }

  private static Path find(String property, String file) {
    String named = System.getProperty(property);
    if (named != null && !named.isEmpty()) {
      Path p = Paths.get(named).toAbsolutePath();
      if (!Files.isRegularFile(p)) {
        throw new UnsatisfiedLinkError(property + " names " + p + ", which is not a file");
      }
      return p;
    }
    return unpack(file);
  }

  private static synchronized Path unpack(String file) {
    String resource = "/native/" + platform() + "/" + file;
    try (InputStream in = NativeLibraries.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new UnsatisfiedLinkError(
            "this jar carries no " + resource + " for " + platform()
                + ": set the system property libappose.library (and libappose.jni) to the"
                + " libraries' paths");
      }
      if (unpacked == null) {
        unpacked = Files.createTempDirectory("libappose-");
        Path dir = unpacked;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir), "libappose-unpacked"));
      }
      Path out = unpacked.resolve(file);
      if (!Files.exists(out)) Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
      return out;
    } catch (IOException e) {
      throw new UnsatisfiedLinkError("cannot unpack " + resource + ": " + e);
    }
  }

  private static void deleteTree(Path dir) {
    // The mapped libraries stay usable after their files are removed.
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a temporary directory.
    }
  }
}
