package org.diffxai.run;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.diffxai.core.Chart;
import org.diffxai.core.Table;
import org.diffxai.io.Planes;
import org.diffxai.trajectory.Trajectory;
import org.diffxai.trajectory.TrajectoryProfile;
import org.scijava.plugin.Parameter;

/**
 * Trajectory Profile: how the images of a trajectory formed, one row per kept step ({@link TrajectoryProfile}), and a
 * plot of the bounded columns against the timestep; with an output folder {@code trajectory_profile.csv},
 * {@code trajectory_profile.png} and {@code trajectory_profile.json}.
 */
public final class TrajectoryProfileRun {
  public static final String COMMAND = "Trajectory Profile";
  public static final String TABLE_FILE = "trajectory_profile.csv";
  public static final String PLOT_FILE = "trajectory_profile.png";
  public static final String PROVENANCE_FILE = "trajectory_profile.json";

  /** The keys of Trajectory Profile. */
  public static class Request extends OutputKeys {
    @Parameter(style = "image", required = false, persist = false, description = "The trajectory: an open image"
        + " or a trajectory file (trajectory.tif, trajectory.ome.tif); empty = the active image")
    public String image = "";

    @Parameter(min = "0", persist = false, description = "Sample to profile (1, 2, ...); 0 = all samples together")
    public int sample = 0;
  }

  /** What a run produced. */
  public static final class Result {
    public final Table table;
    public final Chart chart;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(Table table, Chart chart, Map<String, String> provenance, List<Path> files) {
      this.table = table;
      this.chart = chart;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      return new Outputs().table("profile", "Trajectory Profile", table).chart("plot", chart);
    }
  }

  private TrajectoryProfileRun() {}

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    try (OutputFolder out = OutputFolder.open(r, COMMAND, TABLE_FILE, PLOT_FILE, PROVENANCE_FILE)) {
      Planes imp = env.inputs.image("image", r.image);
      Trajectory tr = Trajectory.of(imp);
      Table table = TrajectoryProfile.compute(imp, tr, r.sample, env.progress);
      Chart chart = TrajectoryProfile.chart(table, "Trajectory profile of " + imp.name()
          + (r.sample == 0 ? "" : ", sample " + r.sample));
      Map<String, String> prov = Provenance.of(COMMAND, r);
      prov.put("trajectory", imp.name());
      for (Map.Entry<String, String> e : tr.provenance().entrySet()) prov.put("trajectory." + e.getKey(), e.getValue());
      if (out.active()) {
        out.csv(TABLE_FILE, table);
        out.png(PLOT_FILE, chart);
        out.json(PROVENANCE_FILE, prov);
      }
      return new Result(table, chart, prov, out.commit());
    }
  }
}
