package org.diffxai.tf;

import ij.ImagePlus;
import ij.io.FileSaver;
import ij.process.FloatProcessor;
import ij.process.ShortProcessor;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.diffxai.core.Progress;
import org.diffxai.run.Env;
import org.diffxai.run.TrainDenoiserRun;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * End-to-end check on brain-like phantoms (not a unit test; minutes of CPU): writes a class folder of 64×64 16-bit
 * TIFFs (healthy / lesion), trains with the Train Denoiser command, then draws DDIM samples (eta 0, 50 steps,
 * "leading" spacing) per class from the exported SavedModel and saves them as a montage TIFF.
 *
 * <pre>
 * java -cp target/classes:target/test-classes:$(cat cp.txt) org.diffxai.tf.SampleCheck WORKDIR iterations=600 \
 *     base_channels=16 channel_multipliers=1,2,4 batch=16 learning_rate=0.0005
 * </pre>
 */
public final class SampleCheck {
  private SampleCheck() {}

  public static void main(String[] args) throws Exception {
    Path work = Paths.get(args[0]);
    Path images = work.resolve("phantoms-train");
    if (!Files.exists(images)) writePhantoms(images, 256, 1);
    Path out = work.resolve("model-" + System.currentTimeMillis());
    TrainDenoiserRun.Request r = new TrainDenoiserRun.Request();
    r.images = images.toString();
    r.output = out.toString();
    r.labels = true;
    for (int i = 1; i < args.length; i++) {
      String[] kv = args[i].split("=", 2);
      Field f = TrainDenoiserRun.Request.class.getField(kv[0]);
      Class<?> t = f.getType();
      f.set(r, t == int.class ? (Object) Integer.parseInt(kv[1]) : t == long.class ? (Object) Long.parseLong(kv[1])
          : t == double.class ? (Object) Double.parseDouble(kv[1]) : t == boolean.class
          ? (Object) Boolean.parseBoolean(kv[1]) : kv[1]);
    }
    final long start = System.nanoTime();
    Progress progress = new Progress() {
      private long last;

      @Override
      public void report(String message, double fraction) {
        long now = System.nanoTime();
        if (now - last > 30e9 || fraction >= 1) {
          System.out.printf("%6.0fs %s%n", (now - start) / 1e9, message);
          last = now;
        }
      }

      @Override
      public boolean isCancelled() {
        return false;
      }
    };
    TrainDenoiserRun.run(r, Env.files(progress));
    System.out.println("bundle " + out);
    sample(out, work.resolve(out.getFileName() + "-samples.tif"), 8);
  }

