package org.libappose.internal;

/** Build progress: a title, the current amount and the maximum (0: unknown). */
public interface ProgressListener {
  void onProgress(String title, long current, long maximum);
}
