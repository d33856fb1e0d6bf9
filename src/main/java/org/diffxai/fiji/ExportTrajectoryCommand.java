package org.diffxai.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.Menus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Hashtable;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.StreamingTiffWriter.Compression;
import org.diffxai.trajectory.Trajectory;
import org.diffxai.trajectory.TrajectoryExport;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Writes a trajectory (the Trajectory hyperstack of Synthesize, or its trajectory.tif / trajectory.ome.tif) as an
 * OME-TIFF with every plane's diffusion timestep and the run's provenance: the {@code Export Trajectory} menu entry,
 * macro and CLI command.
 */
@Plugin(type = Command.class, label = "Export Trajectory", headless = true)
public class ExportTrajectoryCommand implements Command {

  /** The Bio-Formats command Fiji installs; its presence is what writer=bioformats needs. */
  static final String BIO_FORMATS_EXPORTER = "Bio-Formats Exporter";

  @Parameter(description = "The trajectory: an open image's title or a trajectory file (trajectory.tif,"
      + " trajectory.ome.tif); empty: the active image", required = false, persist = false)
  String image = "";

  @Parameter(description = "The OME-TIFF file to write (its name ends in .ome.tif)", persist = false)
  String output = "";

  @Parameter(description = "Lossless compression of the planes", choices = {"none", "deflate"}, persist = false)
  String compression = "none";

  @Parameter(description = "diffxai: this plugin's writer (per-plane timesteps, provenance); bioformats: Fiji's"
      + " Bio-Formats Exporter (only inside Fiji; Bio-Formats' own metadata)", choices = {"diffxai", "bioformats"},
      persist = false)
  String writer = "diffxai";

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    if (output == null || output.trim().isEmpty()) {
      throw new UserException("No output given. Set output= to the OME-TIFF file to write, e.g. output=[/data/"
          + "trajectory.ome.tif].");
    }
    Path target = Paths.get(output.trim()).toAbsolutePath().normalize();
    Compression c = Compression.parse(compression);
    if ("bioformats".equals(writer)) {
      requireBioFormats();
      TrajectoryExport.checkTarget(target);
      ImagePlus imp = Ui.openImage(image, "image");
      Trajectory.of(imp); // the same check as the default writer: only trajectories are exported
      bioFormatsExport(imp, target, c);
    } else {
      TrajectoryExport.toOmeTiff(Ui.openImage(image, "image"), target, c, Ui.progress());
    }
  }

  private static void requireBioFormats() {
    Hashtable<?, ?> commands = Ui.headless() ? null : Menus.getCommands();
    if (commands == null || !commands.containsKey(BIO_FORMATS_EXPORTER)) {
      throw new UserException("writer=bioformats needs Fiji's \"" + BIO_FORMATS_EXPORTER + "\", which is not "
          + "available here (it exists only inside Fiji, not headless or in plain ImageJ). Use writer=diffxai (the "
          + "default), which also writes every plane's timestep.");
    }
  }

  /**
   * Runs the Bio-Formats Exporter into a temporary folder beside the target (its file name decides the format), then
   * moves the result over the target atomically. Untested here: Bio-Formats cannot be installed on the build machines.
   */
  private static void bioFormatsExport(ImagePlus imp, Path target, Compression c) {
    AtomicFiles.writeFile(target, tmp -> {
      Path dir = Files.createTempDirectory(tmp.getParent(), ".bioformats");
      try {
        Path file = dir.resolve(target.getFileName());
        IJ.run(imp, BIO_FORMATS_EXPORTER, "save=[" + file + "] export compression="
            + (c == Compression.DEFLATE ? "zlib" : "Uncompressed"));
        if (!Files.isRegularFile(file)) throw new IOException("the Bio-Formats Exporter wrote no file");
        Files.move(file, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      } finally {
        AtomicFiles.deleteRecursively(dir);
      }
    });
  }
}
