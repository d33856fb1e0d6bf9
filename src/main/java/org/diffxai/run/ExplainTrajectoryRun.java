package org.diffxai.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.attribution.AttributionSettings;
import org.diffxai.core.Chart;
import org.diffxai.core.ClassNames;
import org.diffxai.core.KeptStep;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.FloatStack;
import org.diffxai.io.OmeTiffWriter;
import org.diffxai.io.Planes;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.metrics.PrototypeAttribution;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.run.ResultImage.Look;
import org.diffxai.trajectory.Trajectory;
import org.scijava.plugin.Parameter;

/**
 * Explain Trajectory: a prototype network explains the predicted clean image x̂₀ of every kept step of a denoising
 * trajectory. For each sample, the class followed is the final x̂₀'s prediction (or the given target) and the
 * prototypes followed are the final x̂₀'s top prototypes for that class; at every kept step the table records the
 * prediction, the probability of the followed class and each followed prototype's similarity (its score), and the
 * heatmap hyperstack holds x̂₀, the summed contribution map and the followed prototypes' similarity maps. The
 * decision step is the first kept step from which the predicted class equals the final one and stays so.
 *
 * <p>With an output folder: {@code explain_trajectory.csv}, {@code explain_trajectory.json},
 * {@code explain_trajectory_sample_<k>.png}, {@code heatmaps.tif} (ImageJ hyperstack) and {@code heatmaps.ome.tif}.
 */
public final class ExplainTrajectoryRun {
  public static final String COMMAND = "Explain Trajectory";
  /** The decision step of a sample whose last x̂₀ the network flags out of distribution. */
  public static final String UNDECIDED = "undecided";
  public static final String TABLE_FILE = "explain_trajectory.csv";
  public static final String PROVENANCE_FILE = "explain_trajectory.json";
  public static final String HEATMAPS_FILE = "heatmaps.tif";
  public static final String HEATMAPS_OME_FILE = "heatmaps.ome.tif";
  /** Heatmap channels before the followed prototypes' similarity maps {@code top1, top2, ...}. */
  public static final String CONTRIBUTION = "contribution";
  private static final int[] PALETTE = {0xd62728, 0x1f77b4, 0x2ca02c, 0x9467bd, 0xff7f0e, 0x17becf, 0x8c564b,
      0xe377c2};

  /** The keys of Explain Trajectory. */
  public static class Request extends ModelKeys {
    @Parameter(style = "image", required = false, persist = false, description = "The trajectory: an open image"
        + " or a trajectory file (trajectory.tif, trajectory.ome.tif); empty = the active image")
    public String trajectory = "";

    @Parameter(style = "model:prototypes", persist = false,
        description = "Prototype network bundle folder, or sample-<x> for a bundled one")
    public String model = "sample-ppnet";

    @Parameter(min = "1", persist = false, description = "Prototypes followed per sample: the final x0_pred's top"
        + " prototypes")
    public int top = 3;

    @Parameter(required = false, persist = false,
        description = "Class name or index to follow; empty = each sample's final predicted class")
    public String target = "";

    @Parameter(min = "0", persist = false, description = "Sample to explain (1, 2, ...); 0 = all samples")
    public int sample = 0;

    /**
     * Unlike Explain with Prototypes, upsample by default: the gradient kinds cost 32 gradient passes per prototype,
     * kept step and sample (docs/attributions.md).
     */
    @Parameter(choices = {"upsample", "ig", "gradient", "smoothgrad"}, persist = false, description = "Prototype"
        + " map: upsample (the latent similarity, fast; default here), or ig, gradient, smoothgrad as in Explain with"
        + " Prototypes (about 32 gradient passes per prototype, kept step and sample)")
    public String map = "upsample";
  }

