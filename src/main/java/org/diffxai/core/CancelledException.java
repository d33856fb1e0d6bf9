package org.diffxai.core;

/** Thrown when the user cancelled a run; front-ends report it as "Cancelled" and leave no partial output. */
public final class CancelledException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CancelledException() {
    super("Cancelled by the user.");
  }
}
