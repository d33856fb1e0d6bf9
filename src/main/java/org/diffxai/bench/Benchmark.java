package org.diffxai.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.KeptStep;
import org.diffxai.core.Progress;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.io.Planes;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.OmeTiffWriter;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.io.StreamingTiffWriter.Compression;
import org.diffxai.metrics.FaithfulnessMetrics;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.DjlDenoiser;
import org.diffxai.model.TensorFlowRuntime;
import org.diffxai.model.Models;
import org.diffxai.run.Env;
import org.diffxai.run.SynthesizeRun;
import org.diffxai.tf.UNetConfig;
import org.diffxai.trajectory.Trajectory;
import org.diffxai.trajectory.TrajectoryExport;

/**
 * The project's benchmark: measures, in one run on one machine, the ratios the README quotes, and prints them as a
 * Markdown table (measure, value, target, pass/fail) on standard output; progress goes to standard error.
 *
 * <pre>
 * java -cp target/diffusion-xai.jar org.diffxai.bench.Benchmark [--quick] [--only a,b,c] [--repeats N] ...
 * </pre>
 *
 * <ul>
 *   <li>(a) UNet throughput: FLOPs of one forward pass counted from the SavedModel graph ({@link FlopCounter}) times
 *       the batch, divided by the time of one {@link DjlDenoiser#predict} call, at batch 1 and 8; divided by TensorFlow's
 *       own float32 MatMul speed ({@link MatmulPeak}) measured in the same run.
 *   <li>(b) Sampling overhead: wall time of {@link SynthesizeRun#run} (50 DDIM steps, 8 samples, batch 8) divided by the
 *       time of 50 bare denoiser calls on the same loaded model, without and with a trajectory streamed to disk.
 *   <li>(c) Memory: peak Java heap while a 1000-step DDPM run at 256×256 streams its whole trajectory
 *       (keep_every=1) to disk, with a pure-Java denoiser; in this JVM and in a child JVM capped at -Xmx512m.
 *   <li>(d) OME-TIFF: throughput of {@link OmeTiffWriter} writing 1000 planes of 256×256 divided by a raw sequential
 *       write of the same bytes to the same disk; and the peak heap while Export Trajectory streams a 1000-plane
 *       trajectory.tif (virtual stack) into an OME-TIFF.
 *   <li>(e) Explanation: latency of Explain with Prototypes for one 64×64 and one 256×256 image per call, throughput
 *       at 32 images per call, and the bare prototype-network call, see {@link ExplainBench}.
 *   <li>(g) Compare Explanation Methods (only with {@code --only g}): the bundled PPNet, EPPNet and ProtoPool on 32
 *       synthesized images, every metric with the random-map and model-randomisation controls, timed per model and
 *       metric ({@link CompareBench}); the comparison table itself is printed after the notes.
 * </ul>
 *
 * Timings are interleaved repeats; each figure uses the best (fastest) repeat, the one least disturbed by other work
 * on the machine, and ratios divide best by best. See docs/benchmark.md.
 */
public final class Benchmark {

  /** Command-line options. */
  static final class Options {
    boolean quick;
    Set<String> only = new LinkedHashSet<>(Arrays.asList("a", "b", "c", "d", "e", "f"));
    Integer repeats;
    String model;
    /** Prototype-network bundle for (e) and (f), or null. */
    String protoModel;
    Integer steps;
    Integer batch;
    Integer matmul;
    Integer heapSteps;
    Integer heapSize;
    Integer heapSamples;
    Integer compareImages;
    String childXmx = "512m";
    boolean child = true;
    Path work;
    boolean keep;

    int repeats() {
      return repeats != null ? repeats : quick ? 2 : 3;
    }

    int steps() {
      return steps != null ? steps : quick ? 5 : 50;
    }

    int batch() {
      return batch != null ? batch : 8;
    }

    int matmul() {
      return matmul != null ? matmul : quick ? 256 : 1024;
    }

    int heapSteps() {
      return heapSteps != null ? heapSteps : quick ? 50 : 1000;
    }

    int heapSize() {
      return heapSize != null ? heapSize : quick ? 64 : 256;
    }

    int heapSamples() {
      return heapSamples != null ? heapSamples : quick ? 1 : 2;
    }

    /** Planes (and their side) of the OME-TIFF export in (d). */
    int exportPlanes() {
      return quick ? 100 : 1000;
    }

    int exportSize() {
      return quick ? 64 : 256;
    }

    int compareImages() {
      return compareImages != null ? compareImages : quick ? 4 : 32;
    }

    /** Target length of one timed repeat in (a). */
    double secondsPerRepeat() {
      return quick ? 0.2 : 2.0;
    }
  }

  /** One row of the table. */
  static final class Row {
    final String id;
    final String measure;
    String value;
    final String target;
    String result;

    Row(String id, String measure, String value, String target, String result) {
      this.id = id;
      this.measure = measure;
      this.value = value;
      this.target = target;
      this.result = result;
    }
  }

  static final String USAGE = String.join("\n",
      "Usage: java -cp target/diffusion-xai.jar org.diffxai.bench.Benchmark [options]",
      "  --quick            small sizes for a smoke run (tiny UNet, 5 steps, 64x64 heap run); numbers not meaningful",
      "  --only a,b,c,d,e,f run only these parts (a: UNet GFLOP/s vs TF matmul, b: synthesis overhead, c: heap,",
      "                     d: OME-TIFF export speed vs raw writes and heap; 1000 planes of 256x256, quick 100 of 64x64,",
      "                     e: explanation latency and throughput, f: faithfulness metrics vs their forwards;",
      "                     g, only when named: Compare Explanation Methods timed per model and metric)",
      "  --repeats N        timed repeats per measurement (default 3; quick 2); the best repeat is reported",
      "  --model KEY|DIR    denoiser bundle for (a) and (b) (default: the bundled 'sample' model when present, else",
      "                     a bundle with the sample model's architecture and random weights, built in the work dir)",
      "  --proto-model KEY|DIR  prototype-network bundle for (e) and (f) (default: the bundled 'sample-ppnet' when",
      "                     present, else a default-architecture PPNet trained briefly in the work dir)",
      "  --steps N          DDIM steps in (b) (default 50)",
      "  --batch N          the larger batch in (a), and samples = batch in (b) (default 8)",
      "  --matmul N         matmul size N for N x N x N (default 1024)",
      "  --heap-steps N     DDPM steps in (c) (default 1000)",
      "  --heap-size N      image side in (c) (default 256)",
      "  --heap-samples N   samples in (c) (default 2; the trajectory file is N x steps x 2 x size^2 x 4 bytes)",
      "  --child-xmx SIZE   heap cap of the child JVM in (c) (default 512m)",
      "  --compare-images N images compared in (g) (default 32; quick 4)",
      "  --no-child         skip the child-JVM run of (c)",
      "  --work DIR         directory for bundles and outputs (default: a new temporary directory)",
      "  --keep             keep the temporary work directory (a --work directory is never deleted)");

