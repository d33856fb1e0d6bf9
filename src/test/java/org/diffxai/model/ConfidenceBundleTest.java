package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diffxai.core.Calibration;
import org.diffxai.core.Confidence;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.UserException;
import org.diffxai.tf.TinyPrototypeBundles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The calibration temperature and OOD threshold a trained bundle stores (docs/confidence.md) reach every probability
 * and flag the model layer returns; bundles without them load with temperature 1 and no threshold.
 */
class ConfidenceBundleTest {
  @TempDir
  Path tmp;

  private static JsonObject json(Path f) throws IOException {
    return JsonParser.parseString(new String(Files.readAllBytes(f), StandardCharsets.UTF_8)).getAsJsonObject();
  }

  @Test
  void trainedBundleAppliesItsTemperatureAndThreshold() throws IOException {
    Path dir = TinyPrototypeBundles.train(tmp, "PPNet");
    JsonObject cal = json(dir.resolve(ClassifierBundle.MODEL_JSON)).getAsJsonObject("calibration");
    JsonObject ood = json(dir.resolve(ClassifierBundle.PROTOTYPES_JSON)).getAsJsonObject("ood");
    double t = cal.get("temperature").getAsDouble();
    assertTrue(t >= Calibration.MIN_T && t <= Calibration.MAX_T, "temperature " + t);
    assertEquals(15, cal.get("ece_bins").getAsInt());
    assertTrue(cal.get("nll_after").getAsDouble() <= cal.get("nll_before").getAsDouble() + 1e-9);
    ClassifierBundle b = ClassifierBundle.open(dir);
    Confidence c = b.confidence();
    assertEquals(t, c.temperature(), 0);
    assertEquals(ood.get("nearest_threshold").getAsDouble(), c.nearestThreshold(), 0);
    assertEquals(ood.get("coverage_threshold").getAsDouble(), c.coverageThreshold(), 0);
    assertEquals(ood.get("range_threshold").getAsDouble(), c.rangeThreshold(), 0);
    assertEquals(Double.toString(t), b.provenance().get("model.temperature"));
    int n = 6;
    float[] x = TinyPrototypeBundles.images(n);
    try (DjlPrototypeClassifier m = ClassifierModels.loadPrototypes(b, "cpu")) {
      assertEquals(t, m.confidence().temperature(), 0);
      float[][] logits = m.logits(x, n);
      double[][] p = m.probabilities(x, n);
      PrototypeActivations a = m.activations(x, n);
      for (int i = 0; i < n; i++) {
        assertArrayEquals(Confidence.softmax(logits[i], t), p[i], 1e-9);
        assertArrayEquals(p[i], a.probabilities[i], 1e-6);
        assertEquals(a.nearestPart[i] > c.nearestThreshold() || a.classCoverage[i] > c.coverageThreshold()
            || a.outOfRange[i] > c.rangeThreshold(), a.ood[i]);
      }
    }
  }

  @Test
  void bundlesWithoutCalibrationLoadWithTemperatureOneAndNoThreshold() throws IOException {
    Path dir = TinyPrototypeBundles.train(tmp, "EPPNet");
    Path mj = dir.resolve(ClassifierBundle.MODEL_JSON);
    JsonObject model = json(mj);
    model.remove("calibration");
    model.remove("sha256");
    Files.write(mj, model.toString().getBytes(StandardCharsets.UTF_8));
    Path pj = dir.resolve(ClassifierBundle.PROTOTYPES_JSON);
    JsonObject protos = json(pj);
    protos.remove("ood");
    Files.write(pj, protos.toString().getBytes(StandardCharsets.UTF_8));
    ClassifierBundle b = ClassifierBundle.open(dir);
    assertEquals(1, b.confidence().temperature(), 0);
    assertFalse(b.confidence().hasOodThreshold());
    float[] x = TinyPrototypeBundles.images(3);
    try (DjlPrototypeClassifier m = ClassifierModels.loadPrototypes(b, "cpu")) {
      float[][] logits = m.logits(x, 3);
      PrototypeActivations a = m.activations(x, 3);
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(Confidence.softmax(logits[i], 1), m.probabilities(x, 3)[i], 1e-9);
        assertFalse(a.ood[i]);
      }
    }
    model.add("calibration", JsonParser.parseString("{\"temperature\": -2}"));
    Files.write(mj, model.toString().getBytes(StandardCharsets.UTF_8));
    UserException e = assertThrows(UserException.class, () -> ClassifierBundle.open(dir));
    assertTrue(e.getMessage().contains("has calibration temperature -2.0; it must be a positive number"),
        e.getMessage());
  }
}
