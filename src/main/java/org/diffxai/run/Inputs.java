package org.diffxai.run;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.diffxai.core.UserException;
import org.diffxai.io.ImagePlusPlanes;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.Planes;

/**
 * How a front-end resolves the value of an image key ({@code image}, {@code trajectory}, {@code condition}, ...): the
 * Fiji layer knows open windows (a title) and the active image; every front-end knows files.
 */
public interface Inputs {

  /**
   * The image {@code key=value} names.
   *
   * @param key the key, for messages
   * @param value a window title or a file; empty means the active image where the front-end has one
   * @throws UserException when there is no such image
   */
  Planes image(String key, String value);

  /** Files only: the command line, servers, tests, benchmarks. */
  Inputs FILES = (key, value) -> {
    String s = value == null ? "" : value.trim();
    if (s.isEmpty()) {
      throw new UserException("No " + key + " given. Set " + key + "= to an image file.");
    }
    return file(key, Paths.get(s));
  };

  /**
   * An image file as planes (TIFFs read plane by plane from disk).
   *
   * @throws UserException when the file does not exist or cannot be read as an image
   */
  static Planes file(String key, Path p) {
    if (!Files.exists(p)) {
      throw new UserException(key + "=" + p + " is neither an open image nor an existing file. Open the image"
          + " first or give the path of an image file.");
    }
    Path abs = p.toAbsolutePath().normalize();
    return new ImagePlusPlanes(ImageReaders.openVirtual(abs), abs.toString());
  }
}
