package org.diffxai.fiji;

import org.diffxai.core.UserException;

/**
 * The option string of a command is wrong: unknown key, missing or badly typed value, value outside the choices or the
 * range. A usage error; the message names the key and lists what is valid. The command line exits with code 2 on it.
 */
public final class MacroOptionsException extends UserException {
  private static final long serialVersionUID = 1L;

  public MacroOptionsException(String message) {
    super(message);
  }
}
