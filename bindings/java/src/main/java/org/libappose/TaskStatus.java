package org.libappose;

/** Where a {@link Task} is in its life. */
public enum TaskStatus {
  INITIAL,
  QUEUED,
  RUNNING,
  COMPLETE,
  CANCELED,
  FAILED,
  CRASHED;

  /** Whether the task has finished, one way or another. */
  public boolean isFinished() {
    return ordinal() >= COMPLETE.ordinal();
  }

  static TaskStatus of(int code) {
    TaskStatus[] all = values();
    return code >= 0 && code < all.length ? all[code] : CRASHED;
  }
}
