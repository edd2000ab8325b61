package org.libappose;

/**
 * A libappose call that failed: the C ABI's status code and the library's
 * message (for a failed task, the worker's traceback).
 */
public class ApposeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The status codes of the C ABI ({@code APPOSE_STATUS_*}). */
  public static final int NULL_ARGUMENT = 1;
  public static final int INVALID_UTF8 = 2;
  public static final int INVALID_ARGUMENT = 3;
  public static final int INVALID_HANDLE = 4;
  public static final int INVALID_JSON = 5;
  public static final int INVALID_STATE = 6;
  public static final int IO = 7;
  public static final int NOT_FOUND = 8;
  public static final int TIMEOUT = 9;
  public static final int REENTRANT = 10;
  public static final int TASK_FAILED = 11;
  public static final int TASK_CANCELED = 12;
  public static final int TASK_CRASHED = 13;
  public static final int SERVICE_CLOSED = 14;
  public static final int PANIC = 15;
  public static final int ALREADY_EXISTS = 16;
  public static final int BACKLOG_FULL = 17;
  public static final int LISTENER_BUSY = 18;

  private final int status;

  public ApposeException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The C ABI's status code ({@link #TIMEOUT}, {@link #NOT_FOUND}, ...). */
  public int status() {
    return status;
  }
}
