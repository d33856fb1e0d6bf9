package org.diffxai.bench;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import java.util.Random;
import javax.imageio.ImageIO;
import org.diffxai.core.Progress;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Fit;
import org.diffxai.io.ImageFolder;
import org.diffxai.io.ImageInput;

/**
 * How much the dataset cache saves (docs/input-images.md): generates a folder of grey JPEGs in two classes with
 * sizes like issue 12's brain-MRI set (non-square, 180–520 pixels a side, seeded), then loads it for training three
 * times in one JVM: without cache, with an empty cache (decode + write), and from the cache, and prints the times and
 * ratios.
 *
 * <pre>
 * java -cp 'target/classes:target/lib/*' org.diffxai.bench.InputCacheBench [images=1000] [size=64] [dir]
 * </pre>
 */
public final class InputCacheBench {
  private InputCacheBench() {}

  public static void main(String[] args) throws IOException {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int size = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    Path dir = args.length > 2 ? Paths.get(args[2]) : Files.createTempDirectory("input-cache-bench");
    Path data = dir.resolve("images");
    Path cache = dir.resolve("cache");
    long t0 = System.nanoTime();
    if (!Files.isDirectory(data)) generate(data, n, 12);
    System.out.printf(Locale.ROOT, "images: %d JPEGs in %s (generated in %.1f s)%n", n, data,
        (System.nanoTime() - t0) / 1e9);
    AtomicFiles.deleteRecursively(cache);
    ImageInput.Settings s = ImageInput.Settings.size(size, size).fit(Fit.PAD);
    double plain = time(data, s);
    double cold = time(data, s.cache(cache));
    double warm = time(data, s.cache(cache));
    double warm2 = time(data, s.cache(cache));
    long bytes = Files.list(cache).mapToLong(p -> p.toFile().length()).sum();
    System.out.printf(Locale.ROOT, "load at %dx%d, fit=pad: no cache %.2f s, first run (decode + write cache) %.2f s,"
        + " cached %.3f s / %.3f s; speed-up %.0fx; cache %.1f MB%n", size, size, plain, cold, warm, warm2,
        plain / Math.min(warm, warm2), bytes / 1e6);
    ImageFolder f = ImageFolder.load(data, s.cache(cache), true, Progress.NONE);
    System.out.println("summary: " + f.input().summary().describe());
  }

  /** Wall-clock seconds of one load; prints the thread's CPU seconds too (less sensitive to a busy machine). */
  private static double time(Path data, ImageInput.Settings s) {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    long cpu = mx.getCurrentThreadCpuTime();
    long t = System.nanoTime();
    ImageFolder.load(data, s, true, Progress.NONE);
    double wall = (System.nanoTime() - t) / 1e9;
    System.out.printf(Locale.ROOT, "  load (%s): %.3f s wall, %.3f s CPU%n", s.describe(), wall,
        (mx.getCurrentThreadCpuTime() - cpu) / 1e9);
    return wall;
  }

  /** n grey JPEGs (quality 0.9), half in "healthy", half in "tumour", each a noisy ellipse of a random size. */
  static void generate(Path data, int n, long seed) throws IOException {
    Random r = new Random(seed);
    for (int i = 0; i < n; i++) {
      String cls = i % 2 == 0 ? "healthy" : "tumour";
      Path f = data.resolve(cls).resolve(String.format(Locale.ROOT, "img_%05d.jpg", i));
      Files.createDirectories(f.getParent());
      int w = 180 + r.nextInt(341);
      int h = 180 + r.nextInt(341);
      BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          double dx = (x - w / 2.0) / (0.42 * w), dy = (y - h / 2.0) / (0.45 * h);
          double v = 20 + (dx * dx + dy * dy < 1 ? 120 + 40 * Math.sin(x / 9.0 + y / 13.0) : 0) + 6 * r.nextGaussian();
          int g = (int) Math.max(0, Math.min(255, v));
          im.setRGB(x, y, g << 16 | g << 8 | g);
        }
      }
      if (!ImageIO.write(im, "jpeg", f.toFile())) throw new IOException("no JPEG writer");
    }
  }
}
