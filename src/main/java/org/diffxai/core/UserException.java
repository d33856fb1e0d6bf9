package org.diffxai.core;

/**
 * A problem with the user's input. The message names the problem and the remedy in one or two sentences; front-ends
 * show only the message (never a stack trace).
 */
public class UserException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UserException(String message) {
    super(message);
  }

  public UserException(String message, Throwable cause) {
    super(message, cause);
  }
}
