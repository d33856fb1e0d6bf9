package org.diffxai.fiji;

import ij.IJ;
import ij.ImagePlus;
import ij.Menus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import org.diffxai.core.UserException;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.StreamingTiffWriter.Compression;
import org.diffxai.io.ImagePlusPlanes;
import org.diffxai.run.ExportTrajectoryRun;
import org.scijava.command.Command;
import org.scijava.plugin.Plugin;

/**
 * The {@code Export Trajectory} menu entry, macro and command line: keys in {@link ExportTrajectoryRun.Request}. The
 * {@code bioformats} writer is Fiji's own exporter and runs here, in the Fiji layer.
 */
@Plugin(type = Command.class, label = ExportTrajectoryRun.COMMAND, headless = true, description = "Writes a"
    + " trajectory as one OME-TIFF file with every plane's diffusion timestep and how it was made.")
public class ExportTrajectoryCommand extends ExportTrajectoryRun.Request implements Command {

  /** The Bio-Formats command Fiji installs; its presence is what writer=bioformats needs. */
  static final String BIO_FORMATS_EXPORTER = "Bio-Formats Exporter";

  @Override
  public void run() {
    if (!"bioformats".equals(writer)) {
      ExportTrajectoryRun.run(this, Ui.env());
      return;
    }
    requireBioFormats();
    ExportTrajectoryRun.check(this, Ui.env());
    ImagePlus imp = ((ImagePlusPlanes) Ui.image("image", image)).image();
    bioFormatsExport(imp, target(), Compression.parse(compression));
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
