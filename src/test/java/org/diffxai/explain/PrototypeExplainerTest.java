package org.diffxai.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.diffxai.core.ClassNames;
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeMaps;
import org.diffxai.core.UserException;
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;
import org.junit.jupiter.api.Test;

/**
 * Explanations of {@link AnalyticPrototypeClassifier}, whose scores, logits and maps are known in closed form.
 *
 * <p>The model: 16×16 input, 4×4 latent grid of block means of (x − 100) / 50. Prototypes u = {1, 0, 0.5, 3, −2} of
 * classes {lesion, healthy, healthy, lesion, healthy}; last-layer weight 1 to the own class, −0.5 to the other. The
 * image: background 100 (latent 0) with one block of 150 (latent 1) at grid row R, column C.
 */
public class PrototypeExplainerTest {
  static final List<String> CLASSES = List.of("healthy", "lesion");
  static final float[] U = {1, 0, 0.5f, 3, -2};
  static final int[] CLS = {1, 0, 0, 1, 0};

  public static AnalyticPrototypeClassifier model() {
    float[][] w = new float[2][U.length];
    for (int k = 0; k < 2; k++) {
      for (int p = 0; p < U.length; p++) w[k][p] = CLS[p] == k ? 1f : -0.5f;
    }
    return new AnalyticPrototypeClassifier(16, 4, 100, 50, U, CLS, w, CLASSES);
  }

