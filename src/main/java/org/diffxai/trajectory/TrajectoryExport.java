package org.diffxai.trajectory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.OmeTiffWriter;
import org.diffxai.io.Planes;
import org.diffxai.io.StreamingTiffWriter.Compression;

/** Writes a trajectory image (in memory or a virtual stack on disk) as OME-TIFF, plane by plane. */
public final class TrajectoryExport {

  private TrajectoryExport() {}

  /**
   * Writes the planes of {@code imp}, a trajectory ({@link Trajectory#of}), to {@code target} as OME-TIFF with
   * {@link Trajectory#omeTiffWriter}'s metadata, the image's Info, slice labels and, when calibrated, physical pixel
   * size. Reports progress per plane and can be cancelled; a failed or cancelled export leaves no file.
   *
   * @throws UserException if the image is not a trajectory or the target is not a writable {@code .ome.tif} path
   */
  public static Path toOmeTiff(Planes imp, Path target, Compression compression, Progress progress) {
    checkTarget(target);
    Trajectory tr = Trajectory.of(imp);
    OmeTiffWriter w = tr.omeTiffWriter(target, compression);
    boolean ok = false;
    try {
      String info = imp.properties().get("Info");
      if (info != null) w.info(info);
      double[] size = imp.pixelSize();
      if (size != null) w.physicalSize(size[0], size[1], imp.unit());
      int n = tr.planeCount();
      for (int p = 0; p < n; p++) {
        progress.checkCancelled();
        if (p % 16 == 0) progress.report("Exporting plane " + (p + 1) + "/" + n, p / (double) n);
        w.writePlane(imp.plane(p), imp.label(p));
      }
      w.close();
      ok = true;
    } finally {
      if (!ok) w.abort();
    }
    progress.report("Exported " + tr.planeCount() + " planes to " + target, 1);
    return target;
  }

  /** An OME-TIFF must be named {@code *.ome.tif} or {@code *.ome.tiff}, and not be a folder. */
  public static void checkTarget(Path target) {
    String name = target.getFileName() == null ? "" : target.getFileName().toString().toLowerCase(Locale.ROOT);
    if (Files.isDirectory(target)) {
      throw new UserException("output=" + target + " is a folder. Give the file to write, e.g. " + target
          .resolve("trajectory.ome.tif") + ".");
    }
    if (!name.endsWith(".ome.tif") && !name.endsWith(".ome.tiff")) {
      throw new UserException("output=" + target + " does not end in .ome.tif. Name the OME-TIFF file "
          + "*.ome.tif (OME readers recognise it by that name).");
    }
  }
}
