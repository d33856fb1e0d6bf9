package org.diffxai.tf;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Quick synthetic training images for tests and benchmarks: noisy discs (class 0) and rings (class 1). */
final class Synthetic {
  private Synthetic() {}

  /** A size×size image in [-1, 1]: a bright disc (ring=false) or ring (ring=true) on a dark background. */
  static float[] shape(int size, boolean ring, Random rnd) {
    float[] a = new float[size * size];
    double cx = size * (0.35 + 0.3 * rnd.nextDouble());
    double cy = size * (0.35 + 0.3 * rnd.nextDouble());
    double r = size * (0.18 + 0.12 * rnd.nextDouble());
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        double d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        boolean in = ring ? Math.abs(d - r) < size * 0.08 : d < r;
        double v = (in ? 0.7 : -0.8) + 0.05 * rnd.nextGaussian();
        a[y * size + x] = (float) Math.max(-1, Math.min(1, v));
      }
    }
    return a;
  }

  static List<float[]> images(int n, int size, long seed, int[] labelsOut) {
    Random rnd = new Random(seed);
    List<float[]> l = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      boolean ring = i % 2 == 1;
      if (labelsOut != null) labelsOut[i] = ring ? 1 : 0;
      l.add(shape(size, ring, rnd));
    }
    return l;
  }
}