  private final Options opt;
  private final PrintStream log;
  private final List<Row> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  /** Lines printed after the notes (the comparison table of part g). */
  private final List<String> after = new ArrayList<>();
  private Path work;
  private DenoiserBundle unetBundle;
  private String unetKey;
  private DjlDenoiser denoiser;

  private Benchmark(Options opt, PrintStream log) {
    this.opt = opt;
    this.log = log;
  }

  public static void main(String[] args) {
    int code;
    if (args.length > 0 && args[0].equals("--heap-child")) {
      code = heapChild(args, System.out);
    } else {
      code = run(args, System.out, System.err);
    }
    System.exit(code);
  }

  /**
   * Runs the benchmark. Returns 0 when every selected measurement ran (whether or not it met its target), 1 when one
   * failed with an error, 2 for bad options.
   */
  public static int run(String[] args, PrintStream out, PrintStream log) {
    Options o;
    try {
      o = parse(args);
    } catch (IllegalArgumentException e) {
      log.println(e.getMessage());
      log.println(USAGE);
      return 2;
    }
    if (o == null) {
      out.println(USAGE);
      return 0;
    }
    Benchmark b = new Benchmark(o, log);
    return b.runAll(out);
  }

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      String v = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        v = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      switch (a) {
        case "--help":
        case "-h":
          return null;
        case "--quick":
          o.quick = true;
          break;
        case "--no-child":
          o.child = false;
          break;
        case "--keep":
          o.keep = true;
          break;
        default: {
          if (v == null) {
            if (i + 1 >= args.length) throw new IllegalArgumentException("Option " + a + " needs a value.");
            v = args[++i];
          }
          switch (a) {
            case "--only":
              o.only = new LinkedHashSet<>();
              for (String p : v.split(",")) {
                String s = p.trim().toLowerCase(Locale.ROOT);
                if (!Arrays.asList("a", "b", "c", "d", "e", "f", "g").contains(s)) {
                  throw new IllegalArgumentException("--only takes a comma-separated list of a, b, c, d, e, f, g;"
                      + " got " + v);
                }
                o.only.add(s);
              }
              break;
            case "--repeats":
              o.repeats = positive(a, v);
              break;
            case "--model":
              o.model = v;
              break;
            case "--proto-model":
              o.protoModel = v;
              break;
            case "--steps":
              o.steps = positive(a, v);
              break;
            case "--batch":
              o.batch = positive(a, v);
              break;
            case "--matmul":
              o.matmul = positive(a, v);
              break;
            case "--heap-steps":
              o.heapSteps = positive(a, v);
              break;
            case "--heap-size":
              o.heapSize = positive(a, v);
              break;
            case "--heap-samples":
              o.heapSamples = positive(a, v);
              break;
            case "--child-xmx":
              o.childXmx = v;
              break;
            case "--compare-images":
              o.compareImages = positive(a, v);
              break;
            case "--work":
              o.work = Paths.get(v).toAbsolutePath();
              break;
            default:
              throw new IllegalArgumentException("Unknown option " + a);
          }
        }
      }
    }
    return o;
  }

  private static int positive(String key, String v) {
    try {
      int n = Integer.parseInt(v.trim());
      if (n >= 1) return n;
    } catch (NumberFormatException e) {
      // below
    }
    throw new IllegalArgumentException(key + " needs a whole number >= 1; got " + v);
  }

  // ---------------------------------------------------------------------------------------------- orchestration

  private int runAll(PrintStream out) {
    double loadStart = loadAverage();
    MachineLoad load = new MachineLoad();
    long t0 = System.nanoTime();
    boolean error = false;
    try {
      work = opt.work != null ? Files.createDirectories(opt.work) : Files.createTempDirectory("diffxai-bench");
      progress("work directory " + work);
      TensorFlowRuntime.ensureLoaded();
      if (opt.only.contains("a") || opt.only.contains("b")) {
        try {
          openUnet();
        } catch (Exception e) {
          error = true;
          failRows("a", e);
          failRows("b", e);
        }
      }
      if (opt.only.contains("a") && denoiser != null) error |= !section("a", this::partA);
      if (opt.only.contains("b") && denoiser != null) error |= !section("b", this::partB);
      if (opt.only.contains("c")) error |= !section("c", this::partC);
      if (opt.only.contains("d")) error |= !section("d", this::partD);
      if (opt.only.contains("e")) {
        error |= !section("e", () -> ExplainBench.run(opt, work, this::row, notes, this::progress));
      }
      if (opt.only.contains("f")) error |= !section("f", this::partF);
      if (opt.only.contains("g")) error |= !section("g", this::partG);
    } catch (Exception | Error e) {
      error = true;
      progress("benchmark failed: " + e);
      e.printStackTrace(log);
      rows.add(new Row("—", "benchmark", "error: " + String.valueOf(e.getMessage()).replace('|', '/'), "—",
          "error"));
    } finally {
      if (denoiser != null) denoiser.close();
      if (work != null && !opt.keep && opt.work == null) AtomicFiles.deleteRecursively(work);
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    print(out, loadStart, load.otherFraction(), seconds);
    return error ? 1 : 0;
  }

  private interface Part {
    void run() throws Exception;
  }

  /** Runs one part; on an exception its rows read "error". Returns false on error. */
  private boolean section(String part, Part p) {
    progress("part (" + part + ")");
    try {
      p.run();
      return true;
    } catch (Exception | Error e) {
      progress("part (" + part + ") failed: " + e);
      e.printStackTrace(log);
      failRows(part, e);
      return false;
    }
  }

  private void failRows(String part, Throwable e) {
    String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    msg = msg.replace('|', '/').replace('\n', ' ');
    if (msg.length() > 120) msg = msg.substring(0, 117) + "...";
    boolean any = false;
    for (Row r : rows) {
      if (r.id.startsWith(part) && !"pass".equals(r.result) && !"fail".equals(r.result) && !"—".equals(r.result)) {
        r.value = "error: " + msg;
        r.result = "error";
        any = true;
      }
    }
    if (!any) rows.add(new Row(part + "?", "part (" + part + ")", "error: " + msg, "—", "error"));
  }

  /** Opens (or builds) the UNet bundle for (a) and (b) and loads it through DJL on the CPU. */
  private void openUnet() throws IOException {
    String key = opt.model;
    if (key == null && !opt.quick && DenoiserBundle.availableSamples().contains("sample")) key = "sample";
    if (key == null) {
      UNetConfig net = opt.quick ? BenchBundles.tinyConfig(16) : BenchBundles.sampleConfig(64);
      Path dir = work.resolve(opt.quick ? "unet-tiny" : "unet-64");
      if (!Files.isDirectory(dir)) {
        progress("building a bundle with random weights: " + net);
        BenchBundles.writeUnet(dir, net, 1);
      }
      key = dir.toString();
      notes.add("Model: " + net + ", random weights (the bundled sample model was not used" + (opt.quick
          ? ": --quick" : ": not in this build") + "); timing does not depend on the weights.");
    } else {
      notes.add("Model: " + key + ".");
    }
    unetKey = key;
    unetBundle = DenoiserBundle.open(key);
    progress("loading " + unetBundle.directory() + " through DJL (cpu)");
    denoiser = DjlDenoiser.load(unetBundle, "cpu");
  }

  // ---------------------------------------------------------------------------------------------- (a)

  private void partA() throws Exception {
    int big = opt.batch();
    Row flopsRow = row("a1", "UNet forward pass, FLOPs per sample (counted from the SavedModel graph: Conv2D, "
        + "MatMul, BatchMatMul; elementwise ops not counted)", "—");
    Row b1 = row("a2", "UNet forward throughput, batch 1 (DjlDenoiser.predict)", "—");
    Row bN = row("a3", "UNet forward throughput, batch " + big, "—");
    Row mm = row("a4", "TensorFlow float32 MatMul " + opt.matmul() + "×" + opt.matmul() + "×" + opt.matmul()
        + " (TF Java session)", "—");
    Row r1 = row("a5", "Ratio: UNet batch 1 ÷ MatMul", "—");
    Row rN = row("a6", "Ratio: UNet batch " + big + " ÷ MatMul", "≥ 0.5");

    progress("(a) counting FLOPs in " + unetBundle.directory());
    FlopCounter.Count count = FlopCounter.countSavedModel(unetBundle.directory(), "serving_default");
    double fps = count.flopsPerSample;
    flopsRow.value = String.format(Locale.ROOT, "%.3f GFLOP", fps / 1e9);
    flopsRow.result = "—";
    notes.add("FLOPs per sample by op type: " + count.flopsByType + "; counted ops: " + count.countedOps
        + "; not counted: " + count.uncountedOps + ".");

    Inputs in1 = new Inputs(denoiser, 1, 11);
    Inputs inN = new Inputs(denoiser, big, 12);
    progress("(a) warming up");
    for (int i = 0; i < 3; i++) {
      in1.call(denoiser);
      inN.call(denoiser);
    }
    Map<String, Timing> t;
    try (MatmulPeak peak = new MatmulPeak(opt.matmul())) {
      List<Timing.Case> cases = new ArrayList<>();
      cases.add(new Timing.Case("matmul", 0, peak::run));
      cases.add(new Timing.Case("b1", 0, () -> in1.call(denoiser)));
      cases.add(new Timing.Case("bN", 0, () -> inN.call(denoiser)));
      progress("(a) timing " + opt.repeats() + " interleaved repeats of ~" + opt.secondsPerRepeat() + " s each");
      t = Timing.interleaved(opt.repeats(), opt.secondsPerRepeat(), 10000, cases);
      double mmBest = peak.flops() / t.get("matmul").best() / 1e9;
      double g1 = fps / t.get("b1").best() / 1e9;
      double gN = big * fps / t.get("bN").best() / 1e9;
      mm.value = String.format(Locale.ROOT, "%.1f GFLOP/s (%.2f ms per matmul)", mmBest, t.get("matmul").best() * 1e3);
      mm.result = "—";
      b1.value = String.format(Locale.ROOT, "%.1f GFLOP/s (%.1f ms per call)", g1, t.get("b1").best() * 1e3);
      b1.result = "—";
      bN.value = String.format(Locale.ROOT, "%.1f GFLOP/s (%.1f ms per call)", gN, t.get("bN").best() * 1e3);
      bN.result = "—";
      r1.value = String.format(Locale.ROOT, "%.2f", g1 / mmBest);
      r1.result = "—";
      rN.value = String.format(Locale.ROOT, "%.2f", gN / mmBest);
      rN.result = gN / mmBest >= 0.5 ? "pass" : "fail";
      notes.add(String.format(Locale.ROOT, "(a) medians of %d repeats: MatMul %.1f GFLOP/s, batch 1 %.1f, batch %d "
          + "%.1f GFLOP/s (ratio %.2f); calls per repeat: MatMul %d, batch 1 %d, batch %d %d.", opt.repeats(),
          peak.flops() / t.get("matmul").median() / 1e9, fps / t.get("b1").median() / 1e9, big,
          big * fps / t.get("bN").median() / 1e9, (big * fps / t.get("bN").median()) / (peak.flops()
              / t.get("matmul").median()), cases.get(0).calls, cases.get(1).calls, big, cases.get(2).calls));
    }
  }

  /** Inputs of one denoiser call at batch n: x ~ N(0, 1), t uniform in [0, 1000), labels cycling over the classes. */
  static final class Inputs {
    final int n;
    final float[] x;
    final float[] t;
    final int[] labels;
    final float[] condition;

    Inputs(Denoiser d, int n, long seed) {
      this.n = n;
      Random r = new Random(seed);
      int px = d.height() * d.width() * d.channels();
      x = new float[n * px];
      for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
      t = new float[n];
      for (int i = 0; i < n; i++) t[i] = r.nextInt(1000);
      labels = d.classConditional() ? new int[n] : null;
      if (labels != null) for (int i = 0; i < n; i++) labels[i] = i % 2;
      condition = d.conditionChannels() > 0 ? new float[n * d.height() * d.width() * d.conditionChannels()] : null;
    }

    void call(Denoiser d) {
      float[] out = d.predict(x, t, labels, condition, n);
      if (out.length != x.length) throw new IllegalStateException("denoiser returned " + out.length + " values");
    }
  }

  // ---------------------------------------------------------------------------------------------- (b)

  private void partB() throws Exception {
    final int n = opt.batch();
    final int steps = opt.steps();
    Row bare = row("b1", steps + " bare denoiser calls, batch " + n + " (same loaded model)", "—");
    Row plain = row("b2", "DDIM synthesis, " + steps + " steps, " + n + " samples, batch " + n
        + " (SynthesizeRun.run, no trajectory, no output)", "—");
    Row plainRatio = row("b3", "Ratio: b2 ÷ b1", "≤ 1.05");
    Row stream = row("b4", "Same with keep_every=1 and output set (trajectory streamed to disk)", "—");
    Row streamRatio = row("b5", "Ratio: b4 ÷ b1", "≤ 1.15");

    SchedulerConfig config = SchedulerConfig.fromJson(unetBundle.schedulerConfigJson());
    DiffusionScheduler ddim = DiffusionScheduler.create("DDIM", config, 0);
    ddim.setTimesteps(steps);
    int[] ts = ddim.timesteps();
    Inputs in = new Inputs(denoiser, n, 21);
    Timing.Body bareBody = () -> {
      for (int s = 0; s < steps; s++) {
        Arrays.fill(in.t, ts[s]);
        in.call(denoiser);
      }
    };
    final int[] outCount = {0};
    final long[] trajectoryBytes = {0};
    Timing.Body plainBody = () -> synthesize(request(steps, 0, null), denoiser);
    Timing.Body streamBody = () -> {
      Path dir = work.resolve("b-output-" + (outCount[0]++));
      synthesize(request(steps, 1, dir), denoiser);
      trajectoryBytes[0] = Files.size(dir.resolve(SynthesizeRun.TRAJECTORY_FILE));
    };

    // Warm-up, which doubles as a load-independent cross-check: one run of each kind with the denoiser wrapped in a
    // stopwatch, so the time spent outside the model is measured within the very same run.
    progress("(b) warming up (one run of each kind, with the time inside the denoiser measured)");
    for (int i = 0; i < 3; i++) in.call(denoiser);
    synthesize(request(3, 1, work.resolve("b-warmup-short")), denoiser); // class loading, first-use costs
    TimedDenoiser timedPlain = new TimedDenoiser(denoiser);
    SynthesizeRun.Request wp = request(steps, 0, null);
    double plainWall = Timing.once(() -> synthesize(wp, timedPlain));
    TimedDenoiser timedStream = new TimedDenoiser(denoiser);
    SynthesizeRun.Request ws = request(steps, 1, work.resolve("b-warmup"));
    double streamWall = Timing.once(() -> synthesize(ws, timedStream));
    notes.add(String.format(Locale.ROOT, "(b) in-run cross-check (warm-up runs, denoiser wrapped in a stopwatch; "
        + "much less sensitive to other load, but not the defined measure): synthesis %.2f s, of which %.2f s in %d predict "
        + "calls, ratio %.3f; streamed %.2f s, of which %.2f s in predict, ratio %.3f.", plainWall,
        timedPlain.seconds(), timedPlain.calls, plainWall / timedPlain.seconds(), streamWall, timedStream.seconds(),
        streamWall / timedStream.seconds()));

    List<Timing.Case> cases = new ArrayList<>();
    cases.add(new Timing.Case("bare", 1, bareBody));
    cases.add(new Timing.Case("plain", 1, plainBody));
    cases.add(new Timing.Case("stream", 1, streamBody));
    progress("(b) timing " + opt.repeats() + " interleaved repeats of: " + steps + " bare calls, synthesis, synthesis "
        + "with streamed trajectory");
    Map<String, Timing> t = Timing.interleaved(opt.repeats(), 0, 1, cases);
    double tb = t.get("bare").best();
    double tp = t.get("plain").best();
    double tsr = t.get("stream").best();
    bare.value = String.format(Locale.ROOT, "%.2f s (%.1f ms per call)", tb, tb / steps * 1e3);
    bare.result = "—";
    plain.value = String.format(Locale.ROOT, "%.2f s", tp);
    plain.result = "—";
    plainRatio.value = String.format(Locale.ROOT, "%.3f", tp / tb);
    plainRatio.result = tp / tb <= 1.05 ? "pass" : "fail";
    stream.value = String.format(Locale.ROOT, "%.2f s (%.1f MB trajectory)", tsr, trajectoryBytes[0] / 1e6);
    stream.result = "—";
    streamRatio.value = String.format(Locale.ROOT, "%.3f", tsr / tb);
    streamRatio.result = tsr / tb <= 1.15 ? "pass" : "fail";
    notes.add(String.format(Locale.ROOT, "(b) medians of %d repeats: bare %.2f s, synthesis %.2f s (ratio %.3f), "
        + "streamed %.2f s (ratio %.3f). All repeats (s): bare %s, synthesis %s, streamed %s.", opt.repeats(),
        t.get("bare").median(), t.get("plain").median(), t.get("plain").median() / t.get("bare").median(),
        t.get("stream").median(), t.get("stream").median() / t.get("bare").median(), secs(t.get("bare")),
        secs(t.get("plain")), secs(t.get("stream"))));
    for (int i = 0; i < outCount[0]; i++) AtomicFiles.deleteRecursively(work.resolve("b-output-" + i));
    AtomicFiles.deleteRecursively(work.resolve("b-warmup"));
    AtomicFiles.deleteRecursively(work.resolve("b-warmup-short"));
  }

  /** A denoiser that adds up the wall time spent in the wrapped denoiser's predict. */
  static final class TimedDenoiser implements Denoiser {
    private final Denoiser d;
    long nanos;
    int calls;

    TimedDenoiser(Denoiser d) {
      this.d = d;
    }

    double seconds() {
      return nanos / 1e9;
    }

    @Override
    public int height() {
      return d.height();
    }

    @Override
    public int width() {
      return d.width();
    }

    @Override
    public int channels() {
      return d.channels();
    }

    @Override
    public int conditionChannels() {
      return d.conditionChannels();
    }

    @Override
    public boolean classConditional() {
      return d.classConditional();
    }

    @Override
    public float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n) {
      long t0 = System.nanoTime();
      try {
        return d.predict(x, t, labels, condition, n);
      } finally {
        nanos += System.nanoTime() - t0;
        calls++;
      }
    }

    @Override
    public void close() {} // the wrapped denoiser is closed by its owner
  }

  private SynthesizeRun.Request request(int steps, int keepEvery, Path output) {
    SynthesizeRun.Request r = new SynthesizeRun.Request();
    r.model = unetKey;
    r.samples = opt.batch();
    r.batch = opt.batch();
    r.steps = steps;
    r.sampler = "DDIM";
    r.eta = 0;
    r.seed = 1;
    r.label = "";
    r.cfg_scale = "0"; // one model call per step, as the plain loop it is compared with
    r.keep_every = keepEvery;
    r.device = "cpu";
    r.output = output == null ? "" : output.toString();
    r.overwrite = true;
    return r;
  }

  /** The Synthesize run with this denoiser in place of the bundle's (the benchmark times the same code). */
  private void synthesize(SynthesizeRun.Request r, Denoiser d) {
    SynthesizeRun.run(r, Models.wrap(r.model, d), Env.files()); // not closed: the caller owns the denoiser
  }

  private static String secs(Timing t) {
    StringBuilder sb = new StringBuilder();
    for (double v : t.perCall) sb.append(sb.length() == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.2f", v));
    return sb.toString();
  }

  // ---------------------------------------------------------------------------------------------- (c)

  private void partC() throws Exception {
    int size = opt.heapSize();
    int steps = opt.heapSteps();
    int samples = opt.heapSamples();
    String what = "DDPM " + steps + " steps, " + size + "×" + size + ", " + samples + " sample" + (samples == 1 ? ""
        : "s") + ", keep_every=1 streamed to disk, pure-Java denoiser";
    long maxHeap = HeapProbe.maxHeapBytes();
    Row peak = row("c1", "Peak Java heap: " + what + " (this JVM, max heap " + maxHeap / (1 << 20) + " MB)",
        "< 512 MB");
    Row live = row("c2", "Largest heap after a garbage collection during c1 (≈ live data)", "—");
    Row child = opt.child ? row("c3", "Same run in a child JVM with -Xmx" + opt.childXmx, "completes, peak < 512 MB")
        : null;

    Path bundle = work.resolve("linear-" + size);
    if (!Files.isDirectory(bundle)) {
      progress("(c) writing a " + size + "×" + size + " bundle");
      BenchBundles.writeLinear(bundle, size, size);
    }
    Path out = work.resolve("c-output");
    progress("(c) " + what + " in this JVM");
    HeapRun r = heapRun(bundle, out, size, steps, samples);
    AtomicFiles.deleteRecursively(out);
    peak.value = String.format(Locale.ROOT, "%.0f MB (baseline %.0f MB; %s trajectory written in %.1f s)",
        r.probe.peakBytes / MB, r.probe.baselineBytes / MB, size(r.trajectoryBytes), r.seconds);
    peak.result = r.probe.peakBytes < 512 * (1L << 20) ? "pass" : "fail";
    live.value = String.format(Locale.ROOT, "%.0f MB (%d collections)", r.probe.maxAfterGcBytes / MB,
        r.probe.collections);
    live.result = "—";
    notes.add(String.format(Locale.ROOT, "(c) this JVM: peak %.0f MB as the sum of the heap pools' peaks, %.0f MB "
        + "as sampled every millisecond; baseline after System.gc() %.0f MB.", r.probe.peakBytes / MB,
        r.probe.sampledPeakBytes / MB, r.probe.baselineBytes / MB));

    if (child != null) {
      progress("(c) the same in a child JVM with -Xmx" + opt.childXmx);
      Map<String, String> c = runChild(bundle, out, size, steps, samples);
      AtomicFiles.deleteRecursively(out);
      if (!"0".equals(c.get("exit")) || !c.containsKey("peak")) {
        child.value = "error: child JVM exit code " + c.get("exit") + (c.containsKey("error") ? ": " + c.get("error")
            : "");
        child.result = "fail";
      } else {
        long p = Long.parseLong(c.get("peak"));
        child.value = String.format(Locale.ROOT, "%.0f MB, completed (max heap %.0f MB, after-GC max %.0f MB, %s s)",
            p / MB, Long.parseLong(c.get("max")) / MB, Long.parseLong(c.get("aftergc")) / MB, c.get("seconds"));
        child.result = p < 512 * (1L << 20) ? "pass" : "fail";
      }
    }
  }

  // ---------------------------------------------------------------------------------------------- (f)

  private void partF() throws Exception {
    String key = ExplainBench.prototypeModel(opt, work, "f", notes, this::progress);
    ClassifierBundle bundle = ClassifierBundle.open(key);
    progress("(f) loading " + bundle.dir() + " through DJL (cpu)");
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(bundle, "cpu")) {
      FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings().resolved(c.height(), c.width());
      notes.add(String.format(Locale.ROOT, "(f) %dx%d image, the command's defaults: baseline %s, runs %d, "
          + "subset_size %d, step %d, patch_size %d, batch %d, top 10.", c.width(), c.height(), s.baseline.key(),
          s.runs, s.subsetSize, s.step, s.patchSize, s.batch));
      List<FaithfulnessBench.Measure> ms = FaithfulnessBench.measure(c, opt.repeats(), opt.secondsPerRepeat(),
          this::progress);
      int i = 1;
      StringBuilder med = new StringBuilder(), cross = new StringBuilder();
      for (FaithfulnessBench.Measure m : ms) {
        double tm = m.metricTime.best(), tb = m.bareTime.best();
        Row r = row("f" + i++, "Ratio: " + m.metric.key() + " ÷ its " + m.forwards + " batched forwards", "≤ 1.2");
        r.value = String.format(Locale.ROOT, "%.3f (%.1f ms vs %.1f ms)", tm / tb, tm * 1e3, tb * 1e3);
        r.result = tm / tb <= 1.2 ? "pass" : "fail";
        med.append(med.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.3f", m.metric.key(),
            m.metricTime.median() / m.bareTime.median()));
        cross.append(cross.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%s %.3f", m.metric.key(),
            m.crossCheck));
      }
      notes.add("(f) ratios of the medians of " + opt.repeats() + " repeats: " + med + ".");
      notes.add("(f) in-run cross-check (one run of each metric with every classifier call in a stopwatch: wall time"
          + " ÷ time inside the classifier; much less sensitive to other load, but not the defined measure): " + cross
          + ".");
    }
  }

  private static final double MB = 1 << 20;

  private static String size(long bytes) {
    return bytes >= 1e9 ? String.format(Locale.ROOT, "%.2f GB", bytes / 1e9)
        : String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
  }

  /** The outcome of one heap run. */
  static final class HeapRun {
    HeapProbe probe;
    long trajectoryBytes;
    double seconds;
  }

  /** The streamed run of (c), measured with a {@link HeapProbe}. Needs no TensorFlow. */
  static HeapRun heapRun(Path bundle, Path out, int size, int steps, int samples) throws Exception {
    SynthesizeRun.Request r = new SynthesizeRun.Request();
    r.model = bundle.toString();
    r.samples = samples;
    r.batch = samples;
    r.steps = steps;
    r.sampler = "DDPM";
    r.seed = 1;
    r.keep_every = 1;
    r.device = "cpu";
    r.output = out.toString();
    r.overwrite = true;
    HeapRun h = new HeapRun();
    h.probe = new HeapProbe();
    h.probe.start();
    long t0 = System.nanoTime();
    try {
      SynthesizeRun.run(r, Models.wrap(r.model, new BenchBundles.LinearDenoiser(size, size)), Env.files());
    } finally {
      h.seconds = (System.nanoTime() - t0) / 1e9;
      h.probe.stop();
    }
    h.trajectoryBytes = Files.size(out.resolve(SynthesizeRun.TRAJECTORY_FILE));
    return h;
  }

  /** Entry of the child JVM: {@code --heap-child BUNDLE OUT SIZE STEPS SAMPLES}; prints key=value lines. */
  static int heapChild(String[] args, PrintStream out) {
    try {
      HeapRun h = heapRun(Paths.get(args[1]), Paths.get(args[2]), Integer.parseInt(args[3]),
          Integer.parseInt(args[4]), Integer.parseInt(args[5]));
      out.println("peak=" + h.probe.peakBytes);
      out.println("sampled=" + h.probe.sampledPeakBytes);
      out.println("aftergc=" + h.probe.maxAfterGcBytes);
      out.println("baseline=" + h.probe.baselineBytes);
      out.println("max=" + HeapProbe.maxHeapBytes());
      out.println("bytes=" + h.trajectoryBytes);
      out.println(String.format(Locale.ROOT, "seconds=%.1f", h.seconds));
      return 0;
    } catch (Throwable t) { // OutOfMemoryError included: report it
      out.println("error=" + t);
      t.printStackTrace();
      return 1;
    }
  }

  private Map<String, String> runChild(Path bundle, Path out, int size, int steps, int samples) throws Exception {
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(Arrays.asList(java, "-Xmx" + opt.childXmx, "-Djava.awt.headless=true", "-cp",
        System.getProperty("java.class.path"), Benchmark.class.getName(), "--heap-child", bundle.toString(),
        out.toString(), Integer.toString(size), Integer.toString(steps), Integer.toString(samples)));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    Map<String, String> m = new LinkedHashMap<>();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null;) {
        int eq = line.indexOf('=');
        if (eq > 0) m.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    m.put("exit", Integer.toString(p.waitFor()));
    return m;
  }

  // ---------------------------------------------------------------------------------------------- (d)

  private void partD() throws Exception {
    int n = opt.exportPlanes(), size = opt.exportSize();
    long bytes = (long) n * size * size * 4;
    String what = n + " planes of " + size + "×" + size + " float32 (" + size(bytes) + ")";
    Row raw = row("d1", "Raw sequential write of " + what + " (FileChannel, 1 MB chunks, fsync, close)", "—");
    Row ome = row("d2", "OME-TIFF write of the same planes (OmeTiffWriter: OME-XML with per-plane step annotations, "
        + "IFDs, fsync, atomic rename)", "—");
    Row ratio = row("d3", "Ratio: d2 throughput ÷ d1 throughput", "≥ 0.7");
    Row deflate = row("d4", "Same OME-TIFF with compression=deflate (this data: smooth planes plus noise)", "—");
    Row heap = row("d5", "Peak Java heap: Export Trajectory of a " + n + "-plane " + size + "×" + size
        + " trajectory.tif (virtual stack) to OME-TIFF (this JVM, max heap " + HeapProbe.maxHeapBytes() / (1 << 20)
        + " MB)", "< 256 MB");

    Path dir = Files.createDirectories(work.resolve("d"));
    float[][] planes = new float[8][size * size]; // a few distinct planes, reused: the data is not what is timed
    Random rnd = new Random(5);
    for (float[] p : planes) {
      for (int i = 0; i < p.length; i++) p[i] = (float) (Math.sin(i % size * 0.05) + 0.1 * rnd.nextGaussian());
    }
    Trajectory tr = exportTrajectory(n, size);
    ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    Timing.Body rawBody = () -> {
      Path f = dir.resolve("raw.bin");
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        for (int k = 0; k < n; k++) {
          float[] p = planes[k % planes.length];
          for (int off = 0; off < p.length; off += chunk.capacity() / 4) {
            int m = Math.min(chunk.capacity() / 4, p.length - off);
            chunk.clear();
            chunk.asFloatBuffer().put(p, off, m);
            chunk.limit(m * 4);
            while (chunk.hasRemaining()) ch.write(chunk);
          }
        }
        ch.force(true);
      }
      Files.delete(f);
    };
    long[] omeBytes = {0, 0};
    Timing.Body omeBody = () -> omeBytes[0] = writeOme(tr, planes, dir.resolve("t.ome.tif"), Compression.NONE);
    Timing.Body deflateBody = () -> omeBytes[1] = writeOme(tr, planes, dir.resolve("z.ome.tif"), Compression.DEFLATE);
    progress("(d) warming up");
    rawBody.run();
    omeBody.run();
    List<Timing.Case> cases = new ArrayList<>();
    cases.add(new Timing.Case("raw", 1, rawBody));
    cases.add(new Timing.Case("ome", 1, omeBody));
    progress("(d) timing " + opt.repeats() + " interleaved repeats of: raw write, OME-TIFF");
    Map<String, Timing> t = Timing.interleaved(opt.repeats(), 0, 1, cases);
    progress("(d) timing one OME-TIFF with deflate");
    double td = Timing.once(deflateBody);
    double tr0 = t.get("raw").best(), to = t.get("ome").best();
    raw.value = String.format(Locale.ROOT, "%.0f MB/s (%.2f s)", bytes / 1e6 / tr0, tr0);
    raw.result = "—";
    ome.value = String.format(Locale.ROOT, "%.0f MB/s (%.2f s; file %s)", bytes / 1e6 / to, to, size(omeBytes[0]));
    ome.result = "—";
    ratio.value = String.format(Locale.ROOT, "%.2f", tr0 / to);
    ratio.result = tr0 / to >= 0.7 ? "pass" : "fail";
    deflate.value = String.format(Locale.ROOT, "%.0f MB/s of pixels (%.2f s, one run; file %s, %.0f%% of uncompressed)",
        bytes / 1e6 / td, td, size(omeBytes[1]), 100.0 * omeBytes[1] / omeBytes[0]);
    deflate.result = "—";
    notes.add(String.format(Locale.ROOT, "(d) medians of %d repeats: raw %.2f s, OME-TIFF %.2f s (ratio %.2f). All "
        + "repeats (s): raw %s, OME-TIFF %s.", opt.repeats(), t.get("raw").median(), t.get("ome").median(),
        t.get("raw").median() / t.get("ome").median(), secs(t.get("raw")), secs(t.get("ome"))));

    progress("(d) writing a " + n + "-plane trajectory.tif, then exporting it with the heap measured");
    Path tif = dir.resolve("trajectory.tif");
    try (StreamingTiffWriter w = tr.imagejWriter(tif)) {
      for (int k = 0; k < n; k++) w.writePlane(planes[k % planes.length], "plane " + k);
    }
    Planes imp = org.diffxai.run.Inputs.file("image", tif);
    HeapProbe probe = new HeapProbe();
    probe.start();
    double seconds;
    try {
      seconds = Timing.once(() -> TrajectoryExport.toOmeTiff(imp,
          dir.resolve("export.ome.tif"), Compression.NONE, Progress.NONE));
    } finally {
      probe.stop();
    }
    heap.value = String.format(Locale.ROOT, "%.0f MB (baseline %.0f MB, largest after a collection %.0f MB; %.1f s)",
        probe.peakBytes / MB, probe.baselineBytes / MB, probe.maxAfterGcBytes / MB, seconds);
    heap.result = probe.peakBytes < 256 * (1L << 20) ? "pass" : "fail";
    AtomicFiles.deleteRecursively(dir);
  }

  /** A trajectory layout of n planes: x_t and x0_pred of one sample over n / 2 kept steps. */
  private static Trajectory exportTrajectory(int n, int size) {
    List<KeptStep> steps = new ArrayList<>();
    for (int k = 0; k < n / 2; k++) steps.add(new KeptStep(k, k, n / 2 - 1 - k, (float) (k + 1) / (n / 2 + 1)));
    Map<String, String> prov = new LinkedHashMap<>();
    prov.put("software", "benchmark");
    return new Trajectory(size, size, Arrays.asList(Trajectory.X_T, Trajectory.X0_PRED), 1, 1, steps, prov);
  }

  /** Writes the trajectory's planes (cycling through {@code planes}) as OME-TIFF; returns the file size. */
  private static long writeOme(Trajectory tr, float[][] planes, Path f, Compression c) throws IOException {
    try (OmeTiffWriter w = tr.omeTiffWriter(f, c)) {
      for (int k = 0; k < tr.planeCount(); k++) w.writePlane(planes[k % planes.length], null);
    }
    long size = Files.size(f);
    Files.delete(f);
    return size;
  }

  // ---------------------------------------------------------------------------------------------- (g)

  private void partG() throws Exception {
    int n = opt.compareImages();
    Row images = row("g1", "Images for (g)", "—");
    CompareBench.Outcome o = CompareBench.run(work, opt.quick, n, this::progress);
    images.value = Double.isNaN(o.imageSeconds) ? o.images + " images" : String.format(Locale.ROOT,
        "%d images synthesized in %.1f s", o.images, o.imageSeconds);
    images.result = "—";
    double total = 0;
    for (int i = 0; i < o.models.size(); i++) {
      double own = 0, rnd = 0;
      for (double[][] s : o.metricSeconds.values()) {
        own += s[i][0];
        rnd += s[i][1];
      }
      double ctl = o.randomizationSeconds[i][0] + o.randomizationSeconds[i][1];
      double all = own + rnd + ctl;
      total += all;
      Row r = row("g" + (i + 2), o.methods.get(i) + " (" + o.models.get(i) + "): every metric on its own map, every"
          + " attribution metric on a random map, both randomisation stages, " + o.images + " images", "—");
      r.value = String.format(Locale.ROOT, "%.1f s (%.2f s per image: own map %.1f s, random map %.1f s,"
          + " randomisation %.1f s)", all, all / o.images, own, rnd, ctl);
      r.result = "—";
    }
    Row t = row("g" + (o.models.size() + 2), "Whole comparison: " + o.models.size() + " methods × all metrics × "
        + o.images + " images, with both controls", "—");
    t.value = String.format(Locale.ROOT, "%.1f s (%.1f min)", total, total / 60);
    t.result = "—";
    notes.add("(g) models: " + o.modelsNote + "; images: " + o.imagesNote + "; default metric settings (baseline"
        + " blur, runs 100, subset_size = step = image width, patch side = min(H, W)/16, top 10), bootstrap 2000, seed "
        + CompareBench.SEED + ", device cpu.");
    StringBuilder per = new StringBuilder("(g) seconds per metric, own map + random map, " + String.join(" | ",
        o.methods) + ":");
    for (Map.Entry<String, double[][]> e : o.metricSeconds.entrySet()) {
      per.append(' ').append(e.getKey());
      for (int i = 0; i < o.models.size(); i++) {
        double[] s = e.getValue()[i];
        per.append(i == 0 ? " " : " | ").append(String.format(Locale.ROOT, s[1] > 0 ? "%.1f + %.1f" : "%.1f", s[0],
            s[1]));
      }
      per.append(';');
    }
    per.append(" model randomisation (top + full, including the real maps):");
    for (int i = 0; i < o.models.size(); i++) {
      per.append(i == 0 ? " " : " | ").append(String.format(Locale.ROOT, "%.1f + %.1f", o.randomizationSeconds[i][0],
          o.randomizationSeconds[i][1]));
    }
    notes.add(per.append('.').toString());
    after.add("Comparison (g): mean over the images and its 95 % percentile-bootstrap interval; n = images with a"
        + " finite value.");
    after.add("");
    after.add("| model | method | metric | mean | 95 % CI | n |");
    after.add("|---|---|---|---|---|---|");
    for (org.diffxai.run.CompareMethodsRun.Row r : o.rows) {
      after.add(String.format(Locale.ROOT, "| %s | %s | %s | %.4f | [%.4f, %.4f] | %d |", r.model, r.method, r.metric,
          r.mean, r.low, r.high, r.n));
    }
  }

  // ---------------------------------------------------------------------------------------------- output

  private Row row(String id, String measure, String target) {
    Row r = new Row(id, measure, "not measured", target, "pending");
    rows.add(r);
    return r;
  }

  private void print(PrintStream out, double loadStart, double other, double seconds) {
    out.println("### Benchmark (" + (opt.quick ? "--quick smoke run: numbers NOT meaningful" : "full run") + ")");
    out.println();
    out.println(machine(loadStart, other, seconds));
    out.println();
    out.println("| # | Measure | Value | Target | Result |");
    out.println("|---|---|---|---|---|");
    for (Row r : rows) {
      out.println("| " + r.id + " | " + r.measure + " | " + r.value + " | " + r.target + " | " + r.result + " |");
    }
    out.println();
    for (String n : notes) out.println("- " + n);
    if (!after.isEmpty()) {
      out.println();
      for (String l : after) out.println(l);
    }
    out.flush();
  }

  private String machine(double loadStart, double other, double seconds) {
    StringBuilder sb = new StringBuilder("Machine: ");
    sb.append(Runtime.getRuntime().availableProcessors()).append(" cores");
    String cpu = cpuModel();
    if (cpu != null) sb.append(" (").append(cpu).append(')');
    sb.append(", ").append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"));
    sb.append("; JVM: ").append(System.getProperty("java.vm.name")).append(' ')
        .append(System.getProperty("java.runtime.version", System.getProperty("java.version")));
    sb.append(", max heap ").append(HeapProbe.maxHeapBytes() / (1 << 20)).append(" MB");
    try {
      sb.append("; TensorFlow ").append(TensorFlowRuntime.tensorflowVersion()).append(" (DJL ")
          .append(TensorFlowRuntime.djlVersion()).append(", TF Java graph API)");
    } catch (RuntimeException e) {
      sb.append("; TensorFlow not loaded (").append(e.getMessage()).append(')');
    }
    String onednn = System.getenv("TF_ENABLE_ONEDNN_OPTS");
    sb.append("; TF_ENABLE_ONEDNN_OPTS ").append(onednn == null ? "= 1 (set by TensorFlowRuntime)" : "= " + onednn + " (user's)");
    String intra = System.getProperty("ai.djl.tensorflow.num_intraop_threads");
    String inter = System.getProperty("ai.djl.tensorflow.num_interop_threads");
    if (intra != null || inter != null) {
      sb.append("; TF threads intra-op ").append(intra).append(", inter-op ").append(inter);
    }
    List<String> gcs = new ArrayList<>();
    for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      gcs.add(gc.getName());
    }
    sb.append("; GC ").append(String.join(", ", gcs));
    sb.append(String.format(Locale.ROOT, ". Run took %.0f s; load average %.1f at start", seconds, loadStart));
    boolean busy;
    if (Double.isNaN(other)) {
      busy = loadStart > 0.5 * Runtime.getRuntime().availableProcessors();
      sb.append('.');
    } else {
      busy = other > 0.10;
      sb.append(String.format(Locale.ROOT, "; other processes used %.0f%% of the CPU time during the run.",
          100 * other));
    }
    if (busy) sb.append(" **The machine was busy with other work: timings are not representative.**");
    return sb.toString();
  }

  private static String cpuModel() {
    try {
      Path p = Paths.get("/proc/cpuinfo");
      if (!Files.isReadable(p)) return null;
      for (String l : Files.readAllLines(p, StandardCharsets.UTF_8)) {
        if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim();
      }
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    return null;
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private void progress(String s) {
    log.println("[benchmark] " + s);
    log.flush();
  }


}