  /** side×side image (side a multiple of 16 not needed): the 16×16 pattern with the hot block at (row, col), scaled. */
  public static float[] image(int side, int row, int col) {
    float[] v = new float[side * side];
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        int gy = y * 4 / side, gx = x * 4 / side;
        v[y * side + x] = gy == row && gx == col ? 150 : 100;
      }
    }
    return v;
  }

  public static FloatStack stack(int side, float[]... planes) {
    return new FloatStack(side, side, 1, planes.length, 1, planes, null);
  }

  static double s(double d) {
    return AnalyticPrototypeClassifier.similarity(d);
  }

  @Test
  void scoresProbabilitiesAndRankingAreTheClosedForm() {
    AnalyticPrototypeClassifier m = model();
    Explanation e = new PrototypeExplainer(m, "analytic")
        .explain(stack(16, image(16, 1, 2)), 5, -1, 32, "img", Progress.NONE).get(0);
    // Scores: p0 and p1 meet their latent value exactly (d = 0); p2 is 0.5 from every cell; p3 and p4 are 2 away.
    double[] score = {s(0), s(0), s(0.25), s(4), s(4)};
    double healthy = -0.5 * score[0] + score[1] + score[2] - 0.5 * score[3] + score[4];
    double lesion = score[0] - 0.5 * score[1] - 0.5 * score[2] + score[3] - 0.5 * score[4];
    assertEquals(healthy, e.logits[0], 1e-4);
    assertEquals(lesion, e.logits[1], 1e-4);
    assertEquals(1 / (1 + Math.exp(lesion - healthy)), e.probabilities[0], 1e-6);
    assertEquals(0, e.predicted);
    assertEquals(0, e.target);
    // Contributions to "healthy": p1 9.21, p2 1.61, p4 0.22, p3 -0.11, p0 -4.61.
    assertArrayEquals(new int[] {1, 2, 4, 3, 0}, e.top.stream().mapToInt(c -> c.prototype).toArray());
    double[] weight = {-0.5, 1, 1, -0.5, 1};
    for (Explanation.Contribution c : e.top) {
      assertEquals(score[c.prototype], c.similarity, 1e-5);
      assertEquals(weight[c.prototype], c.weight, 0);
      assertEquals(score[c.prototype] * weight[c.prototype], c.contribution, 1e-5);
      assertEquals(c.prototype, c.info.index);
    }
    assertArrayEquals(new int[] {1, 2, 3, 4, 5}, e.top.stream().mapToInt(c -> c.rank).toArray());
    double sum = e.top.stream().mapToDouble(c -> c.contribution).sum();
    assertEquals(e.logits[0], sum, 1e-4, "with top = P the contributions add up to the logit");
  }

  @Test
  void anotherTargetRanksItsOwnContributions() {
    AnalyticPrototypeClassifier m = model();
    int t = ClassNames.target(CLASSES, "lesion", "analytic");
    assertEquals(1, t);
    assertEquals(1, ClassNames.target(CLASSES, " 1 ", "analytic"));
    assertEquals(-1, ClassNames.target(CLASSES, "", "analytic"));
    Explanation e = new PrototypeExplainer(m, "analytic")
        .explain(stack(16, image(16, 1, 2)), 3, t, 32, "img", Progress.NONE).get(0);
    assertEquals(0, e.predicted);
    assertEquals(1, e.target);
    // Contributions to "lesion": p0 9.21, p3 0.22, p4 -0.11, p2 -0.80, p1 -4.61.
    assertArrayEquals(new int[] {0, 3, 4}, e.top.stream().mapToInt(c -> c.prototype).toArray());
    assertEquals(s(0), e.top.get(0).contribution, 1e-5);
  }

  /** The map is the closed-form similarity grid upsampled; its box sits on the hot block. */
  @Test
  void mapsAndBoxesAreInImagePixels() {
    Explanation e = new PrototypeExplainer(model(), "analytic")
        .explain(stack(16, image(16, 1, 2)), 5, 1, 32, "img", Progress.NONE).get(0);
    Explanation.Contribution p0 = e.top.get(0);
    assertEquals(0, p0.prototype);
    float[] grid = new float[16];
    Arrays.fill(grid, (float) s(1)); // latent 0 is 1 away from u = 1
    grid[1 * 4 + 2] = (float) s(0);
    assertArrayEquals(PrototypeMaps.upsampleBicubic(grid, 4, 4, 16, 16), p0.map, 1e-5f);
    // Block (1, 2) covers x 8..11, y 4..7; the box is centred on it and inside it.
    int[] b = p0.box;
    assertEquals(20, 2 * b[0] + b[2], Arrays.toString(b));
    assertEquals(12, 2 * b[1] + b[3], Arrays.toString(b));
    assertTrue(b[0] >= 8 && b[0] + b[2] <= 12 && b[1] >= 4 && b[1] + b[3] <= 8, Arrays.toString(b));
  }

  /** A larger image of the same aspect ratio is resized for the model; boxes come back in its own pixels. */
  @Test
  void largerAndNonIntegerSizesMapBoxesBack() {
    for (int side : new int[] {64, 40, 23}) {
      Explanation e = new PrototypeExplainer(model(), "analytic")
          .explain(stack(side, image(side, 2, 1)), 1, 1, 32, "img", Progress.NONE).get(0);
      Explanation.Contribution c = e.top.get(0);
      assertEquals(0, c.prototype, "side " + side);
      assertEquals(side * side, c.map.length);
      // Hot block (2, 1) covers x side/4..side/2, y side/2..3 side/4; its centre is (3/8, 5/8) of the side.
      double cx = c.box[0] + c.box[2] / 2.0, cy = c.box[1] + c.box[3] / 2.0;
      assertEquals(3 * side / 8.0, cx, side / 16.0 + 0.5, "side " + side + " box " + Arrays.toString(c.box));
      assertEquals(5 * side / 8.0, cy, side / 16.0 + 0.5, "side " + side + " box " + Arrays.toString(c.box));
      assertTrue(c.box[2] <= side / 4 + 2 && c.box[3] <= side / 4 + 2, Arrays.toString(c.box));
    }
  }

  @Test
  void everySliceIsExplainedInBatchesWithTheSameResult() {
    FloatStack st = stack(16, image(16, 1, 2), image(16, 3, 0), image(16, 0, 0), image(16, 2, 2), image(16, 1, 1));
    AnalyticPrototypeClassifier m = model();
    List<Explanation> batched = new PrototypeExplainer(m, "analytic").explain(st, 2, -1, 2, "img", Progress.NONE);
    assertEquals(3, m.calls);
    assertEquals(2, m.largestBatch);
    List<Explanation> single = new PrototypeExplainer(model(), "analytic").explain(st, 2, -1, 32, "img",
        Progress.NONE);
    assertEquals(5, batched.size());
    for (int i = 0; i < 5; i++) {
      assertEquals(i, batched.get(i).slice);
      assertArrayEquals(single.get(i).logits, batched.get(i).logits);
      assertArrayEquals(single.get(i).top.get(0).box, batched.get(i).top.get(0).box);
    }
    // The hot block moves with the slice: rank 1 for "healthy" is p1 everywhere (background), but p0's map follows.
    int[] b = new PrototypeExplainer(model(), "analytic").explain(st, 1, 1, 32, "img", Progress.NONE).get(1).top
        .get(0).box;
    assertTrue(b[0] < 4 && b[1] >= 12, Arrays.toString(b));
  }

  @Test
  void userErrorsNameTheFix() {
    PrototypeExplainer x = new PrototypeExplainer(model(), "analytic");
    FloatStack ok = stack(16, image(16, 1, 2));
    assertEquals(5, x.explain(ok, 6, -1, 1, "img", Progress.NONE).get(0).top.size(), "top > P shows all P");
    UserException e = assertThrows(UserException.class, () -> x.explain(ok, 0, -1, 1, "img", Progress.NONE));
    assertEquals("top=0: show at least 1 prototype per image.", e.getMessage());
    e = assertThrows(UserException.class, () -> ClassNames.target(CLASSES, "tumour", "analytic"));
    assertEquals("target=tumour is not a class of model analytic. Use one of healthy, lesion (or its index 0 to 1),"
        + " or leave target empty to explain the predicted class.", e.getMessage());
    assertThrows(UserException.class, () -> ClassNames.target(CLASSES, "2", "analytic"));
    AnalyticPrototypeClassifier rgbModel = model();
    rgbModel.channels = 3;
    e = assertThrows(UserException.class, () -> new PrototypeExplainer(rgbModel, "rgb"));
    assertTrue(e.getMessage().startsWith("Model rgb takes 3-channel images"), e.getMessage());
  }

  /**
   * Images of another aspect ratio are explained under each fit rule (issue 12: they used to be refused); the model
   * sees exactly the 16×16 pattern, and maps and boxes come back in the image's own pixels.
   */
  @Test
  void otherAspectRatiosAreFittedAndMappedBack() {
    float[] model = image(16, 2, 1); // hot block: model x 4..7, y 8..11
    // PAD of 16x8: rectangle 16x16 from y = -4 (no resampling): image (x, y) shows model (x, y + 4); the border
    // rows take the background, 100.
    float[] wide = new float[16 * 8];
    System.arraycopy(model, 4 * 16, wide, 0, wide.length);
    // CROP of 16x32: rectangle 16x16 from y = 8: image (x, y) shows model (x, y - 8); the rest is cut.
    float[] tall = new float[16 * 32];
    java.util.Arrays.fill(tall, 100);
    for (int y = 8; y < 24; y++) System.arraycopy(model, (y - 8) * 16, tall, y * 16, 16);
    Explanation direct = new PrototypeExplainer(model(), "analytic")
        .explain(stack(16, model), 1, 1, 32, "img", Progress.NONE).get(0);
    Explanation padded = new PrototypeExplainer(model(), "analytic").explain(new FloatStack(16, 8, 1, 1, 1,
        new float[][] {wide}, null), 1, 1, 32, Fit.PAD, "wide", Progress.NONE).get(0);
    Explanation cropped = new PrototypeExplainer(model(), "analytic").explain(new FloatStack(16, 32, 1, 1, 1,
        new float[][] {tall}, null), 1, 1, 32, Fit.CROP, "tall", Progress.NONE).get(0);
    for (Explanation e : List.of(padded, cropped)) {
      assertArrayEquals(direct.logits, e.logits, 1e-5f, "the model saw the same pattern");
      assertEquals(0, e.top.get(0).prototype);
    }
    Explanation.Contribution p = padded.top.get(0);
    assertEquals(16 * 8, p.map.length);
    assertEquals(6, p.box[0] + p.box[2] / 2.0, 1.5, Arrays.toString(p.box)); // image block x 4..7, y 4..7
    assertEquals(6, p.box[1] + p.box[3] / 2.0, 1.5, Arrays.toString(p.box));
    assertArrayEquals(Arrays.copyOfRange(direct.top.get(0).map, 4 * 16, 12 * 16), p.map, 1e-6f);
    Explanation.Contribution c = cropped.top.get(0);
    assertEquals(16 * 32, c.map.length);
    assertEquals(6, c.box[0] + c.box[2] / 2.0, 1.5, Arrays.toString(c.box)); // image block x 4..7, y 16..19
    assertEquals(18, c.box[1] + c.box[3] / 2.0, 1.5, Arrays.toString(c.box));
    float min = Float.MAX_VALUE;
    for (int i = 8 * 16; i < 24 * 16; i++) min = Math.min(min, c.map[i]);
    assertEquals(min, c.map[0], 0f, "rows the crop removed hold the map's minimum");
    assertEquals(min, c.map[31 * 16 + 15], 0f);
    // STRETCH of the 16x8 image: the model sees it stretched in y; the map covers the whole image.
    Explanation stretched = new PrototypeExplainer(model(), "analytic").explain(new FloatStack(16, 8, 1, 1, 1,
        new float[][] {wide}, null), 1, 1, 32, Fit.STRETCH, "wide", Progress.NONE).get(0);
    assertEquals(16 * 8, stretched.top.get(0).map.length);
  }

  @Test
  void cancelStopsBetweenBatches() {
    AnalyticPrototypeClassifier m = model();
    Progress cancelAfterFirst = new Progress() {
      @Override
      public void report(String message, double fraction) {}

      @Override
      public boolean isCancelled() {
        return m.calls > 0;
      }
    };
    FloatStack st = stack(16, image(16, 1, 2), image(16, 3, 0), image(16, 0, 0));
    assertThrows(CancelledException.class,
        () -> new PrototypeExplainer(m, "analytic").explain(st, 1, -1, 1, "img", cancelAfterFirst));
    assertEquals(1, m.calls);
  }
}
