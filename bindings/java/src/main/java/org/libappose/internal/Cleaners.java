package org.libappose.internal;

import java.lang.ref.Cleaner;

/** The binding's one cleaner thread: handles and mappings freed when unreachable. */
public final class Cleaners {
  private Cleaners() {}

  public static final Cleaner CLEANER = Cleaner.create();
}
