package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Stream;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.junit.jupiter.api.Test;

/**
 * The bundled prototype networks (sample-ppnet, sample-eppnet, sample-protopool; README "Sample prototype networks")
 * open from the jar's resources, are small, and classify freshly generated phantoms (seed 777, never used in
 * training: the models were trained on seed 2000) with at least 90 % accuracy.
 */
class SamplePrototypeModelsTest {
  static final int PER_CLASS = 100;

  @Test
  void ppnet() throws IOException {
    check("sample-ppnet", "PPNet");
  }

  @Test
  void eppnet() throws IOException {
    check("sample-eppnet", "EPPNet");
  }

  @Test
  void protoPool() throws IOException {
    check("sample-protopool", "ProtoPool");
  }

  private static void check(String key, String method) throws IOException {
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
      float[][] lg = c.logits(x, n);
      int ok = 0;
      for (int i = 0; i < n; i++) {
        if ((lg[i][1] > lg[i][0] ? 1 : 0) == label[i]) ok++;
      }
      double acc = ok / (double) n;
      System.out.printf(Locale.ROOT, "[samples] %s: accuracy %.3f on %d unseen phantoms (validation at training "
          + "%.3f), %d bytes%n", key, acc, n, b.validationAccuracy(), bytes);
      assertTrue(acc >= 0.9, key + " accuracy " + acc);
    }
  }
}
