package org.diffxai.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageInput;
import org.diffxai.metrics.BiasReport;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime;
import org.diffxai.run.BiasReportRun;
import org.diffxai.run.Env;
import org.diffxai.run.GeneratePhantomsRun;
import org.diffxai.run.TrainPrototypesRun;

/**
 * The planted-shortcut check of the Bias Report (issue 11, items 5 and 6) over several seeds. For each seed s:
 * <ol>
 *   <li><b>shortcut</b>: a pure shortcut — both classes are healthy {@link #SIZE}×{@link #SIZE} phantoms (seeds s and s + 1000), the slices
 *       filed as "lesion" carry a mark in the top-right corner, so the mark is all that tells the classes apart; a small
 *       PPNet trained on it ({@link #train}, background=keep); Bias Report on its training folder (masks=auto);
 *   <li>whether it really reads the mark: unseen healthy phantoms (seed s + 5000) with and without the mark, the share
 *       called lesion ({@link #calledLesion});
 *   <li><b>clean</b>: the same network trained on clean healthy/lesion phantoms (seed s), the report on its folder,
 *       and its accuracy on unseen clean phantoms (seed s + 5000);
 *   <li><b>retrained</b> (close the loop): the shortcut data trained again with background=randomize
 *       (foreground=labels): the report, and whether it still reads the mark;
 * </ol>
 * Targets: shortcut flagged at the top-right corner in ≥ 9 of 10 seeds; clean flagged in ≤ 1 of 10; retrained not
 * flagged. (The clean networks of this budget do not learn the lesion — their accuracy on unseen clean phantoms is
 * printed; {@link #runLearned} measures the negative control and the option's accuracy cost with networks that do,
 * {@code main("learned", seeds, first, size, count, epochs)}; docs/bias-report.md.)
 *
 * <p>Run (CPU, three networks and three reports per seed: about 2.5 minutes per seed on the shared 2-core machine at
 * load ~25, two processes of five seeds each): {@code java -cp <test classpath>
 * org.diffxai.bench.BiasReportBench [seeds] [first]} (default 10 seeds from 1).
 */
public final class BiasReportBench {
  /** Phantoms per class. */
  public static final int COUNT = 32;
  /** Side of the phantoms and the network's input. */
  public static final int SIZE = 32;
  /** Where the mark is planted. */
  public static final String CORNER = "top-right";
  /** Training epochs. */
  public static final int EPOCHS = 30;
  /** Learning rate of the joint epochs. */
  public static final double LEARNING_RATE = 1e-3;
  /** Share of the lesion slices that carry the mark in the lesion+mark setup of {@link #runLearned}. */
  public static final double LESION_MARK_SHARE = 0.8;
  /**
   * Unseen clean phantoms per class for the accuracies of {@link #runLearned} (one image of 200 is half a point, so a
   * difference of 2 points is four images).
   */
  public static final int ACCURACY_HELD_OUT = 100;
  /** Unseen phantoms per class for the checks. */
  public static final int HELD_OUT = 16;

  private BiasReportBench() {}

