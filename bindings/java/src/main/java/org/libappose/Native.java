package org.libappose;

import org.libappose.internal.Bridge;
import org.libappose.internal.Bridges;

/** The bridge in use (see {@link Appose#bridge()}). */
final class Native {
  private Native() {}

  static Bridge bridge() {
    return Bridges.get();
  }
}
