package org.diffxai.trajexplain;

import com.google.gson.GsonBuilder;
import ij.ImagePlus;
import ij.ImageStack;
import ij.gui.Plot;
import ij.measure.ResultsTable;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.diffxai.Version;
import org.diffxai.core.KeptStep;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.UserException;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Csv;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.OmeTiffWriter;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.metrics.PrototypeAttribution;
import org.diffxai.trajectory.Trajectory;

/**
 * One {@code Explain Trajectory} run: a prototype network explains the predicted clean image x̂₀ of every kept step of
 * a denoising trajectory. For each sample, the class followed is the final x̂₀'s prediction (or the given target) and
 * the prototypes followed are the final x̂₀'s top prototypes for that class; at every kept step the table records the
 * prediction, the probability of the followed class and each followed prototype's similarity (its score), and the
 * heatmap hyperstack holds x̂₀, the summed contribution map and the followed prototypes' similarity maps. The
 * decision step is the first kept step from which the predicted class equals the final one and stays so.
 *
 * <p>With an output directory: {@code explain_trajectory.csv}, {@code explain_trajectory.json},
 * {@code explain_trajectory_sample_<k>.png}, {@code heatmaps.tif} (ImageJ hyperstack) and {@code heatmaps.ome.tif};
 * a failed or cancelled run leaves none of them.
 */
public final class TrajectoryExplainRun {

  public static final String TABLE_FILE = "explain_trajectory.csv";
  public static final String PROVENANCE_FILE = "explain_trajectory.json";
  public static final String HEATMAPS_FILE = "heatmaps.tif";
  public static final String HEATMAPS_OME_FILE = "heatmaps.ome.tif";
  /** Heatmap channels before the followed prototypes' similarity maps {@code top1, top2, ...}. */
  public static final String CONTRIBUTION = "contribution";

  /** What to explain. Field names follow the command's keys. */
  public static final class Request {
    /** The trajectory hyperstack (or a virtual stack of its file) and its layout. */
    public ImagePlus image;
    public Trajectory trajectory;
    public String trajectoryName = "";
    /** Prototypes followed per sample. */
    public int top = 3;
    /** Class name or index; empty = each sample's final predicted class. */
    public String target = "";
    /** 1-based sample, or 0 for all. */
    public int sample = 0;
    public Path output;
  }

  /** A loaded prototype network with its name and provenance. */
  public static final class Model {
    public final PrototypeClassifier classifier;
    public final String name;
    public final Map<String, String> provenance;

    public Model(PrototypeClassifier classifier, String name, Map<String, String> provenance) {
      this.classifier = classifier;
      this.name = name;
      this.provenance = provenance;
    }
  }

  /** What a run produced. */
  public static final class Result {
    public ResultsTable table;
    /** One plot per sample (RGB stack). */
    public ImagePlus plots;
    /** Channels x0_pred, contribution, top1..topN; slices = samples; frames = kept steps. */
    public ImagePlus heatmaps;
    /** Per explained sample (in order): the kept index of the decision step. */
    public int[] decisionKept;
    public Map<String, String> provenance;
  }

  private TrajectoryExplainRun() {}

  /**
   * The first kept step from which the prediction equals the last one and stays so: the smallest k with
   * {@code predicted[j] == predicted[last]} for every j ≥ k.
   */
  public static int decisionIndex(int[] predicted) {
    if (predicted.length == 0) throw new IllegalArgumentException("no steps");
    int last = predicted[predicted.length - 1];
    int k = predicted.length - 1;
    while (k > 0 && predicted[k - 1] == last) k--;
    return k;
  }

