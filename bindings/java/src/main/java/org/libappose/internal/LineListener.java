package org.libappose.internal;

/** A line of output (a build tool's, or a service's debug messages). */
public interface LineListener {
  void onLine(String line);
}
