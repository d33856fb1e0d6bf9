package org.diffxai.fiji;

import ij.ImagePlus;
import ij.gui.Plot;
import ij.measure.ResultsTable;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Csv;
import org.diffxai.trajectory.Trajectory;
import org.diffxai.trajectory.TrajectoryProfile;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Per-step profile of a trajectory (how the image forms): a table with one row per kept step and a plot against the
 * timestep; the {@code Trajectory Profile} menu entry, macro and CLI command.
 */
@Plugin(type = Command.class, label = "Trajectory Profile", headless = true)
public class TrajectoryProfileCommand implements Command {

  static final String TABLE_FILE = "trajectory_profile.csv";
  static final String PLOT_FILE = "trajectory_profile.png";

  @Parameter(description = "The trajectory: an open image's title or a trajectory file (trajectory.tif,"
      + " trajectory.ome.tif); empty: the active image", required = false, persist = false)
  String image = "";

  @Parameter(description = "1-based sample to profile; 0 = all samples together", min = "0", persist = false)
  int sample = 0;

  @Parameter(description = "Optional output directory for trajectory_profile.csv and trajectory_profile.png",
      required = false, persist = false)
  String output = "";

  @Parameter(type = ItemIO.OUTPUT)
  ResultsTable profile;

  @Parameter(type = ItemIO.OUTPUT)
  ImagePlus plot;

  @Override
  public void run() {
    CommandSpec.of(getClass()).validate(this);
    Path dir = output == null || output.trim().isEmpty() ? null : Paths.get(output.trim()).toAbsolutePath();
    if (dir != null) AtomicFiles.ensureDirectory(dir);
    ImagePlus imp = Ui.openImage(image, "image");
    Trajectory tr = Trajectory.of(imp);
    profile = TrajectoryProfile.compute(imp, tr, sample, Ui.progress());
    String title = "Trajectory profile of " + imp.getTitle() + (sample == 0 ? "" : ", sample " + sample);
    Plot p = TrajectoryProfile.plot(profile, title);
    plot = p.getImagePlus();
    if (dir != null) {
      AtomicFiles.writeString(dir.resolve(TABLE_FILE), Csv.of(profile));
      TrajectoryProfile.savePng(p, dir.resolve(PLOT_FILE));
    }
    Ui.show(profile, "Trajectory Profile");
    Ui.show(p);
  }
}
