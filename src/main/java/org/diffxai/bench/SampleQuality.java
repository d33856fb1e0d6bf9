package org.diffxai.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
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
 * phantoms never seen in training (the ceiling).
 *
 * <pre>
 * java -cp target/diffusion-xai.jar org.diffxai.bench.SampleQuality TRAINING_FOLDER [model=sample] [n=16] [steps=50]
 *     [seed=1]
 * </pre>
 */
public final class SampleQuality {
  private SampleQuality() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("Usage: SampleQuality TRAINING_FOLDER [model=sample] [n=16] [steps=50] [seed=1]");
      System.exit(2);
    }
    Path folder = Paths.get(args[0]);
    String model = "sample";
    int n = 16, steps = 50;
    long seed = 1;
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
    System.out.printf(Locale.ROOT, "Model %s: %d samples, DDIM %d steps, seed %d, %.1f s%n%n", model, n, steps, seed,
        seconds);
    System.out.println("| images (n=" + n + ") | SSIM to nearest training image | PSNR to nearest (dB) |");
    System.out.println("|---|---|---|");
    row("pure noise (floor)", noise, training, size, dataRange);
    row("samples of `" + model + "`", samples, training, size, dataRange);
    row("unseen phantoms (ceiling)", fresh, training, size, dataRange);
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
