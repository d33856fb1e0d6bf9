package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;

public class PrototypeAndNisTest {
  static final int[] CELLS = {0, 5, 10, 15, 3, 12};

  public static CellPrototypeClassifier model() {
    float[][] last = {{1f, -0.5f, 2f, 0.3f, 1.2f, -1f}, {-1f, 1f, 0.1f, 0.2f, 0.5f, 2f}};
    return new CellPrototypeClassifier(16, 16, CELLS, new float[] {1, 2, 0.5f, 1.5f, 1, 3}, last);
  }

  public static float[] image() {
    SplittableRandom r = new SplittableRandom(8);
    float[] x = new float[256];
    for (int i = 0; i < x.length; i++) x[i] = (float) (0.2 + 0.8 * r.nextDouble());
    return x;
  }

  static int[][] boxes(CellPrototypeClassifier m, int[] protos, int shift) {
    int[][] b = new int[protos.length][];
    for (int i = 0; i < b.length; i++) b[i] = m.box(CELLS[(protos[i] + shift) % CELLS.length]);
    return b;
  }

  /** The prototypes by descending contribution to the target. */
  static int[] ranked(CellPrototypeClassifier m, int target, int top) {
    float[] s = m.activations(image(), 1).scores[0];
    float[] c = new float[s.length];
    for (int p = 0; p < s.length; p++) c[p] = m.lastLayer[target][p] * s[p];
    return java.util.Arrays.copyOf(FaithfulnessMetrics.descendingOrder(c), top);
  }

  @Test
  void occludingTheBoxesOfAnIdealNetworkRemovesExactlyEachContribution() {
    CellPrototypeClassifier m = model();
    for (int batch : new int[] {1, 3, 16}) {
      int[] top = ranked(m, 0, 4);
      List<MetricResult> r = PrototypePerturbation.compute(m, image(), 0, top, boxes(m, top, 0), Baseline.ZERO, batch,
          null);
      MetricResult corr = r.get(0), sim = r.get(1);
      assertEquals(Metric.PROTOTYPE_PERTURBATION, corr.metric);
      assertEquals(1, corr.value, 1e-6);
      assertEquals(5, corr.forwards);
      for (int i = 0; i < 4; i++) assertEquals(corr.curve.x[i], corr.curve.y[i], 1e-5); // drop == contribution
      // the top 4 by contribution, in descending order
      for (int i = 0; i + 1 < 4; i++) assertTrue(corr.curve.x[i] >= corr.curve.x[i + 1]);
      assertEquals(Metric.PROTOTYPE_SIMILARITY_DROP, sim.metric);
      assertEquals(1, sim.value, 0);
    }
  }

  @Test
  void boxesThatMissThePrototypesLeaveTheirScores() {
    CellPrototypeClassifier m = model();
    int[] all = ranked(m, 1, 6);
    List<MetricResult> r = PrototypePerturbation.compute(m, image(), 1, all, boxes(m, all, 1), Baseline.ZERO, 8, null);
    assertEquals(0, r.get(1).value, 0);
    assertTrue(r.get(0).value < 0.9, "wrong boxes: " + r.get(0));
  }

  @Test
  void prototypeArgumentsAreChecked() {
    CellPrototypeClassifier m = model();
    int[] top = {0, 1, 2};
    UserException e = assertThrows(UserException.class,
        () -> PrototypePerturbation.compute(m, image(), 2, top, boxes(m, top, 0), Baseline.ZERO, 8, null));
    assertTrue(e.getMessage().contains("target=2"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> PrototypePerturbation.compute(m, image(), 0, new int[] {6},
        new int[][] {{0, 0, 4, 4}}, Baseline.ZERO, 8, null));
    // a box outside the image occludes nothing
    List<MetricResult> r = PrototypePerturbation.compute(m, image(), 0, top,
        new int[][] {{40, 0, 4, 4}, {-9, -9, 4, 4}, {0, 20, 4, 4}}, Baseline.ZERO, 8, null);
    assertEquals(0, r.get(1).value, 0);
  }

  @Test
  void nisByHand() {
    // g = (0,0); references at distances 1, 2, 5: max softmax = e^-1 / (e^-1 + e^-2 + e^-5)
    float[][] refs = {{1, 0}, {0, 2}, {3, 4}};
    double expected = Math.exp(-1) / (Math.exp(-1) + Math.exp(-2) + Math.exp(-5));
    assertEquals(expected, Nis.perImage(new float[][] {{0, 0}}, refs)[0], 1e-15);
    // equidistant references: 1/M, the floor of the score
    float[][] ring = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}};
    assertEquals(0.25, Nis.score(new float[][] {{0, 0}}, ring), 1e-15);
    // mean over images; a copy of a reference far from the others approaches 1
    float[][] far = {{0, 0}, {100, 0}};
    double[] per = Nis.perImage(new float[][] {{0, 0}, {50, 0}}, far);
    assertEquals(1 / (1 + Math.exp(-100)), per[0], 1e-15);
    assertEquals(0.5, per[1], 1e-15);
    assertEquals((per[0] + per[1]) / 2, Nis.score(new float[][] {{0, 0}, {50, 0}}, far), 1e-15);
    // not invariant to the feature scale (unlike the perturbation metrics to the attribution scale)
    float[][] half = {{0.5f, 0}, {0, 1}, {1.5f, 2}};
    assertNotEquals(Nis.score(new float[][] {{0, 0}}, refs), Nis.score(new float[][] {{0, 0}}, half));
    assertThrows(UserException.class, () -> Nis.perImage(new float[][] {{0, 0, 0}}, refs));
  }

  @Test
  void pooledFeaturesOfAPrototypeNetworkAreTheCellAverages() {
    CellPrototypeClassifier m = model();
    float[] a = image(), b = new float[256];
    java.util.Arrays.fill(b, 0.75f);
    float[] both = new float[512];
    System.arraycopy(a, 0, both, 0, 256);
    System.arraycopy(b, 0, both, 256, 256);
    for (int batch : new int[] {1, 2}) {
      float[][] f = Nis.pooledFeatures(m, both, 2, batch);
      double mean = 0;
      for (float v : a) mean += v;
      assertEquals(mean / 256, f[0][0], 1e-6); // mean of the 16 cell means
      assertArrayEquals(new float[] {0.75f, 0.75f}, f[1], 0);
    }
    assertEquals(2, Nis.perImage(Nis.pooledFeatures(m, both, 2, 4), m.prototypeVectors()).length);
  }
}