  public static void main(String[] args) throws IOException {
    if (args.length > 0 && args[0].equals("shift")) {
      shift(Long.parseLong(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
          args.length > 5 && args[5].equals("clean"), System.out);
      return;
    }
    if (args.length > 0 && args[0].equals("learned")) {
      runLearned(Integer.parseInt(args[1]), Long.parseLong(args[2]), Integer.parseInt(args[3]),
          Integer.parseInt(args[4]), Integer.parseInt(args[5]), args.length > 6 && args[6].equals("tiny"),
          args.length > 6 && args[6].equals("retrained"), args.length > 7 ? args[7] : "randomize", System.out);
      return;
    }
    run(args.length > 0 ? Integer.parseInt(args[0]) : 10, args.length > 1 ? Long.parseLong(args[1]) : 1, System.out);
  }

  /**
   * The negative control and the accuracy cost with networks that learn the lesion ({@code size}×{@code size}
   * phantoms, {@code count} per class, {@code epochs} epochs; otherwise the setup of {@link #train}). Per seed s:
   * <ol>
   *   <li><b>clean</b>: clean healthy/lesion phantoms (seed s), background=keep: the report, and the accuracy on unseen
   *       clean phantoms (seed s + 5000, {@link #ACCURACY_HELD_OUT} per class);
   *   <li><b>lesion+mark</b>: healthy/lesion phantoms (seed s) with the mark on 80 % of the lesion slices (a shortcut
   *       beside the real signal), background=keep: the report, the accuracy on the unseen clean phantoms, and the
   *       share of unseen healthy phantoms called lesion with / without the mark;
   *   <li><b>retrained</b>: the lesion+mark data trained again with background={@code option} (randomize or mask;
   *       foreground=labels): the same,
   *       and its accuracy on the unseen clean phantoms with their background randomised as in training and set plain
   *       ({@link #shiftAccuracies}: does the option shift the network away from clean backgrounds?).
   * </ol>
   * Targets: clean flagged in ≤ 1 of 10; lesion+mark retrained not flagged, its clean accuracy within 2 points of
   * before. {@code retrainedOnly}: only the retrained network (the clean and lesion+mark networks use background=keep,
   * so they are those of a full run with the same seed and budget). Run: {@code main("learned", seeds, first, size,
   * count, epochs[, "tiny" | "retrained" [option]])}. Returns {clean flagged, lesion+mark flagged, retrained flagged}.
   */
  public static int[] runLearned(int seeds, long first, int size, int count, int epochs, boolean tiny,
      boolean retrainedOnly, String option, PrintStream out) throws IOException {
    out.printf(Locale.ROOT, "learned setup: %dx%d, %d per class, %d epochs, %s%s%n", size, size, count, epochs,
        tiny ? "tiny network (learning rate " + LEARNING_RATE + ")" : "default network",
        retrainedOnly ? "; the retrained network only (the others use background=keep: see a full run)" : "");
    out.println("retrained with background=" + option + " foreground=labels");
    out.println("| seed | clean: verdict, flipped, in region | clean accuracy | lesion+mark: verdict, flipped, in"
        + " region | accuracy | marked / plain healthy called lesion | retrained: verdict, flipped, in region |"
        + " accuracy | marked / plain called lesion | retrained accuracy, background randomised / plain |");
    out.println("|---|---|---|---|---|---|---|---|---|---|");
    int cleanFlagged = 0, markFlagged = 0, retrainedFlagged = 0;
    for (long seed = first; seed < first + seeds; seed++) {
      Path dir = Files.createTempDirectory("diffxai-bias-bench");
      try {
        Path test = heldOutClean(dir.resolve("heldout-clean"), seed, size, ACCURACY_HELD_OUT);
        String clean = "- | -", mark = "- | - | -";
        if (!retrainedOnly) {
          Path[] cl = train(dir.resolve("clean"), "none", seed, "keep", size, count, epochs, LEARNING_RATE, tiny);
          BiasReport.Verdict vc = report(cl, null).verdict;
          double accClean = accuracy(cl[1], test);
          System.err.printf(Locale.ROOT, "seed %d clean: %s, accuracy %.3f%n", seed, row(vc), accClean);
          Path[] mk = train(dir.resolve("lesion-mark"), "lesion-mark", seed, "keep", size, count, epochs,
              LEARNING_RATE, tiny);
          BiasReport.Verdict vm = report(mk, null).verdict;
          double accMark = accuracy(mk[1], test);
          double[] usesMark = calledLesion(mk[1], dir.resolve("heldout-mark"), seed);
          if (vc.flagged()) cleanFlagged++;
          if (vm.flagged()) markFlagged++;
          clean = String.format(Locale.ROOT, "%s | %.3f", row(vc), accClean);
          mark = String.format(Locale.ROOT, "%s | %.3f | %.2f / %.2f", row(vm), accMark, usesMark[0], usesMark[1]);
        }
        Path[] re = train(dir.resolve("lesion-mark-retrained"), "lesion-mark", seed, option, size, count, epochs,
            LEARNING_RATE, tiny);
        BiasReport.Verdict vr = report(re, null).verdict;
        double[] shifted = shiftAccuracies(re[1], test, seed, System.err);
        double accRe = shifted[0];
        double[] usesRe = calledLesion(re[1], dir.resolve("heldout-mark"), seed);
        if (vr.flagged()) retrainedFlagged++;
        out.printf(Locale.ROOT, "| %d | %s | %s | %s | %.3f | %.2f / %.2f | %.3f / %.3f |%n", seed, clean, mark,
            row(vr), accRe, usesRe[0], usesRe[1], shifted[1], shifted[2]);
        out.flush();
      } finally {
        AtomicFiles.deleteRecursively(dir);
      }
    }
    if (!retrainedOnly) {
      out.printf(Locale.ROOT, "%nclean network flagged: %d/%d; lesion+mark network flagged: %d/%d; ", cleanFlagged,
          seeds, markFlagged, seeds);
    }
    out.printf(Locale.ROOT, "retrained with background=%s flagged: %d/%d%n", option, retrainedFlagged, seeds);
    return new int[] {cleanFlagged, markFlagged, retrainedFlagged};
  }

  /**
   * Is the clean-accuracy deficit of the retrained network a distribution shift of the background option? For seed s
   * at the given budget (default network): the clean network (background=keep) and, unless {@code cleanOnly}, the
   * lesion+mark network retrained with background=randomize, each on the unseen clean phantoms of {@link #runLearned}
   * (a) as they are, (b) with the outside of the anatomy replaced the way background=randomize trains
   * ({@link #randomizedBackground}), (c) with it set plain at the image's own outside level
   * ({@link BiasReport#withoutBackground}). Also prints the outside level of the unseen phantoms in model units.
   */
  public static void shift(long seed, int size, int count, int epochs, boolean cleanOnly, PrintStream out)
      throws IOException {
    Path dir = Files.createTempDirectory("diffxai-bias-shift");
    try {
      Path test = heldOutClean(dir.resolve("heldout-clean"), seed, size, ACCURACY_HELD_OUT);
      out.printf(Locale.ROOT, "shift check: seed %d, %dx%d, %d per class, %d epochs, default network%n", seed, size,
          size, count, epochs);
      out.println("| network | (a) as they are | (b) background randomised as in training | (c) background plain |");
      out.println("|---|---|---|---|");
      Path[] cl = train(dir.resolve("clean"), "none", seed, "keep", size, count, epochs, LEARNING_RATE, false);
      print(out, "clean (keep)", shiftAccuracies(cl[1], test, seed, out));
      if (!cleanOnly) {
        Path[] re = train(dir.resolve("lesion-mark-randomize"), "lesion-mark", seed, "randomize", size, count,
            epochs, LEARNING_RATE, false);
        print(out, "lesion+mark retrained (randomize)", shiftAccuracies(re[1], test, seed, out));
      }
    } finally {
      AtomicFiles.deleteRecursively(dir);
    }
  }

  private static void print(PrintStream out, String name, double[] acc) {
    out.printf(Locale.ROOT, "| %s | %.3f | %.3f | %.3f |%n", name, acc[0], acc[1], acc[2]);
    out.flush();
  }

  /**
   * Accuracies of the bundle on a class-folder of Generate Phantoms images (with their label maps): {as they are,
   * background randomised as in training, background plain at the image's own outside level}.
   */
  public static double[] shiftAccuracies(Path bundle, Path folder, long seed, PrintStream out) {
    try (LoadedModel<PrototypeClassifier> m = open(bundle)) {
      PrototypeClassifier c = m.get();
      org.diffxai.io.InputImages in = ImageInput.readClasses(folder, ImageInput.Settings.size(c.width(), c.width())
          .channels(1), Progress.NONE);
      FloatStack f = in.stack();
      int w = f.width, h = f.height, px = w * h, n = f.planeCount();
      java.util.Random r = org.diffxai.core.Seeds.random(seed, "bench.shift");
      org.diffxai.core.GaussianNoise g = org.diffxai.core.Seeds.gaussian(seed, "bench.shift.noise", 0);
      float[][] x = new float[3][n * px];
      double sum = 0, sq = 0;
      long outside = 0;
      for (int i = 0; i < n; i++) {
        float[] plane = f.plane(i);
        Path file = folder.resolve(in.noteOfPlane(i).source);
        boolean[] anatomy = org.diffxai.io.MaskFiles.readLabelMask(org.diffxai.io.MaskFiles.companion(file,
            org.diffxai.io.MaskFiles.Kind.LABELS), org.diffxai.phantom.Tissue::isAnatomy, w, h);
        System.arraycopy(plane, 0, x[0], i * px, px);
        float[] model = m.intensity().toModel(plane.clone());
        for (int q = 0; q < px; q++) {
          if (anatomy[q]) continue;
          sum += model[q];
          sq += model[q] * (double) model[q];
          outside++;
        }
        System.arraycopy(m.intensity().toImage(randomizedBackground(model, anatomy, r, g)), 0, x[1], i * px, px);
        System.arraycopy(BiasReport.withoutBackground(plane, anatomy, null, w, h), 0, x[2], i * px, px);
      }
      double mean = sum / outside;
      out.printf(Locale.ROOT, "(unseen clean phantoms outside the anatomy, model units: mean %.3f, sd %.3f)%n", mean,
          Math.sqrt(Math.max(0, sq / outside - mean * mean)));
      double[] acc = new double[3];
      for (int k = 0; k < 3; k++) {
        float[][] logits = c.logits(x[k], n);
        for (int i = 0; i < n; i++) {
          String cls = f.label(i).substring(0, f.label(i).indexOf('/'));
          acc[k] += c.classNames().get(argmax(logits[i])).equals(cls) ? 1.0 / n : 0;
        }
      }
      return acc;
    }
  }

  /**
   * A model-space image with the outside of its anatomy drawn as ProtoTrainer's background=randomize draws it in
   * training (N(μ, s²), μ ~ U(−1, 1), s ~ U(0, 0.5), clipped to [−1, 1]).
   */
  static float[] randomizedBackground(float[] model, boolean[] anatomy, java.util.Random r,
      org.diffxai.core.GaussianNoise g) {
    double mu = r.nextDouble() * 2 - 1;
    double sd = r.nextDouble() * 0.5;
    float[] out = model.clone();
    for (int q = 0; q < out.length; q++) {
      if (!anatomy[q]) out[q] = (float) Math.max(-1, Math.min(1, mu + sd * g.nextGaussian()));
    }
    return out;
  }

  /** Measures seeds first … first + n − 1, printing one row per seed as it finishes, then the counts. */
  public static int[] run(int seeds, long first, PrintStream out) throws IOException {
    out.println("| seed | shortcut: verdict, flipped, in region | marked / plain unseen called lesion | clean: verdict,"
        + " flipped | clean accuracy on unseen phantoms | retrained: verdict, flipped | retrained marked / plain called"
        + " lesion |");
    out.println("|---|---|---|---|---|---|---|");
    int shortcutFlagged = 0, cleanFlagged = 0, retrainedFlagged = 0, retrainedAtCorner = 0;
    for (long seed = first; seed < first + seeds; seed++) {
      Path dir = Files.createTempDirectory("diffxai-bias-bench");
      try {
        Path[] sc = train(dir.resolve("mark"), "mark", seed, "keep");
        BiasReport.Verdict vs = report(sc, null).verdict;
        double[] uses = calledLesion(sc[1], dir.resolve("heldout-mark"), seed);
        Path[] cl = train(dir.resolve("clean"), "none", seed, "keep");
        BiasReport.Verdict vc = report(cl, null).verdict;
        Path test = heldOutClean(dir.resolve("heldout-clean"), seed);
        double accKeep = accuracy(cl[1], test);
        Path[] re = train(dir.resolve("mark-randomize"), "mark", seed, "randomize");
        BiasReport.Verdict vr = report(re, null).verdict;
        double[] usesAfter = calledLesion(re[1], dir.resolve("heldout-mark"), seed);
        if (vs.flagged() && vs.region == BiasReport.Region.TOP_RIGHT) shortcutFlagged++;
        if (vc.flagged()) cleanFlagged++;
        if (vr.flagged()) retrainedFlagged++;
        if (vr.flagged() && vr.region == BiasReport.Region.TOP_RIGHT) retrainedAtCorner++;
        out.printf(Locale.ROOT, "| %d | %s | %.2f / %.2f | %s | %.3f | %s | %.2f / %.2f |%n", seed, row(vs),
            uses[0], uses[1], row(vc), accKeep, row(vr), usesAfter[0], usesAfter[1]);
        out.flush();
      } finally {
        AtomicFiles.deleteRecursively(dir);
      }
    }
    out.printf(Locale.ROOT, "%nshortcut network flagged at the %s corner: %d/%d; clean network flagged: %d/%d; "
        + "retrained with background=randomize flagged: %d/%d (at the %s corner: %d/%d)%n", CORNER, shortcutFlagged,
        seeds, cleanFlagged, seeds, retrainedFlagged, seeds, CORNER, retrainedAtCorner, seeds);
    return new int[] {shortcutFlagged, cleanFlagged, retrainedFlagged, retrainedAtCorner};
  }

  private static String row(BiasReport.Verdict v) {
    return String.format(Locale.ROOT, "%s %s, %d/%d, %d", v.level, v.region == null ? "-" : v.region.text,
        v.offAnatomy, v.images, v.inRegion);
  }

  /**
   * Phantoms in {@code dir/phantoms/healthy} and {@code dir/phantoms/lesion}, and a small PPNet trained on them by
   * Train Prototype Network into {@code dir/bundle}; returns {phantoms, bundle}. {@code shortcut} "none": Generate
   * Phantoms' healthy and lesion slices (seed {@code seed}). "mark": a pure shortcut — both classes are healthy slices
   * (seeds {@code seed} and {@code seed + 1000}), and the slices filed as "lesion" carry the mark in the
   * {@link #CORNER} corner (share 1), so the mark is the only thing that tells the classes apart. "lesion-mark":
   * Generate Phantoms' healthy and lesion slices (seed {@code seed}) with the mark on {@link #LESION_MARK_SHARE} of the
   * lesion slices, a shortcut beside the real signal (every network of docs/bias-report.md trained on it reads the
   * mark). {@code background}: keep or randomize (the anatomy from the label maps Generate Phantoms writes).
   */
  public static Path[] train(Path dir, String shortcut, long seed, String background) throws IOException {
    return train(dir, shortcut, seed, background, SIZE, COUNT);
  }

  /** {@link #train(Path, String, long, String)} at another image side and number of phantoms per class. */
  public static Path[] train(Path dir, String shortcut, long seed, String background, int size, int count)
      throws IOException {
    return train(dir, shortcut, seed, background, size, count, EPOCHS, LEARNING_RATE);
  }

  /** {@link #train(Path, String, long, String, int, int)} with another number of epochs and learning rate. */
  public static Path[] train(Path dir, String shortcut, long seed, String background, int size, int count,
      int epochs, double learningRate) throws IOException {
    return train(dir, shortcut, seed, background, size, count, epochs, learningRate, true);
  }

  /**
   * {@link #train(Path, String, long, String, int, int, int, double)}; {@code tiny} false: Train Prototype Network's
   * default architecture and schedule (5 prototypes per class, base 16, depth 32, batch 32, learning rate 3e-4, push
   * every 10 epochs, 5 last-layer epochs; {@code learningRate} ignored), still without flips.
   */
  public static Path[] train(Path dir, String shortcut, long seed, String background, int size, int count,
      int epochs, double learningRate, boolean tiny) throws IOException {
    Path phantoms = dir.resolve("phantoms");
    if (shortcut.equals("none")) {
      generate(phantoms, "healthy,lesion", "none", seed, count, size);
    } else if (shortcut.equals("lesion-mark")) {
      generate(phantoms, "healthy,lesion", "mark", "lesion", LESION_MARK_SHARE, seed, count, size);
    } else {
      generate(dir.resolve("marked"), "healthy", shortcut, seed, count, size);
      generate(dir.resolve("plain"), "healthy", "none", seed + 1000, count, size);
      Files.createDirectories(phantoms);
      Files.move(dir.resolve("marked").resolve("healthy"), phantoms.resolve("lesion"));
      Files.move(dir.resolve("plain").resolve("healthy"), phantoms.resolve("healthy"));
    }
    Path bundle = dir.resolve("bundle");
    TrainPrototypesRun.Request t = new TrainPrototypesRun.Request();
    t.images = phantoms.toString();
    t.size = size;
    t.epochs = epochs;
    if (tiny) {
      t.prototypes_per_class = 2;
      t.learning_rate = learningRate;
      t.batch = 8;
      t.push_every = 5;
      t.last_layer_epochs = 2;
      t.base_channels = 8;
      t.feature_depth = 16;
    }
    t.seed = seed;
    t.flip = false; // a left-right flip would move the corner mark to the other corner in half the batches
    t.background = background;
    t.foreground = "labels";
    t.device = "cpu";
    t.name = (tiny ? "tiny-" : "default-") + shortcut + "-" + background;
    t.description = "planted-shortcut check";
    t.output = bundle.toString();
    TrainPrototypesRun.run(t, Env.files(Progress.NONE));
    return new Path[] {phantoms, bundle};
  }

  private static void generate(Path out, String classes, String shortcut, long seed, int count, int size) {
    generate(out, classes, shortcut, "healthy", 1, seed, count, size);
  }

  private static void generate(Path out, String classes, String shortcut, String shortcutClass, double share,
      long seed, int count, int size) {
    GeneratePhantomsRun.Request g = new GeneratePhantomsRun.Request();
    g.count = count;
    g.size = size;
    g.seed = seed;
    g.classes = classes;
    g.shortcut = shortcut;
    g.shortcut_class = shortcutClass;
    g.shortcut_share = share;
    g.shortcut_corner = CORNER;
    g.output = out.toString();
    GeneratePhantomsRun.run(g, Env.files(Progress.NONE));
  }

  /**
   * Whether the network reads the mark: the shares of unseen healthy phantoms (seed + 5000) called lesion with the mark
   * and without it (the same phantoms), {marked, plain}.
   */
  public static double[] calledLesion(Path bundle, Path dir, long seed) {
    try (LoadedModel<PrototypeClassifier> m = open(bundle)) {
      PrototypeClassifier c = m.get();
      if (!Files.isDirectory(dir.resolve("mark"))) {
        generate(dir.resolve("mark"), "healthy", "mark", seed + 5000, HELD_OUT, c.width());
        generate(dir.resolve("none"), "healthy", "none", seed + 5000, HELD_OUT, c.width());
      }
      int lesion = c.classNames().indexOf("lesion");
      double[] out = new double[2];
      for (int k = 0; k < 2; k++) {
        FloatStack f = read(dir.resolve(k == 0 ? "mark" : "none"), c.width());
        float[][] logits = c.logits(flat(f), f.planeCount());
        for (float[] l : logits) out[k] += argmax(l) == lesion ? 1.0 / logits.length : 0;
      }
      return out;
    }
  }

  /** Unseen clean healthy and lesion phantoms (seed + 5000). */
  private static Path heldOutClean(Path dir, long seed) {
    return heldOutClean(dir, seed, SIZE, HELD_OUT);
  }

  private static Path heldOutClean(Path dir, long seed, int size, int count) {
    generate(dir, "healthy,lesion", "none", seed + 5000, count, size);
    return dir;
  }

  /** Accuracy on a class-folder of phantoms. */
  public static double accuracy(Path bundle, Path folder) {
    try (LoadedModel<PrototypeClassifier> m = open(bundle)) {
      PrototypeClassifier c = m.get();
      FloatStack f = read(folder, c.width());
      float[][] logits = c.logits(flat(f), f.planeCount());
      int correct = 0;
      for (int i = 0; i < logits.length; i++) {
        String cls = f.label(i).substring(0, f.label(i).indexOf('/'));
        correct += c.classNames().get(argmax(logits[i])).equals(cls) ? 1 : 0;
      }
      return correct / (double) logits.length;
    }
  }

  private static LoadedModel<PrototypeClassifier> open(Path bundle) {
    return Models.prototypes(bundle.toString(), TensorFlowRuntime.DeviceChoice.parse("cpu"), 32, false,
        Progress.NONE);
  }

  private static FloatStack read(Path folder, int size) {
    return ImageInput.readClasses(folder, ImageInput.Settings.size(size, size).channels(1), Progress.NONE).stack();
  }

  private static float[] flat(FloatStack f) {
    int px = f.width * f.height;
    float[] x = new float[f.planeCount() * px];
    for (int i = 0; i < f.planeCount(); i++) System.arraycopy(f.plane(i), 0, x, i * px, px);
    return x;
  }

  private static int argmax(float[] v) {
    int b = 0;
    for (int k = 1; k < v.length; k++) if (v[k] > v[b]) b = k;
    return b;
  }

  /**
   * Bias Report on the network's training folder with masks=auto and map=upsample (the verdict rests on the
   * background-ablation test, not on the map; the upsampled map is the cheapest); files in {@code out} unless null.
   */
  public static BiasReportRun.Result report(Path[] trained, Path out) {
    return report(trained, out, trained[1].toString());
  }

  /** {@link #report(Path[], Path)} of another model (a bundle folder or a bundled sample) on {@code trained[0]}. */
  public static BiasReportRun.Result report(Path[] trained, Path out, String model) {
    BiasReportRun.Request r = new BiasReportRun.Request();
    r.image = trained[0].toString();
    r.model = model;
    r.masks = "auto";
    r.map = "upsample";
    r.device = "cpu";
    r.output = out == null ? "" : out.toString();
    return BiasReportRun.run(r, Env.files(Progress.NONE));
  }
}
