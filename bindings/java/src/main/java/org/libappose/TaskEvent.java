package org.libappose;

import java.util.Collections;
import java.util.Map;
import org.libappose.internal.Json;

/** One event of a task: its launch, an update, or how it ended. */
public final class TaskEvent {
  public final Task task;
  public final ResponseType responseType;
  /** The task's status after this event. */
  public final TaskStatus status;
  /** An UPDATE's message, else null. */
  public final String message;
  /** An UPDATE's current amount, else null. */
  public final Long current;
  /** An UPDATE's maximum, else null. */
  public final Long maximum;
  /** The error text of a FAILURE or CRASH, else null. */
  public final String error;

  private final String infoJson;

  TaskEvent(
      Task task,
      ResponseType responseType,
      TaskStatus status,
      String message,
      Long current,
      Long maximum,
      String infoJson,
      String error) {
    this.task = task;
    this.responseType = responseType;
    this.status = status;
    this.message = message;
    this.current = current;
    this.maximum = maximum;
    this.infoJson = infoJson;
    this.error = error;
  }

  /** An UPDATE's {@code info} (exact values, see {@link Task#outputs()}), else empty. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> info() {
    if (infoJson == null) return Collections.emptyMap();
    Object v = Json.parse(infoJson);
    return v instanceof Map ? (Map<String, Object>) v : Collections.emptyMap();
  }

  @Override
  public String toString() {
    return "TaskEvent[" + responseType + ", " + status
        + (message != null ? ", " + message : "")
        + (current != null ? ", " + current + "/" + maximum : "") + "]";
  }
}
