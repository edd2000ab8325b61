package org.libappose;

/** A task that did not complete: failed, canceled or crashed. */
public final class TaskException extends ApposeException {
  private static final long serialVersionUID = 1L;

  private final transient Task task;

  TaskException(Task task) {
    super(statusOf(task.status()), messageOf(task));
    this.task = task;
  }

  private static int statusOf(TaskStatus s) {
    switch (s) {
      case CANCELED:
        return TASK_CANCELED;
      case CRASHED:
        return TASK_CRASHED;
      default:
        return TASK_FAILED;
    }
  }

  private static String messageOf(Task task) {
    String error = task.error();
    return error != null ? error : "the task ended " + task.status();
  }

  public Task task() {
    return task;
  }
}