  /** What a run produced. */
  public static final class Result {
    public final Table table;
    /** One plot per sample. */
    public final List<Chart> plots;
    /** Channels x0_pred, contribution, top1..topN; slices = samples; frames = kept steps. */
    public final ResultImage heatmaps;
    /** Per explained sample (in order): the kept index of the decision step. */
    public final int[] decisionKept;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(Table table, List<Chart> plots, ResultImage heatmaps, int[] decisionKept, Map<String, String> provenance,
        List<Path> files) {
      this.table = table;
      this.plots = plots;
      this.heatmaps = heatmaps;
      this.decisionKept = decisionKept;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      Outputs o = new Outputs().table("table", "Explain Trajectory", table).image(heatmaps);
      for (int i = 0; i < plots.size(); i++) o.chart(i == 0 ? "plots" : "plots_" + (i + 1), plots.get(i));
      return o;
    }
  }

  private ExplainTrajectoryRun() {}

  /**
   * The first kept step from which the prediction equals the last one and stays so: the smallest k with
   * {@code predicted[j] == predicted[last]} for every j ≥ k.
   */
  public static int decisionIndex(int[] predicted) {
    return decisionIndex(predicted, new boolean[predicted.length]);
  }

  /**
   * As {@link #decisionIndex(int[])}, but a step whose x̂₀ the network flags out of distribution ({@code ood}) is
   * undecided: the smallest k with the final prediction and no flag at every j ≥ k; {@code predicted.length} (no
   * decision) when the last step is flagged.
   */
  public static int decisionIndex(int[] predicted, boolean[] ood) {
    if (predicted.length == 0) throw new IllegalArgumentException("no steps");
    int last = predicted[predicted.length - 1];
    int k = predicted.length;
    while (k > 0 && predicted[k - 1] == last && !ood[k - 1]) k--;
    return k;
  }

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    try (LoadedModel<PrototypeClassifier> m = Models.prototypes(r.model, r.deviceChoice(), 32, r.trust,
        env.progress)) {
      return run(r, m, env);
    }
  }

  /** Explains with an opened prototype network (the caller closes it). */
  public static Result run(Request r, LoadedModel<PrototypeClassifier> m, Env env) {
    RequestKeys.of(Request.class).validate(r);
    Progress progress = env.progress;
    Planes source = env.inputs.image("trajectory", r.trajectory);
    String name = source.name();
    Trajectory tr = Trajectory.of(source);
    PrototypeClassifier pc = m.get();
    int x0 = tr.channel(Trajectory.X0_PRED, 0);
    if (x0 < 0) {
      throw new UserException("\"" + name + "\" has no x0_pred channel to explain. Use a trajectory as"
          + " Synthesize writes it (keep_every > 0).");
    }
    if (tr.modelChannels() != 1) {
      throw new UserException("\"" + name + "\" has " + tr.modelChannels() + " model channels; the"
          + " prototype explanations work on gray (1-channel) images. Use a trajectory of a 1-channel denoiser.");
    }
    if (r.sample < 0 || r.sample > tr.samples()) {
      throw new UserException("sample=" + r.sample + " is out of range: the trajectory has " + tr.samples()
          + " sample(s). Use 1 to " + tr.samples() + ", or 0 for all.");
    }
    int p = pc.prototypes();
    if (r.top < 1 || r.top > p) {
      throw new UserException("top=" + r.top + " but model " + m.name() + " has " + p + " prototypes. Use top=1 to " + p
          + ".");
    }
    PrototypeMapKind kind = PrototypeMapKind.of(r.map);
    PrototypeExplainer explainer = new PrototypeExplainer(pc, m.name()).mapKind(kind, new AttributionSettings());
    List<String> classes = pc.classNames();
    int fixed = ClassNames.target(classes, r.target, m.name());
    int first = r.sample == 0 ? 0 : r.sample - 1;
    int n = r.sample == 0 ? tr.samples() : 1;
    List<KeptStep> steps = tr.steps();
    int kk = steps.size();
    int w = tr.width(), h = tr.height(), top = r.top;

    // The final x̂₀ decides the class and the prototypes each sample is followed by.
    progress.report("Explaining the final x0_pred", 0);
    int[] followed = new int[n];
    int[][] protos = new int[n][top];
    Explanation[] last = explainStep(explainer, source, tr, x0, first, n, kk - 1, fixed < 0 ? null : fill(n, fixed),
        p, m.name());
    for (int s = 0; s < n; s++) {
      followed[s] = last[s].target;
      for (int j = 0; j < top; j++) protos[s][j] = last[s].top.get(j).prototype;
    }

    List<String> kinds = new ArrayList<>(List.of(Trajectory.X0_PRED, CONTRIBUTION));
    for (int j = 1; j <= top; j++) kinds.add("top" + j);
    Map<String, String> prov = provenance(r, m, name, tr, n, first);
    Trajectory heat = new Trajectory(w, h, kinds, 1, n, steps, prov);
    int[][] predicted = new int[n][kk];
    boolean[][] ood = new boolean[n][kk];
    double[][] prob = new double[n][kk];
    double[][][] sim = new double[n][kk][top];

    List<float[]> memory = new ArrayList<>();
    List<String> memoryLabels = new ArrayList<>();
    try (OutputFolder out = OutputFolder.open(r, COMMAND, TABLE_FILE, PROVENANCE_FILE, HEATMAPS_FILE,
        HEATMAPS_OME_FILE, "explain_trajectory_*.png")) {
      StreamingTiffWriter ij = out.active() ? heat.imagejWriter(out.path(HEATMAPS_FILE)) : null;
      OmeTiffWriter ome = null;
      try {
        if (out.active()) ome = heat.omeTiffWriter(out.path(HEATMAPS_OME_FILE), StreamingTiffWriter.Compression.DEFLATE);
        for (int k = 0; k < kk; k++) {
          progress.checkCancelled();
          progress.report(String.format(Locale.ROOT, "Explaining x0_pred of kept step %d/%d (t=%d)", k + 1, kk,
              steps.get(k).timestep), (k + 1.0) / (kk + 1));
          Explanation[] e = k == kk - 1 ? last : explainStep(explainer, source, tr, x0, first, n, k, followed, p,
              m.name());
          for (int s = 0; s < n; s++) {
            predicted[s][k] = e[s].predicted;
            ood[s][k] = e[s].ood;
            prob[s][k] = e[s].probabilities[followed[s]];
            List<float[]> planes = new ArrayList<>();
            planes.add(source.plane(tr.planeIndex(x0, first + s, k)));
            planes.add(PrototypeAttribution.map(e[s], w, h));
            for (int j = 0; j < top; j++) {
              Explanation.Contribution c = contribution(e[s], protos[s][j]);
              sim[s][k][j] = c.similarity;
              planes.add(c.map);
            }
            for (int c = 0; c < planes.size(); c++) {
              String label = String.format(Locale.ROOT, "%s sample %d step %d t=%d abar=%.6g%s", kinds.get(c),
                  first + s + 1, steps.get(k).stepIndex + 1, steps.get(k).timestep, steps.get(k).alphaCumprod,
                  c >= 2 ? " prototype " + protos[s][c - 2] : "");
              if (!out.active()) {
                memory.add(planes.get(c));
                memoryLabels.add(label);
              }
              if (ij != null) ij.writePlane(planes.get(c), label);
              if (ome != null) ome.writePlane(planes.get(c), label);
            }
          }
        }
        if (ij != null) ij.close();
        if (ome != null) ome.close();
      } finally {
        if (ij != null) ij.abort();
        if (ome != null) ome.abort();
      }
      int[] decisionKept = new int[n];
      for (int s = 0; s < n; s++) decisionKept[s] = decisionIndex(predicted[s], ood[s]);
      Table table = table(tr, first, n, top, protos, followed, predicted, ood, prob, sim, decisionKept, classes);
      List<Chart> plots = plots(tr, first, n, top, protos, followed, prob, sim, decisionKept, classes, name);
      if (out.active()) {
        out.csv(TABLE_FILE, table);
        out.json(PROVENANCE_FILE, prov);
        for (int s = 0; s < plots.size(); s++) out.png("explain_trajectory_sample_" + (first + s + 1) + ".png",
            plots.get(s));
      }
      List<Path> files = out.commit();
      Look[] looks = new Look[kinds.size()];
      Arrays.fill(looks, kind == PrototypeMapKind.IG ? Look.SIGNED : Look.HEAT);
      looks[0] = Look.GREY;
      looks[1] = Look.SIGNED;
      ResultImage heatmaps = out.active()
          ? ResultImage.ofFile("heatmaps", "Heatmaps", out.target(HEATMAPS_FILE), kinds.size(),
              heat.imageProperties(), looks)
          : ResultImage.of("heatmaps", "Heatmaps", new FloatStack(w, h, kinds.size(), n, kk,
              memory.toArray(new float[0][]), memoryLabels.toArray(new String[0])), heat.imageProperties(), looks);
      progress.report("Explained " + kk + " kept steps of " + n + " sample" + (n == 1 ? "" : "s"), 1);
      return new Result(table, plots, heatmaps, decisionKept, prov, files);
    }
  }

  private static int[] fill(int n, int v) {
    int[] a = new int[n];
    Arrays.fill(a, v);
    return a;
  }

  /**
   * Explanations (all prototypes ranked) of x̂₀ at kept step k for samples first..first+n−1, each for its class in
   * {@code targets} (null: the predicted class), one batched call per class.
   */
  private static Explanation[] explainStep(PrototypeExplainer explainer, Planes source, Trajectory tr, int x0,
      int first, int n, int k, int[] targets, int p, String model) {
    Explanation[] out = new Explanation[n];
    List<Integer> groups = new ArrayList<>();
    if (targets == null) groups.add(-1);
    else for (int t : targets) if (!groups.contains(t)) groups.add(t);
    for (int g : groups) {
      List<Integer> idx = new ArrayList<>();
      for (int s = 0; s < n; s++) if (targets == null || targets[s] == g) idx.add(s);
      float[][] planes = new float[idx.size()][];
      for (int i = 0; i < planes.length; i++) planes[i] = source.plane(tr.planeIndex(x0, first + idx.get(i), k));
      FloatStack stack = new FloatStack(tr.width(), tr.height(), 1, planes.length, 1, planes, null);
      List<Explanation> e = explainer.explain(stack, p, g, 32, "x0_pred", Progress.NONE);
      for (int i = 0; i < planes.length; i++) out[idx.get(i)] = e.get(i);
    }
    return out;
  }

  private static Explanation.Contribution contribution(Explanation e, int prototype) {
    for (Explanation.Contribution c : e.top) if (c.prototype == prototype) return c;
    throw new IllegalStateException("prototype " + prototype + " not ranked");
  }

  static Table table(Trajectory tr, int first, int n, int top, int[][] protos, int[] followed,
      int[][] predicted, boolean[][] ood, double[][] prob, double[][][] sim, int[] decision, List<String> classes) {
    Table rt = new Table();
    List<KeptStep> steps = tr.steps();
    for (int s = 0; s < n; s++) {
      KeptStep d = decision[s] < steps.size() ? steps.get(decision[s]) : null;
      for (int k = 0; k < steps.size(); k++) {
        KeptStep st = steps.get(k);
        rt.incrementCounter();
        rt.addValue("sample", first + s + 1);
        rt.addValue("step", st.stepIndex + 1);
        rt.addValue("t", st.timestep);
        rt.addValue("alpha_cumprod", st.alphaCumprod);
        rt.addValue("predicted", classes.get(predicted[s][k]));
        rt.addValue("target", classes.get(followed[s]));
        rt.addValue("probability", prob[s][k]);
        rt.addValue("ood", ood[s][k] ? 1 : 0);
        for (int j = 0; j < top; j++) {
          rt.addValue("top" + (j + 1) + "_prototype", protos[s][j]);
          rt.addValue("top" + (j + 1) + "_similarity", sim[s][k][j]);
        }
        if (d == null) {
          rt.addValue("decision_step", UNDECIDED);
          rt.addValue("decision_t", UNDECIDED);
        } else {
          rt.addValue("decision_step", d.stepIndex + 1);
          rt.addValue("decision_t", d.timestep);
        }
        rt.addValue("decided", k >= decision[s] ? 1 : 0);
      }
    }
    rt.setDecimalPlaces("alpha_cumprod", 6);
    rt.setDecimalPlaces("probability", 6);
    for (int j = 0; j < top; j++) rt.setDecimalPlaces("top" + (j + 1) + "_similarity", 6);
    return rt;
  }

  /**
   * Per sample: the followed class's probability and each followed prototype's similarity against the timestep t
   * (high t on the left, as sampling runs), similarities scaled by their common minimum and maximum over the sample's
   * steps and prototypes (the table has the raw values); a dotted line at the decision step.
   */
  static List<Chart> plots(Trajectory tr, int first, int n, int top, int[][] protos, int[] followed, double[][] prob,
      double[][][] sim, int[] decision, List<String> classes, String name) {
    List<KeptStep> steps = tr.steps();
    int kk = steps.size();
    double[] t = new double[kk];
    for (int k = 0; k < kk; k++) t[k] = steps.get(k).timestep;
    List<Chart> out = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
      for (double[] row : sim[s]) {
        for (double v : row) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
      double span = hi > lo ? hi - lo : 1;
      KeptStep d = decision[s] < kk ? steps.get(decision[s]) : null;
      Chart chart = new Chart("Explain Trajectory — " + name + ", sample " + (first + s + 1), "timestep t", "value");
      chart.add("p(" + classes.get(followed[s]) + ")", t, prob[s], Chart.Style.CONNECTED_CIRCLES, 0x000000);
      for (int j = 0; j < top; j++) {
        double[] y = new double[kk];
        for (int k = 0; k < kk; k++) y[k] = (sim[s][k][j] - lo) / span;
        chart.add("prototype " + protos[s][j] + " similarity (scaled)", t, y, Chart.Style.CONNECTED_CIRCLES,
            PALETTE[j % PALETTE.length]);
      }
      if (d != null) chart.marker(d.timestep);
      String decided = d == null ? "undecided (the last x0_pred is out of distribution)"
          : String.format(Locale.ROOT, "class %s from step %d (t=%d) on", classes.get(followed[s]), d.stepIndex + 1,
              d.timestep);
      chart.note(String.format(Locale.ROOT, "sample %d, %s; similarity scaled: 0 = %.4g, 1 = %.4g", first + s + 1,
          decided, lo, lo + span));
      double tLo = t[kk - 1], tHi = t[0];
      double pad = tHi > tLo ? 0.02 * (tHi - tLo) : 1;
      chart.limits(tHi + pad, tLo - pad, -0.05, 1.05);
      out.add(chart);
    }
    return out;
  }

  private static Map<String, String> provenance(Request r, LoadedModel<PrototypeClassifier> m, String name,
      Trajectory tr, int n, int first) {
    Map<String, String> p = Provenance.of(COMMAND, r);
    p.putAll(m.provenance());
    p.put("method", m.get().method());
    p.put("prototype_map", PrototypeAttribution.describe(PrototypeMapKind.of(r.map)));
    p.put("trajectory", name);
    p.put("samples", n == tr.samples() ? "all (" + n + ")" : Integer.toString(first + 1));
    p.put("kept_steps", Integer.toString(tr.steps().size()));
    p.put("top", Integer.toString(r.top));
    p.put("target", r.target == null || r.target.trim().isEmpty() ? "the final x0_pred's predicted class (per sample)"
        : r.target.trim());
    p.put("prototypes_followed", "the top prototypes by contribution to the target class on the final x0_pred");
    p.put("similarity", "the prototype's score (max similarity; ProtoPool: focal similarity) on x0_pred");
    p.put("decision_step", "first kept step from which the predicted class equals the final one and stays so, with no"
        + " step flagged out of distribution (ood) from there on; 'undecided' when the last step is flagged");
    p.put("heatmap_channels", "x0_pred; contribution = sum over all prototypes of contribution x similarity map"
        + " scaled to peak 1; top<j> = similarity map (bicubic) of the j-th followed prototype");
    for (Map.Entry<String, String> e : tr.provenance().entrySet()) p.put("trajectory." + e.getKey(), e.getValue());
    return p;
  }

}
