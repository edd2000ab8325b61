package org.libappose;

import java.io.File;
import java.net.URISyntaxException;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The jars the GroovyWorker needs, found as appose-java finds them: where
 * this JVM loaded appose-java's GroovyWorker, Groovy and groovy-json (and
 * their dependencies) from, when they are on the class path. Looked up by
 * name, so this binding does not depend on appose-java.
 */
final class GroovyJars {
  private static final String[] CLASSES = {
    "org.apposed.appose.GroovyWorker",
    "org.apache.groovy.util.ScriptRunner",
    "groovy.json.JsonOutput",
    "org.apache.ivy.Ivy",
    "com.sun.jna.Pointer",
    "com.sun.jna.platform.linux.LibRT",
  };

  private GroovyJars() {}

  static List<String> find() {
    Set<String> out = new LinkedHashSet<>();
    for (String name : CLASSES) {
      try {
        Class<?> c = Class.forName(name, false, GroovyJars.class.getClassLoader());
        CodeSource src = c.getProtectionDomain().getCodeSource();
        if (src != null && src.getLocation() != null) {
          out.add(new File(src.getLocation().toURI()).getCanonicalPath());
        }
      } catch (ClassNotFoundException | LinkageError | URISyntaxException | java.io.IOException e) {
        // Not on this class path: the library's own search decides.
      }
    }
    return new ArrayList<>(out);
  }
}
