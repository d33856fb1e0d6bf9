package org.diffxai.run;

import org.diffxai.core.UserException;

/**
 * The option string of a command is wrong: unknown key, missing or badly typed value, value outside the choices or the
 * range. A usage error; the message names the key and lists what is valid. The command line exits with code 2 on it.
 */
public final class InvalidKeyException extends UserException {
  private static final long serialVersionUID = 1L;

  public InvalidKeyException(String message) {
    super(message);
  }
}
