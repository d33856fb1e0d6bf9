package org.diffxai.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.ImageMetrics;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.MaskFiles;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.run.Env;
import org.diffxai.run.SynthesizeRun;

/**
 * How much a denoiser's samples look like its training images: for each image of a group, the SSIM and PSNR of the
 * nearest training image (Wang et al. 2004 SSIM, data range = the training set's 0.5–99.5 % percentile range), as
 * mean ± sd per group. Groups: the model's samples, pure Gaussian noise in the same units (the floor), and fresh
 * phantoms never seen in training (the ceiling). With {@code per_class} and {@code classifiers} it also measures class
 * consistency ({@link #classConsistency}).
 *
 * <pre>
 * java -cp target/diffusion-xai.jar org.diffxai.bench.SampleQuality TRAINING_FOLDER [model=sample] [n=16] [steps=50]
 *     [seed=1] [per_class=64 classifiers=sample-ppnet,sample-eppnet,sample-protopool,/path/to/phantom-cnn]
 * </pre>
 */
public final class SampleQuality {
  private SampleQuality() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("Usage: SampleQuality TRAINING_FOLDER [model=sample] [n=16] [steps=50] [seed=1]"
          + " [per_class=64 classifiers=NAME,NAME,...] [cfg_scale=0]");
      System.exit(2);
    }
    Path folder = Paths.get(args[0]);
    String model = "sample";
    int n = 16, steps = 50;
    long seed = 1;
    int perClass = 0;
    double cfg = 0;
    List<String> classifiers = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      switch (kv[0]) {
        case "model":
          model = kv[1];
          break;
        case "n":
          n = Integer.parseInt(kv[1]);
          break;
        case "steps":
          steps = Integer.parseInt(kv[1]);
          break;
        case "seed":
          seed = Long.parseLong(kv[1]);
          break;
        case "cfg_scale":
          cfg = Double.parseDouble(kv[1]);
          break;
        case "per_class":
          perClass = Integer.parseInt(kv[1]);
          break;
        case "classifiers":
          classifiers = java.util.Arrays.asList(kv[1].split(","));
          break;
        default:
          throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }

    List<float[]> training = readAll(folder);
    int size = (int) Math.round(Math.sqrt(training.get(0).length));
    double[] range = percentiles(training, 0.005, 0.995);
    double dataRange = range[1] - range[0];

    SynthesizeRun.Request r = new SynthesizeRun.Request();
    r.model = model;
    r.samples = n;
    r.steps = steps;
    r.seed = seed;
    r.cfg_scale = Double.toString(cfg);
    r.device = "cpu";
    long t0 = System.nanoTime();
    SynthesizeRun.Result res = SynthesizeRun.run(r, Env.files());
    double seconds = (System.nanoTime() - t0) / 1e9;
    List<float[]> samples = new ArrayList<>();
    for (int i = 0; i < n; i++) samples.add(res.samples.plane(i));

    // floor: N(0, 1) in model space mapped to image units like the samples (what x_T looks like)
    List<float[]> noise = new ArrayList<>();
    double scale = (range[1] - range[0]) / 2, offset = (range[1] + range[0]) / 2;
    for (int i = 0; i < n; i++) {
      float[] v = GaussianNoise.forSample(seed + 12345, i).fill(new float[size * size]);
      for (int j = 0; j < v.length; j++) v[j] = (float) (v[j] * scale + offset);
      noise.add(v);
    }
    // ceiling: phantoms of the same generator with a seed not used for training, half of each class
    List<float[]> fresh = new ArrayList<>();
    PhantomGenerator gen = new PhantomGenerator(size);
    for (int i = 0; i < n; i++) fresh.add(gen.generate(987654321L, i, i % 2 == 1).pixels);

    System.out.printf(Locale.ROOT, "Training images: %d (%dx%d), data range %.4g (0.5-99.5 %%: %.4g..%.4g)%n",
        training.size(), size, size, dataRange, range[0], range[1]);
    System.out.printf(Locale.ROOT, "Model %s: %d samples, DDIM %d steps, seed %d, cfg_scale %s, %.1f s%n%n", model, n,
        steps, seed, cfg, seconds);
    System.out.println("| images (n=" + n + ") | SSIM to nearest training image | PSNR to nearest (dB) |");
    System.out.println("|---|---|---|");
    row("pure noise (floor)", noise, training, size, dataRange);
    row("samples of `" + model + "`", samples, training, size, dataRange);
    row("unseen phantoms (ceiling)", fresh, training, size, dataRange);

    if (perClass > 0 && !classifiers.isEmpty()) classConsistency(model, perClass, steps, seed, cfg, classifiers);
  }

  /**
   * Class consistency: {@code perClass} samples of every class label (DDIM, the given steps, seeds (seed, i) so sample
   * i of every class starts from the same x_T), each classified by every classifier; prints per classifier the share
   * classified as the label they were drawn with. The same for the samples after a 3×3 median filter (it removes
   * grain, not lesions of a few pixels), and for unseen phantoms of each class as they are and filtered, so that a low
   * share can be told apart from a weak classifier, and texture from label-following. Also prints the grain: the
   * standard deviation of the background (four 6×6 corner patches) per image set.
   */
  static void classConsistency(String model, int perClass, int steps, long seed, double cfg, List<String> classifiers)
      throws IOException {
    List<String> classes = org.diffxai.model.DenoiserBundle.open(model).classNames();
    if (classes.isEmpty()) throw new IllegalArgumentException("model " + model + " is not class-conditional");
    int size = 0;
    List<float[]> samples = new ArrayList<>();
    for (String c : classes) {
      SynthesizeRun.Request r = new SynthesizeRun.Request();
      r.model = model;
      r.samples = perClass;
      r.steps = steps;
      r.seed = seed;
      r.label = c;
      r.cfg_scale = Double.toString(cfg);
      r.device = "cpu";
      SynthesizeRun.Result res = SynthesizeRun.run(r, Env.files());
      size = res.samples.width();
      float[] all = new float[perClass * size * size];
      for (int i = 0; i < perClass; i++) System.arraycopy(res.samples.plane(i), 0, all, i * size * size, size * size);
      samples.add(all);
    }
    PhantomGenerator gen = new PhantomGenerator(size);
    List<float[]> phantoms = new ArrayList<>();
    for (String c : classes) {
      float[] all = new float[perClass * size * size];
      for (int i = 0; i < perClass; i++) {
        System.arraycopy(gen.generate(987654321L, 1000 + i, "lesion".equals(c)).pixels, 0, all, i * size * size,
            size * size);
      }
      phantoms.add(all);
    }
    Map<String, List<float[]>> sets = new LinkedHashMap<>();
    sets.put("samples", samples);
    sets.put("samples, 3×3 median", median3(samples, size));
    sets.put("unseen phantoms", phantoms);
    sets.put("unseen phantoms, 3×3 median", median3(phantoms, size));

    System.out.printf(Locale.ROOT, "%nClass consistency of `%s`: %d samples per class (DDIM %d steps, seed %d, cfg_scale %s)"
        + " and %d unseen phantoms per class%n%n", model, perClass, steps, seed, cfg, perClass);
    StringBuilder head = new StringBuilder("| classifier | images |");
    StringBuilder rule = new StringBuilder("|---|---|");
    for (String c : classes) {
      head.append(" `").append(c).append("` → ").append(c).append(" |");
      rule.append("---|");
    }
    System.out.println(head);
    System.out.println(rule);
    for (String name : classifiers) {
      try (org.diffxai.model.DjlClassifier clf = org.diffxai.model.ClassifierModels.load(
          org.diffxai.model.ClassifierBundle.open(name), "cpu")) {
        for (Map.Entry<String, List<float[]>> set : sets.entrySet()) {
          StringBuilder line = new StringBuilder("| " + name + " | " + set.getKey() + " |");
          for (int ci = 0; ci < classes.size(); ci++) {
            int target = clf.classNames().indexOf(classes.get(ci));
            if (target < 0) throw new IllegalArgumentException(name + " has no class " + classes.get(ci));
            int hits = 0;
            for (float[] l : clf.logits(set.getValue().get(ci), perClass)) hits += argmax(l) == target ? 1 : 0;
            line.append(String.format(Locale.ROOT, " %d/%d (%.0f %%) |", hits, perClass, 100.0 * hits / perClass));
          }
          System.out.println(line);
        }
      }
    }
    System.out.println();
    System.out.println("| images | background sd (image units, 6×6 corner patches) |");
    System.out.println("|---|---|");
    for (Map.Entry<String, List<float[]>> set : sets.entrySet()) {
      double[] sd = new double[classes.size() * perClass];
      for (int ci = 0; ci < classes.size(); ci++) {
        for (int i = 0; i < perClass; i++) {
          sd[ci * perClass + i] = cornerSd(set.getValue().get(ci), i * size * size, size, 6);
        }
      }
      System.out.printf(Locale.ROOT, "| %s | %.4f ± %.4f |%n", set.getKey(), mean(sd), sd(sd));
    }
  }

  /** Each size×size image of each stack filtered by a 3×3 median (edges: the window is clipped to the image). */
  static List<float[]> median3(List<float[]> stacks, int size) {
    List<float[]> out = new ArrayList<>();
    float[] w = new float[9];
    for (float[] st : stacks) {
      float[] f = new float[st.length];
      for (int o = 0; o < st.length; o += size * size) {
        for (int y = 0; y < size; y++) {
          for (int x = 0; x < size; x++) {
            int m = 0;
            for (int dy = -1; dy <= 1; dy++) {
              for (int dx = -1; dx <= 1; dx++) {
                int yy = y + dy, xx = x + dx;
                if (yy >= 0 && yy < size && xx >= 0 && xx < size) w[m++] = st[o + yy * size + xx];
              }
            }
            java.util.Arrays.sort(w, 0, m);
            f[o + y * size + x] = m % 2 == 1 ? w[m / 2] : (w[m / 2 - 1] + w[m / 2]) / 2;
          }
        }
      }
      out.add(f);
    }
    return out;
  }

  /** Standard deviation of the pixels in the four k×k corner patches of the image at {@code off}. */
  static double cornerSd(float[] stack, int off, int size, int k) {
    double s = 0, ss = 0;
    int n = 0;
    for (int cy : new int[] {0, size - k}) {
      for (int cx : new int[] {0, size - k}) {
        for (int y = cy; y < cy + k; y++) {
          for (int x = cx; x < cx + k; x++) {
            double v = stack[off + y * size + x];
            s += v;
            ss += v * v;
            n++;
          }
        }
      }
    }
    double m = s / n;
    return Math.sqrt(Math.max(0, ss / n - m * m));
  }

  static int argmax(float[] v) {
    int b = 0;
    for (int i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
    return b;
  }

  private static void row(String name, List<float[]> images, List<float[]> training, int size, double range) {
    double[] s = new double[images.size()], p = new double[images.size()];
    for (int i = 0; i < images.size(); i++) {
      ImageMetrics.Nearest nn = ImageMetrics.nearest(images.get(i), training, size, size, range);
      s[i] = nn.ssim;
      p[i] = nn.psnr;
    }
    System.out.printf(Locale.ROOT, "| %s | %.3f ± %.3f | %.2f ± %.2f |%n", name, mean(s), sd(s), mean(p), sd(p));
  }

  static List<float[]> readAll(Path folder) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(folder)) {
      files = MaskFiles.withoutCompanions(s.filter(f -> f.toString().endsWith(".tif")).sorted()
          .collect(Collectors.toList()));
    }
    List<float[]> out = new ArrayList<>();
    for (Path f : files) out.add(ImageReaders.readPlane(f).plane(0));
    if (out.isEmpty()) throw new IllegalArgumentException("no .tif files under " + folder);
    return out;
  }

  static double[] percentiles(List<float[]> images, double lo, double hi) {
    int total = 0;
    for (float[] v : images) total += v.length;
    float[] all = new float[total];
    int k = 0;
    for (float[] v : images) {
      System.arraycopy(v, 0, all, k, v.length);
      k += v.length;
    }
    java.util.Arrays.sort(all);
    return new double[] {all[(int) Math.floor(lo * (total - 1))], all[(int) Math.floor(hi * (total - 1))]};
  }

  static double mean(double[] v) {
    double s = 0;
    for (double x : v) s += x;
    return s / v.length;
  }

  static double sd(double[] v) {
    double m = mean(v), s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return Math.sqrt(s / Math.max(1, v.length - 1));
  }
}
