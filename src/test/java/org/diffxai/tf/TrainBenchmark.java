package org.diffxai.tf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.diffxai.core.Progress;

/**
 * Measures training speed on synthetic 64×64 images (not a unit test). Run from the project directory after
 * {@code mvn test-compile}:
 *
 * <pre>
 * java -cp target/classes:target/test-classes:$(cat cp.txt) org.diffxai.tf.TrainBenchmark base=32 mult=1,2,2 batch=16 \
 *     iterations=20 threads=2 layers=1 attention=true classes=2
 * </pre>
 */
public final class TrainBenchmark {
  private TrainBenchmark() {}

  public static void main(String[] args) throws Exception {
    int base = 32;
    int[] mult = {1, 2, 2};
    int batch = 16;
    int iterations = 20;
    int threads = 2;
    int layers = 1;
    int size = 64;
    int classes = 2;
    boolean attention = true;
    double lr = 2e-4;
    boolean export = false;
    for (String a : args) {
      String[] kv = a.split("=", 2);
      switch (kv[0]) {
        case "base": base = Integer.parseInt(kv[1]); break;
        case "batch": batch = Integer.parseInt(kv[1]); break;
        case "iterations": iterations = Integer.parseInt(kv[1]); break;
        case "threads": threads = Integer.parseInt(kv[1]); break;
        case "layers": layers = Integer.parseInt(kv[1]); break;
        case "size": size = Integer.parseInt(kv[1]); break;
        case "classes": classes = Integer.parseInt(kv[1]); break;
        case "attention": attention = Boolean.parseBoolean(kv[1]); break;
        case "lr": lr = Double.parseDouble(kv[1]); break;
        case "export": export = Boolean.parseBoolean(kv[1]); break;
        case "mult": {
          String[] p = kv[1].split(",");
          mult = new int[p.length];
          for (int i = 0; i < p.length; i++) mult[i] = Integer.parseInt(p[i]);
          break;
        }
        default: throw new IllegalArgumentException(a);
      }
    }
    UNetConfig net = new UNetConfig().size(size, size).baseChannels(base).channelMultipliers(mult).layersPerBlock(layers)
        .attention(attention).groups(8).numClasses(classes);
    TrainingOptions o = new TrainingOptions().iterations(iterations).batch(batch).threads(threads).learningRate(lr)
        .warmupIterations(Math.min(100, iterations / 10)).seed(1);
    int[] labels = new int[512];
    TrainingData d = TrainingData.of(size, size, 1, Synthetic.images(512, size, 7, labels));
    if (classes > 0) d = d.withLabels(labels, java.util.Arrays.asList("disc", "ring"));
    long t0 = System.nanoTime();
    try (DenoiserTrainer tr = new DenoiserTrainer(net, o)) {
      double build = (System.nanoTime() - t0) / 1e9;
      final double[] warm = new double[1];
      final int skip = Math.min(3, iterations - 1);
      final int n = iterations;
      final com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      final long[] cpu = new long[2];
      tr.train(d, Progress.NONE, (it, loss, s) -> {
        if (it == skip) {
          warm[0] = s;
          cpu[0] = os.getProcessCpuTime();
        }
        if (it == n) cpu[1] = os.getProcessCpuTime();
        if (it % Math.max(1, n / 20) == 0) System.out.printf(Locale.ROOT, "it %d loss %.4f %.1fs%n", it, loss, s);
      });
      float[] l = tr.losses();
      double per = (tr.seconds() - warm[0]) / (iterations - skip);
      double cpuPer = (cpu[1] - cpu[0]) / 1e9 / (iterations - skip);
      System.out.printf(Locale.ROOT, "%s batch=%d%nparams=%d build=%.1fs wall s/iter=%.3f (iters in 25 min: %d)"
          + " process CPU s/iter=%.3f (load average %.1f)%n", net, batch, tr.parameterCount(), build, per,
          (int) (1500 / per), cpuPer, os.getSystemLoadAverage());
      int k = Math.min(20, l.length / 4);
      System.out.printf(Locale.ROOT, "mean loss first %d: %.4f last %d: %.4f%n", k, mean(l, 0, k), k,
          mean(l, l.length - k, l.length));
      if (export) {
        Path dir = Files.createTempDirectory("bench").resolve("m");
        tr.exportSavedModel(dir);
        long bytes = Files.walk(dir).filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        System.out.println("SavedModel bytes " + bytes + " at " + dir);
      }
    }
  }

  private static double mean(float[] a, int from, int to) {
    double s = 0;
    for (int i = from; i < to; i++) s += a[i];
    return s / Math.max(1, to - from);
  }
}
