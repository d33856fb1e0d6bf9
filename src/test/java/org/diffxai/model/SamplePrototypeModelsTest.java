package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.Seeds;
import org.diffxai.metrics.PrototypeQuality;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.junit.jupiter.api.Test;

/**
 * The bundled prototype networks (sample-ppnet, sample-eppnet, sample-protopool; README "Sample prototype networks")
 * open from the jar's resources, are small, classify freshly generated phantoms (seed 777, never used in training: the
 * models were trained on seed 2000) with at least 90 % accuracy, have at least 80 % distinct prototypes (the issue-10
 * target; sample-protopool holds only the pool prototypes its slots chose, docs/prototype-networks.md), carry a
 * calibration that lowered the validation ECE, flag few unseen phantoms as out of distribution, and either flag pure
 * N(0, 1) noise images as out of distribution or give them a calibrated maximum probability of at most 0.7 (issue 10
 * targets; docs/confidence.md).
 */
class SamplePrototypeModelsTest {
  static final int PER_CLASS = 100;

  @Test
  void ppnet() throws IOException {
    check("sample-ppnet", "PPNet", 0.8);
  }

  @Test
  void eppnet() throws IOException {
    check("sample-eppnet", "EPPNet", 0.8);
  }

  @Test
  void protoPool() throws IOException {
    check("sample-protopool", "ProtoPool", 0.8);
  }

  private static void check(String key, String method, double distinctShare) throws IOException {
    ClassifierBundle b = ClassifierBundle.open(key);
    assertEquals(method, b.method());
    assertTrue(b.checksumsVerified());
    assertEquals(Arrays.asList("healthy", "lesion"), b.classNames());
    long bytes;
    try (Stream<Path> s = Files.walk(b.dir())) {
      bytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
    assertTrue(bytes < 2_000_000, key + " is " + bytes + " bytes");
    PhantomGenerator g = new PhantomGenerator(64);
    int n = 2 * PER_CLASS;
    float[] x = new float[n * 64 * 64];
    int[] label = new int[n];
    for (int i = 0; i < n; i++) {
      boolean lesion = i >= PER_CLASS;
      Phantom p = g.generate(777, i % PER_CLASS, lesion);
      System.arraycopy(p.pixels, 0, x, i * 64 * 64, 64 * 64);
      label[i] = lesion ? 1 : 0;
    }
    try (PrototypeClassifier c = ClassifierModels.loadPrototypes(b, "cpu")) {
      PrototypeActivations a = c.activations(x, n);
      int ok = 0;
      int flagged = 0;
      for (int i = 0; i < n; i++) {
        if ((a.logits[i][1] > a.logits[i][0] ? 1 : 0) == label[i]) ok++;
        if (a.ood[i]) flagged++;
      }
      double acc = ok / (double) n;
      PrototypeQuality.Distinctness distinct = PrototypeQuality.distinctness(c);
      // pure N(0, 1) noise in image units
      int m = 32;
      float[] noise = Seeds.gaussian(777, "sample-models-test.noise", 0).fill(new float[m * 64 * 64]);
      PrototypeActivations na = c.activations(noise, m);
      int honest = 0;
      for (int i = 0; i < m; i++) {
        if (na.ood[i] || Math.max(na.probabilities[i][0], na.probabilities[i][1]) <= 0.7) honest++;
      }
      JsonObject cal = JsonParser.parseString(new String(Files.readAllBytes(b.dir().resolve(ClassifierBundle
          .MODEL_JSON)), StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonObject("calibration");
      System.out.printf(Locale.ROOT, "[samples] %s: accuracy %.3f on %d unseen phantoms (validation at training "
          + "%.3f), %d of %d flagged ood; %d of %d prototypes distinct; temperature %.3f, validation ECE %.4f -> "
          + "%.4f; %d of %d noise images flagged ood or at most 0.7; %d bytes%n", key, acc, n, b.validationAccuracy(),
          flagged, n, distinct.distinct, distinct.prototypes, c.confidence().temperature(),
          cal.get("ece_before").getAsDouble(), cal.get("ece_after").getAsDouble(), honest, m, bytes);
      assertTrue(acc >= 0.9, key + " accuracy " + acc);
      assertTrue(distinct.share >= distinctShare, key + ": " + distinct.distinct + " of " + distinct.prototypes + " distinct");
      assertEquals(cal.get("temperature").getAsDouble(), c.confidence().temperature(), 0);
      assertTrue(cal.get("ece_after").getAsDouble() <= cal.get("ece_before").getAsDouble(), key + " ECE");
      assertTrue(c.confidence().hasOodThreshold());
      assertTrue(flagged <= n / 20, key + ": " + flagged + " of " + n + " unseen phantoms flagged ood");
      assertEquals(m, honest, key + ": noise images neither flagged nor uncertain");
    }
  }
}
