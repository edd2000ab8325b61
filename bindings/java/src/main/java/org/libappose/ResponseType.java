package org.libappose;

/** What a {@link TaskEvent} reports, as the worker protocol names it. */
public enum ResponseType {
  LAUNCH,
  UPDATE,
  COMPLETION,
  CANCELATION,
  FAILURE,
  CRASH;

  /** Whether this event ends its task. */
  public boolean isTerminal() {
    return this != LAUNCH && this != UPDATE;
  }

  static ResponseType of(int code) {
    ResponseType[] all = values();
    return code >= 0 && code < all.length ? all[code] : CRASH;
  }
}
