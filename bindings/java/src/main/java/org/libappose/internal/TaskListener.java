package org.libappose.internal;

/** A task's events as the bridges deliver them (on a library thread). */
public interface TaskListener {
  void onEvent(
      int responseType,
      int taskStatus,
      String message,
      boolean hasCurrent,
      long current,
      boolean hasMaximum,
      long maximum,
      String infoJson,
      String error);
}