  /** DDIM (Song et al. 2021, eq. 12 with eta = 0) from the bundle, 8 samples per class, as one montage. */
  static void sample(Path bundle, Path montage, int perClass) throws IOException {
    float[] ac = org.diffxai.core.NoiseSchedule.of(BundleWriter.trainingSchedule()).alphasCumprod();
    int size = 64;
    int steps = 50;
    int ratio = 1000 / steps;
    Random rnd = new Random(123);
    int n = 2 * perClass;
    float[] x = new float[n * size * size];
    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) labels[i] = i / perClass;
    try (SavedModelBundle b = SavedModelBundle.load(bundle.toString(), "serve")) {
      for (int s = steps - 1; s >= 0; s--) {
        int t = s * ratio;
        double a = ac[t];
        double aPrev = s > 0 ? ac[t - ratio] : ac[0];
        float[] tt = new float[n];
        java.util.Arrays.fill(tt, t);
        float[] eps;
        Map<String, Tensor> in = new HashMap<>();
        in.put("x", TFloat32.tensorOf(Shape.of(n, size, size, 1), DataBuffers.of(x, true, false)));
        in.put("t", TFloat32.vectorOf(tt));
        in.put("label", TInt32.vectorOf(labels));
        try (Result r = b.function("serving_default").call(in)) {
          eps = new float[x.length];
          ((TFloat32) r.get(DenoiserTrainer.OUTPUT_NAME).get()).copyTo(DataBuffers.of(eps, false, false));
        } finally {
          for (Tensor v : in.values()) v.close();
        }
        for (int i = 0; i < x.length; i++) {
          double x0 = (x[i] - Math.sqrt(1 - a) * eps[i]) / Math.sqrt(a);
          x0 = Math.max(-1, Math.min(1, x0));
          double e = (x[i] - Math.sqrt(a) * x0) / Math.sqrt(1 - a);
          x[i] = (float) (Math.sqrt(aPrev) * x0 + Math.sqrt(1 - aPrev) * e);
        }
      }
    }
    FloatProcessor fp = new FloatProcessor(perClass * size, 2 * size);
    for (int i = 0; i < n; i++) {
      int ox = (i % perClass) * size;
      int oy = (i / perClass) * size;
      for (int p = 0; p < size * size; p++) fp.setf(ox + p % size, oy + p / size, x[i * size * size + p]);
    }
    fp.setMinAndMax(-1, 1);
    new FileSaver(new ImagePlus("samples", fp)).saveAsTiff(montage.toString());
    new FileSaver(new ImagePlus("samples", fp.convertToByteProcessor(true))).saveAsPng(
        montage.toString().replace(".tif", ".png"));
    System.out.println("samples " + montage);
  }

  /** Brain-like axial phantoms: scalp, skull, grey/white matter, ventricles; "lesion" adds a bright blob. */
  static void writePhantoms(Path root, int perClass, long seed) throws IOException {
    Random rnd = new Random(seed);
    for (String cls : new String[] {"healthy", "lesion"}) {
      Path d = Files.createDirectories(root.resolve(cls));
      for (int i = 0; i < perClass; i++) {
        ShortProcessor sp = phantom(64, cls.equals("lesion"), rnd);
        new FileSaver(new ImagePlus(cls, sp)).saveAsTiff(d.resolve(String.format("%s_%04d.tif", cls, i)).toString());
      }
    }
  }

  static ShortProcessor phantom(int n, boolean lesion, Random r) {
    double cx = n / 2.0 + r.nextGaussian() * 1.5;
    double cy = n / 2.0 + r.nextGaussian() * 1.5;
    double ax = n * (0.40 + 0.03 * r.nextGaussian());
    double ay = n * (0.46 + 0.03 * r.nextGaussian());
    double rot = r.nextGaussian() * 0.1;
    double lx = 0;
    double ly = 0;
    double lr = 0;
    if (lesion) {
      double ang = r.nextDouble() * 2 * Math.PI;
      double rad = 0.3 + 0.35 * r.nextDouble();
      lx = Math.cos(ang) * rad;
      ly = Math.sin(ang) * rad;
      lr = 0.10 + 0.08 * r.nextDouble();
    }
    double vent = 0.10 + 0.05 * r.nextDouble();
    double bx = 0.15 * r.nextGaussian();
    double by = 0.15 * r.nextGaussian();
    ShortProcessor sp = new ShortProcessor(n, n);
    for (int y = 0; y < n; y++) {
      for (int x = 0; x < n; x++) {
        double dx = x + 0.5 - cx;
        double dy = y + 0.5 - cy;
        double u = (Math.cos(rot) * dx + Math.sin(rot) * dy) / ax;
        double v = (-Math.sin(rot) * dx + Math.cos(rot) * dy) / ay;
        double rr = Math.sqrt(u * u + v * v);
        double s = 0;
        if (rr < 1.0) s = 0.85; // scalp
        if (rr < 0.93) s = 0.08; // skull
        if (rr < 0.86) s = 0.45; // CSF / grey matter rim
        if (rr < 0.80) s = 0.55; // grey matter
        if (rr < 0.62) s = 0.72; // white matter
        double vl = Math.hypot((u + 0.12) / 0.09, (v + 0.02) / (vent * 2.2));
        double vr = Math.hypot((u - 0.12) / 0.09, (v + 0.02) / (vent * 2.2));
        if (vl < 1 || vr < 1) s = 0.12; // lateral ventricles
        if (lesion) {
          double dl = Math.hypot(u - lx, v - ly) / lr;
          if (dl < 1.6 && rr < 0.8) s = Math.max(s, 0.80); // oedema
          if (dl < 1.0 && rr < 0.8) s = 0.98; // lesion
        }
        s *= 1 + bx * u + by * v; // smooth coil bias
        double sigma = 0.03;
        double re = s + sigma * r.nextGaussian();
        double im = sigma * r.nextGaussian();
        sp.set(x, y, (int) Math.round(1000 * Math.sqrt(re * re + im * im))); // Rician magnitude
      }
    }
    return sp;
  }
}
