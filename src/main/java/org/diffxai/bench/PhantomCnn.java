package org.diffxai.bench;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.GaussianNoise;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.tf.PlainCnn;

/**
 * Trains the independent lesion check of {@link SampleQuality}: a plain CNN ({@link PlainCnn}, no prototypes) on fresh
 * phantoms of both classes (generator seed {@value #TRAIN_SEED}, never used for the denoiser or the prototype
 * networks), with flips and additive Gaussian noise of a random level as augmentation, then reports its accuracy on
 * unseen phantoms (seed {@value #TEST_SEED}) as they are and with extra noise, and writes it as a classifier bundle
 * that SampleQuality takes in {@code classifiers=}.
 *
 * <pre>
 * java -cp target/diffusion-xai.jar org.diffxai.bench.PhantomCnn OUTPUT_BUNDLE [per_class=1024] [epochs=8]
 *     [noise=0.25] [seed=1] [size=64]
 * </pre>
 */
public final class PhantomCnn {
  static final long TRAIN_SEED = 424242;
  static final long TEST_SEED = 987654321;
  /** First phantom index of the test set (SampleQuality uses indices below 2000 of the same seed). */
  static final int TEST_FIRST = 5000;

  private PhantomCnn() {}

  public static void main(String[] args) {
    if (args.length < 1) {
      System.err.println("Usage: PhantomCnn OUTPUT_BUNDLE [per_class=1024] [epochs=8] [noise=0.25] [seed=1] [size=64]");
      System.exit(2);
    }
    Path out = Paths.get(args[0]);
    int perClass = 1024, epochs = 8, size = 64;
    double noise = 0.25;
    long seed = 1;
    for (int i = 1; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      switch (kv[0]) {
        case "per_class":
          perClass = Integer.parseInt(kv[1]);
          break;
        case "epochs":
          epochs = Integer.parseInt(kv[1]);
          break;
        case "noise":
          noise = Double.parseDouble(kv[1]);
          break;
        case "seed":
          seed = Long.parseLong(kv[1]);
          break;
        case "size":
          size = Integer.parseInt(kv[1]);
          break;
        default:
          throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    PhantomGenerator gen = new PhantomGenerator(size);
    List<float[]> train = new ArrayList<>();
    int[] labels = new int[2 * perClass];
    for (int i = 0; i < perClass; i++) {
      for (int c = 0; c < 2; c++) {
        labels[train.size()] = c;
        train.add(gen.generate(TRAIN_SEED, i, c == 1).pixels);
      }
    }
    double[] range = SampleQuality.percentiles(train, 0.005, 0.995);
    IntensityMapping map = new IntensityMapping((range[1] - range[0]) / 2, (range[1] + range[0]) / 2);
    List<float[]> model = new ArrayList<>();
    for (float[] v : train) model.add(map.toModel(v.clone()));

    long t0 = System.nanoTime();
    try (PlainCnn cnn = new PlainCnn(size, 2, 16, seed)) {
      cnn.train(model, labels, epochs, 32, 1e-3, noise, new Progress() {
        private long last;

        @Override
        public void report(String message, double fraction) {
          long now = System.nanoTime();
          if (now - last > 60e9) {
            System.out.println(message);
            last = now;
          }
        }

        @Override
        public boolean isCancelled() {
          return false;
        }
      });
      double seconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "Trained on %d phantoms (%d per class, seed %d), %d epochs, noise up to %.2f"
          + " (model units), %.0f s%n", train.size(), perClass, TRAIN_SEED, epochs, noise, seconds);
      int n = 200;
      System.out.println("| unseen phantoms (n=" + n + " per class) | extra noise σ (model units) | healthy → healthy"
          + " | lesion → lesion |");
      System.out.println("|---|---|---|---|");
      Map<String, Object> accuracy = new LinkedHashMap<>();
      for (double sigma : new double[] {0, 0.1, 0.2, 0.3}) {
        int[] hits = new int[2];
        for (int c = 0; c < 2; c++) {
          float[] x = new float[n * size * size];
          for (int i = 0; i < n; i++) {
            float[] v = map.toModel(gen.generate(TEST_SEED, TEST_FIRST + i, c == 1).pixels.clone());
            GaussianNoise g = new GaussianNoise(GaussianNoise.streamSeed(seed + 99, i));
            for (int j = 0; j < v.length; j++) x[i * v.length + j] = v[j] + (float) (sigma * g.nextGaussian());
          }
          for (float[] l : cnn.logits(x, n)) hits[c] += SampleQuality.argmax(l) == c ? 1 : 0;
        }
        System.out.printf(Locale.ROOT, "| seed %d | %.1f | %d/%d | %d/%d |%n", TEST_SEED, sigma, hits[0], n, hits[1], n);
        accuracy.put(String.format(Locale.ROOT, "sigma_%.1f", sigma), Arrays.asList((double) hits[0] / n,
            (double) hits[1] / n));
      }
      Map<String, Object> training = new LinkedHashMap<>();
      training.put("phantom_seed", TRAIN_SEED);
      training.put("images", train.size());
      training.put("epochs", epochs);
      training.put("batch", 32);
      training.put("learning_rate", 1e-3);
      training.put("max_noise_sigma", noise);
      training.put("unseen_accuracy_healthy_lesion", accuracy);
      training.put("seconds", Math.round(seconds));
      System.out.println("Wrote " + cnn.writeBundle(out, "phantom-cnn", Arrays.asList("healthy", "lesion"), map,
          training));
    }
  }
}