  public static Result run(Request r, Model m, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    if (r.output != null) AtomicFiles.ensureDirectory(r.output);
    Trajectory tr = r.trajectory;
    PrototypeClassifier pc = m.classifier;
    int x0 = tr.channel(Trajectory.X0_PRED, 0);
    if (x0 < 0) {
      throw new UserException("\"" + r.trajectoryName + "\" has no x0_pred channel to explain. Use a trajectory as"
          + " Synthesize writes it (keep_every > 0).");
    }
    if (tr.modelChannels() != 1) {
      throw new UserException("\"" + r.trajectoryName + "\" has " + tr.modelChannels() + " model channels; the"
          + " prototype explanations work on gray (1-channel) images. Use a trajectory of a 1-channel denoiser.");
    }
    if (r.sample < 0 || r.sample > tr.samples()) {
      throw new UserException("sample=" + r.sample + " is out of range: the trajectory has " + tr.samples()
          + " sample(s). Use 1 to " + tr.samples() + ", or 0 for all.");
    }
    int p = pc.prototypes();
    if (r.top < 1 || r.top > p) {
      throw new UserException("top=" + r.top + " but model " + m.name + " has " + p + " prototypes. Use top=1 to " + p
          + ".");
    }
    PrototypeExplainer explainer = new PrototypeExplainer(pc, m.name);
    List<String> classes = pc.classNames();
    int fixed = PrototypeExplainer.targetIndex(r.target, classes, m.name);
    int first = r.sample == 0 ? 0 : r.sample - 1;
    int n = r.sample == 0 ? tr.samples() : 1;
    List<KeptStep> steps = tr.steps();
    int kk = steps.size();
    int w = tr.width(), h = tr.height(), top = r.top;
    ImageStack source = r.image.getStack();

    // The final x̂₀ decides the class and the prototypes each sample is followed by.
    progress.report("Explaining the final x0_pred", 0);
    int[] followed = new int[n];
    int[][] protos = new int[n][top];
    Explanation[] last = explainStep(explainer, source, tr, x0, first, n, kk - 1, fixed < 0 ? null : fill(n, fixed),
        p, m.name);
    for (int s = 0; s < n; s++) {
      followed[s] = last[s].target;
      for (int j = 0; j < top; j++) protos[s][j] = last[s].top.get(j).prototype;
    }

    List<String> kinds = new ArrayList<>(List.of(Trajectory.X0_PRED, CONTRIBUTION));
    for (int j = 1; j <= top; j++) kinds.add("top" + j);
    Map<String, String> prov = provenance(r, m, tr, n, first);
    Trajectory heat = new Trajectory(w, h, kinds, 1, n, steps, prov);
    int[][] predicted = new int[n][kk];
    double[][] prob = new double[n][kk];
    double[][][] sim = new double[n][kk][top];

    Result res = new Result();
    ImageStack memory = r.output == null ? new ImageStack(w, h) : null;
    StreamingTiffWriter ij = null;
    OmeTiffWriter ome = null;
    List<Path> committed = new ArrayList<>();
    try {
      if (r.output != null) {
        ij = heat.imagejWriter(r.output.resolve(HEATMAPS_FILE));
        ome = heat.omeTiffWriter(r.output.resolve(HEATMAPS_OME_FILE), StreamingTiffWriter.Compression.DEFLATE);
      }
      for (int k = 0; k < kk; k++) {
        progress.checkCancelled();
        progress.report(String.format(Locale.ROOT, "Explaining x0_pred of kept step %d/%d (t=%d)", k + 1, kk,
            steps.get(k).timestep), (k + 1.0) / (kk + 1));
        Explanation[] e = k == kk - 1 ? last : explainStep(explainer, source, tr, x0, first, n, k, followed, p,
            m.name);
        for (int s = 0; s < n; s++) {
          predicted[s][k] = e[s].predicted;
          prob[s][k] = e[s].probabilities[followed[s]];
          List<float[]> planes = new ArrayList<>();
          planes.add(pixels(source, tr.planeIndex(x0, first + s, k)));
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
            if (memory != null) memory.addSlice(label, new FloatProcessor(w, h, planes.get(c)));
            if (ij != null) ij.writePlane(planes.get(c), label);
            if (ome != null) ome.writePlane(planes.get(c), label);
          }
        }
      }
      res.decisionKept = new int[n];
      for (int s = 0; s < n; s++) res.decisionKept[s] = decisionIndex(predicted[s]);
      res.table = table(tr, first, n, top, protos, followed, predicted, prob, sim, res.decisionKept, classes);
      res.plots = plots(tr, first, n, top, protos, followed, prob, sim, res.decisionKept, classes, r.trajectoryName);
      res.provenance = prov;
      res.plots.setProperty("Info", Trajectory.infoText(prov));
      if (r.output != null) {
        ij.close();
        committed.add(ij.target());
        ome.close();
        committed.add(ome.target());
        committed.addAll(writeFiles(r.output, res));
        res.heatmaps = ImageReaders.openVirtual(r.output.resolve(HEATMAPS_FILE));
      } else {
        res.heatmaps = heat.describe(new ImagePlus("Heatmaps", memory));
      }
      res.heatmaps.setTitle("Heatmaps");
    } catch (RuntimeException | Error e) {
      if (ij != null) ij.abort();
      if (ome != null) ome.abort();
      for (Path f : committed) AtomicFiles.deleteRecursively(f); // a failed run leaves no file behind
      throw e;
    }
    progress.report("Explained " + kk + " kept steps of " + n + " sample" + (n == 1 ? "" : "s"), 1);
    return res;
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
  private static Explanation[] explainStep(PrototypeExplainer explainer, ImageStack source, Trajectory tr, int x0,
      int first, int n, int k, int[] targets, int p, String model) {
    Explanation[] out = new Explanation[n];
    List<Integer> groups = new ArrayList<>();
    if (targets == null) groups.add(-1);
    else for (int t : targets) if (!groups.contains(t)) groups.add(t);
    for (int g : groups) {
      List<Integer> idx = new ArrayList<>();
      for (int s = 0; s < n; s++) if (targets == null || targets[s] == g) idx.add(s);
      float[][] planes = new float[idx.size()][];
      for (int i = 0; i < planes.length; i++) planes[i] = pixels(source, tr.planeIndex(x0, first + idx.get(i), k));
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

  private static float[] pixels(ImageStack stack, int planeIndex) {
    return (float[]) stack.getProcessor(planeIndex + 1).getPixels();
  }

  static ResultsTable table(Trajectory tr, int first, int n, int top, int[][] protos, int[] followed,
      int[][] predicted, double[][] prob, double[][][] sim, int[] decision, List<String> classes) {
    ResultsTable rt = new ResultsTable();
    List<KeptStep> steps = tr.steps();
    for (int s = 0; s < n; s++) {
      KeptStep d = steps.get(decision[s]);
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
        for (int j = 0; j < top; j++) {
          rt.addValue("top" + (j + 1) + "_prototype", protos[s][j]);
          rt.addValue("top" + (j + 1) + "_similarity", sim[s][k][j]);
        }
        rt.addValue("decision_step", d.stepIndex + 1);
        rt.addValue("decision_t", d.timestep);
        rt.addValue("decided", k >= decision[s] ? 1 : 0);
      }
    }
    rt.setDecimalPlaces(rt.getColumnIndex("alpha_cumprod"), 6);
    rt.setDecimalPlaces(rt.getColumnIndex("probability"), 6);
    for (int j = 0; j < top; j++) rt.setDecimalPlaces(rt.getColumnIndex("top" + (j + 1) + "_similarity"), 6);
    return rt;
  }

  private static final Color[] PALETTE = {new Color(0xd62728), new Color(0x1f77b4), new Color(0x2ca02c),
      new Color(0x9467bd), new Color(0xff7f0e), new Color(0x17becf), new Color(0x8c564b), new Color(0xe377c2)};

  /**
   * Per sample: the followed class's probability and each followed prototype's similarity against the timestep t
   * (high t on the left, as sampling runs), similarities scaled by their common minimum and maximum over the sample's
   * steps and prototypes (the table has the raw values); a dashed line at the decision step.
   */
  static ImagePlus plots(Trajectory tr, int first, int n, int top, int[][] protos, int[] followed, double[][] prob,
      double[][][] sim, int[] decision, List<String> classes, String name) {
    List<KeptStep> steps = tr.steps();
    int kk = steps.size();
    double[] t = new double[kk];
    for (int k = 0; k < kk; k++) t[k] = steps.get(k).timestep;
    ImageStack stack = null;
    for (int s = 0; s < n; s++) {
      double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
      for (double[] row : sim[s]) {
        for (double v : row) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
      double span = hi > lo ? hi - lo : 1;
      KeptStep d = steps.get(decision[s]);
      Plot plot = new Plot("Explain Trajectory — " + name + ", sample " + (first + s + 1), "timestep t", "value");
      StringBuilder legend = new StringBuilder("p(" + classes.get(followed[s]) + ")");
      plot.setColor(Color.BLACK);
      plot.setLineWidth(2);
      plot.add("connected circle", t, prob[s]);
      plot.setLineWidth(1);
      for (int j = 0; j < top; j++) {
        double[] y = new double[kk];
        for (int k = 0; k < kk; k++) y[k] = (sim[s][k][j] - lo) / span;
        Color c = PALETTE[j % PALETTE.length];
        plot.setColor(c, c);
        plot.add("connected circle", t, y);
        legend.append("\nprototype ").append(protos[s][j]).append(" similarity (scaled)");
      }
      plot.setColor(Color.GRAY);
      plot.setLineWidth(1);
      plot.drawDottedLine(d.timestep, -0.02, d.timestep, 1.02, 3);
      plot.addLegend(legend.toString(), "auto");
      plot.setColor(Color.BLACK);
      plot.addLabel(0, 0, String.format(Locale.ROOT, "sample %d, class %s from step %d (t=%d) on; similarity"
          + " scaled: 0 = %.4g, 1 = %.4g", first + s + 1, classes.get(followed[s]), d.stepIndex + 1, d.timestep, lo,
          lo + span));
      double tLo = t[kk - 1], tHi = t[0];
      double pad = tHi > tLo ? 0.02 * (tHi - tLo) : 1;
      plot.setLimits(tHi + pad, tLo - pad, -0.05, 1.05);
      ImageProcessor ip = plot.getProcessor().convertToRGB();
      if (stack == null) stack = new ImageStack(ip.getWidth(), ip.getHeight());
      stack.addSlice("sample " + (first + s + 1), ip);
    }
    return new ImagePlus("Explain Trajectory Plot", stack);
  }

  private static Map<String, String> provenance(Request r, Model m, Trajectory tr, int n, int first) {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("software", "Diffusion XAI for Fiji " + Version.get());
    p.put("command", "Explain Trajectory");
    p.put("date", OffsetDateTime.now().toString());
    p.putAll(m.provenance);
    p.put("method", m.classifier.method());
    p.put("trajectory", r.trajectoryName);
    p.put("samples", n == tr.samples() ? "all (" + n + ")" : Integer.toString(first + 1));
    p.put("kept_steps", Integer.toString(tr.steps().size()));
    p.put("top", Integer.toString(r.top));
    p.put("target", r.target == null || r.target.trim().isEmpty() ? "the final x0_pred's predicted class (per sample)"
        : r.target.trim());
    p.put("prototypes_followed", "the top prototypes by contribution to the target class on the final x0_pred");
    p.put("similarity", "the prototype's score (max similarity; ProtoPool: focal similarity) on x0_pred");
    p.put("decision_step", "first kept step from which the predicted class equals the final one and stays so");
    p.put("heatmap_channels", "x0_pred; contribution = sum over all prototypes of contribution x similarity map"
        + " scaled to peak 1; top<j> = similarity map (bicubic) of the j-th followed prototype");
    for (Map.Entry<String, String> e : tr.provenance().entrySet()) p.put("trajectory." + e.getKey(), e.getValue());
    return p;
  }

  /** Table, record and plots to temporary names first, then renamed into place; returns the committed files. */
  private static List<Path> writeFiles(Path dir, Result res) {
    List<AtomicFiles.Pending> files = new ArrayList<>();
    List<Path> done = new ArrayList<>();
    try {
      try {
        Files.write(add(files, dir.resolve(TABLE_FILE)), Csv.of(res.table).getBytes(StandardCharsets.UTF_8));
        Files.write(add(files, dir.resolve(PROVENANCE_FILE)), (new GsonBuilder().setPrettyPrinting()
            .disableHtmlEscaping().create().toJson(res.provenance) + "\n").getBytes(StandardCharsets.UTF_8));
        ImageStack st = res.plots.getStack();
        for (int i = 1; i <= st.getSize(); i++) {
          Path png = add(files, dir.resolve("explain_trajectory_" + st.getSliceLabel(i).replace(' ', '_') + ".png"));
          if (!ImageIO.write(st.getProcessor(i).getBufferedImage(), "png", png.toFile())) {
            throw new IOException("no PNG writer");
          }
        }
      } catch (IOException e) {
        throw AtomicFiles.cannotWrite(dir, e);
      }
      for (AtomicFiles.Pending f : files) {
        f.commit();
        done.add(f.target());
      }
      return done;
    } catch (RuntimeException e) {
      for (Path f : done) AtomicFiles.deleteRecursively(f);
      throw e;
    } finally {
      for (AtomicFiles.Pending f : files) f.close();
    }
  }

  private static Path add(List<AtomicFiles.Pending> files, Path target) {
    AtomicFiles.Pending p = AtomicFiles.begin(target);
    files.add(p);
    return p.temp();
  }
}
