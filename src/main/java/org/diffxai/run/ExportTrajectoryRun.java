package org.diffxai.run;

import java.nio.file.Path;
import java.nio.file.Paths;
import org.diffxai.core.UserException;
import org.diffxai.io.Planes;
import org.diffxai.io.StreamingTiffWriter.Compression;
import org.diffxai.trajectory.Trajectory;
import org.diffxai.trajectory.TrajectoryExport;
import org.scijava.plugin.Parameter;

/**
 * Export Trajectory: writes a trajectory (Synthesize's Trajectory hyperstack, trajectory.tif or trajectory.ome.tif) as
 * one OME-TIFF with every plane's diffusion timestep and the run's provenance ({@link TrajectoryExport}; the layout is
 * in docs/ome-tiff.md). The {@code bioformats} writer exists only inside Fiji and is run by the Fiji layer.
 */
public final class ExportTrajectoryRun {
  public static final String COMMAND = "Export Trajectory";

  /** The keys of Export Trajectory. */
  public static class Request {
    @Parameter(style = "image", required = false, persist = false, description = "The trajectory: an open image"
        + " or a trajectory file (trajectory.tif, trajectory.ome.tif); empty = the active image")
    public String image = "";

    @Parameter(style = "save", persist = false, description = "The OME-TIFF file to write (its name ends in .ome.tif)")
    public String output = "";

    @Parameter(choices = {"none", "deflate"}, persist = false, description = "Lossless compression of the planes")
    public String compression = "none";

    @Parameter(choices = {"diffxai", "bioformats"}, persist = false, description = "Writer to use: diffxai"
        + " = this plugin's writer (per-plane timesteps, provenance); bioformats = Fiji's Bio-Formats Exporter (only"
        + " inside Fiji)")
    public String writer = "diffxai";

    /** The file to write. */
    public Path target() {
      if (output == null || output.trim().isEmpty()) {
        throw new UserException("No output given. Set output= to the OME-TIFF file to write, e.g. output=[/data/"
            + "trajectory.ome.tif].");
      }
      Path target = Paths.get(output.trim()).toAbsolutePath().normalize();
      TrajectoryExport.checkTarget(target);
      return target;
    }
  }

  private ExportTrajectoryRun() {}

  /** Writes the OME-TIFF with this plugin's writer; returns the file. */
  public static Path run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    Path target = r.target();
    Planes imp = env.inputs.image("image", r.image);
    return TrajectoryExport.toOmeTiff(imp, target, Compression.parse(r.compression), env.progress);
  }

  /** The trajectory an export would write (the check both writers make first). */
  public static Trajectory check(Request r, Env env) {
    r.target();
    return Trajectory.of(env.inputs.image("image", r.image));
  }
}
