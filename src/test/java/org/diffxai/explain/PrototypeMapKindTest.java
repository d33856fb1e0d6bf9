package org.diffxai.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.diffxai.attribution.AttributionSettings;
import org.diffxai.core.DifferentiableClassifier.Gradient;
import org.diffxai.core.DifferentiableClassifier.Kind;
import org.diffxai.core.DifferentiableClassifier.Objective;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.PrototypeMaps;
import org.diffxai.core.ReferenceImage;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.metrics.PrototypeAttribution;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.phantom.PhantomGenerator;
import org.junit.jupiter.api.Test;

/** Prototype maps of the gradient kinds ({@link PrototypeExplainer#mapKind}) on a bundled sample prototype network. */
class PrototypeMapKindTest {

  static FloatStack one(float[] plane, int side) {
    return new FloatStack(side, side, 1, 1, 1, new float[][] {plane}, null);
  }

  @Test
  void gradientMapsAreTheSaliencyOfEachPrototypesScoreWithBoxesFromThem() {
    float[] x = new PhantomGenerator(64).generate(4242, 5, true).pixels;
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open("sample-eppnet"), "cpu")) {
      Explanation up = new PrototypeExplainer(c, "eppnet").explain(one(x, 64), 3, -1, 1, "x", Progress.NONE).get(0);
      Explanation g = new PrototypeExplainer(c, "eppnet").mapKind(PrototypeMapKind.GRADIENT, new AttributionSettings())
          .explain(one(x, 64), 3, -1, 1, "x", Progress.NONE).get(0);
      assertEquals(PrototypeMapKind.UPSAMPLE, up.mapKind);
      assertEquals(PrototypeMapKind.GRADIENT, g.mapKind);
      for (int r = 0; r < 3; r++) {
        Explanation.Contribution a = up.top.get(r), b = g.top.get(r);
        assertEquals(a.prototype, b.prototype, "the ranking does not depend on the map kind");
        assertEquals(a.contribution, b.contribution, 1e-5 * Math.abs(a.contribution));
        Gradient grad = c.gradient(x, 1, Objective.of(Kind.PROTOTYPE_SCORE, b.prototype, 1));
        float max = 0;
        for (float v : grad.gradient) max = Math.max(max, Math.abs(v));
        // the maps were computed in a batch of 3: float rounding inside TensorFlow's kernels differs slightly
        for (int q = 0; q < x.length; q++) assertEquals(Math.abs(grad.gradient[q]), b.map[q], 1e-5 * max);
        assertArrayEquals(PrototypeMaps.percentileBox(b.map, 64, 64, PrototypeExplainer.BOX_PERCENTILE), b.box);
      }
    }
  }

  /**
   * With Integrated Gradients, the network's own map Σ_p w_p · IG_p is Integrated Gradients of the target logit, so it
   * sums to logit(x) − logit(blurred x) up to the quadrature error of 32 midpoint steps.
   */
  @Test
  void integratedGradientsOwnMapSumsToTheLogitDifference() {
    float[] x = new PhantomGenerator(64).generate(4242, 7, true).pixels;
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open("sample-ppnet"), "cpu")) {
      AttributionSettings s = new AttributionSettings();
      s.baseline = ReferenceImage.BLUR;
      Explanation e = new PrototypeExplainer(c, "ppnet").mapKind(PrototypeMapKind.IG, s).explain(one(x, 64),
          c.prototypes(), -1, 1, "x", Progress.NONE).get(0);
      double sum = 0;
      for (float v : PrototypeAttribution.map(e, 64, 64)) sum += v;
      double diff = c.logits(x, 1)[0][e.target] - c.logits(ReferenceImage.BLUR.of(x, 64, 64, 1), 1)[0][e.target];
      assertTrue(Math.abs(diff) > 1, "the blurred image changes the logit: " + diff);
      assertEquals(diff, sum, 0.05 * Math.abs(diff), "completeness");
    }
  }

  @Test
  void mapsOfLargerImagesAreResizedAndSmoothGradNoiseDependsOnlyOnSliceAndPrototype() {
    float[] x = new PhantomGenerator(128).generate(4242, 9, false).pixels;
    AttributionSettings s = new AttributionSettings();
    s.samples = 3;
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open("sample-protopool"),
        "cpu")) {
      PrototypeExplainer ex = new PrototypeExplainer(c, "protopool").mapKind(PrototypeMapKind.SMOOTHGRAD, s);
      List<Explanation> two = ex.explain(new FloatStack(128, 128, 1, 2, 1, new float[][] {x, x}, null), 4, 0, 2, "x",
          Progress.NONE);
      Explanation alone = ex.explain(one(x, 128), 1, 0, 1, "x", Progress.NONE).get(0);
      assertEquals(128 * 128, alone.top.get(0).map.length);
      // same noise; the batch size only changes float rounding inside TensorFlow's kernels
      float[] a = alone.top.get(0).map, b = two.get(0).top.get(0).map;
      float max = 0;
      for (float v : a) max = Math.max(max, Math.abs(v));
      assertArrayEquals(a, b, 1e-4f * max, "same slice, same prototype, same noise");
      int[] box = alone.top.get(0).box;
      assertTrue(box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= 128 && box[1] + box[3] <= 128);
    }
  }

  @Test
  void gradientKindsNeedAModelWithGradients() {
    UserException e = assertThrows(UserException.class, () -> new PrototypeExplainer(PrototypeExplainerTest.model(),
        "analytic").mapKind(PrototypeMapKind.IG, new AttributionSettings()));
    assertTrue(e.getMessage().contains("map=ig") && e.getMessage().contains("map=upsample"), e.getMessage());
    assertEquals(PrototypeMapKind.SMOOTHGRAD, PrototypeMapKind.of(" SmoothGrad "));
    e = assertThrows(UserException.class, () -> PrototypeMapKind.of("cam"));
    assertTrue(e.getMessage().contains("gradient, smoothgrad, ig or upsample"), e.getMessage());
  }
}
