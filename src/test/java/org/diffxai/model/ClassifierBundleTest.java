package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.diffxai.core.Classifier;
import org.diffxai.core.UserException;
import org.diffxai.tf.TinyPrototypeBundles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassifierBundleTest {
  @TempDir
  Path tmp;

  private static String message(Runnable r) {
    return assertThrows(UserException.class, r::run).getMessage();
  }

  @Test
  void linearSavedModelLoadsAsPlainClassifierWithExactLogits() {
    int h = 5;
    int w = 4;
    Random rnd = new Random(3);
    float[][] wt = new float[3][h * w];
    for (float[] row : wt) {
      for (int i = 0; i < row.length; i++) row[i] = (float) rnd.nextGaussian();
    }
    ClassifierBundle b = ClassifierBundle.open(TestClassifiers.writeLinear(tmp.resolve("lin"), wt, h, w).toString());
    assertFalse(b.isPrototypeNetwork());
    assertNull(b.galleryPath());
    assertEquals("classifier", b.provenance().get("model.kind"));
    int n = 37; // more than one batch
    float[] x = new float[n * h * w];
    for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
    try (DjlClassifier c = ClassifierModels.load(b, "cpu")) {
      c.batchSize(8);
      assertEquals(Arrays.asList("class 0", "class 1", "class 2"), c.classNames());
      assertEquals(h, c.height());
      assertEquals(w, c.width());
      assertEquals(1, c.channels());
      float[][] lg = c.logits(x, n);
      for (int i = 0; i < n; i++) {
        for (int k = 0; k < 3; k++) {
          double s = 0;
          for (int p = 0; p < h * w; p++) s += wt[k][p] * x[i * h * w + p];
          assertEquals(s, lg[i][k], 1e-4);
        }
      }
      assertTrue(message(() -> ClassifierModels.loadPrototypes(b, "cpu")).startsWith("Model lin is not a prototype "
          + "network"));
    }
  }

  @Test
  void prototypeBundleLayoutAndChecksums() throws IOException {
    Path dir = TinyPrototypeBundles.train(tmp, "PPNet");
    ClassifierBundle b = ClassifierBundle.open(dir);
    assertTrue(b.checksumsVerified());
    assertEquals(Arrays.asList("healthy", "lesion"), b.classNames());
    assertEquals(TinyPrototypeBundles.SIZE, b.height());
    assertEquals(dir.resolve(ClassifierBundle.GALLERY), b.galleryPath());
    assertTrue(b.prototypesJson().contains("\"source_image\": \"healthy/phantom_"));
    assertTrue(b.validationAccuracy() >= 0 && b.validationAccuracy() <= 1);
    try (Classifier c = ClassifierModels.load(b, "cpu")) {
      assertTrue(c instanceof DjlPrototypeClassifier);
    }
    // any change to a model file is caught
    Path pj = dir.resolve(ClassifierBundle.PROTOTYPES_JSON);
    Files.write(pj, new String(Files.readAllBytes(pj), StandardCharsets.UTF_8).replace("\"healthy\"", "\"normal\"")
        .getBytes(StandardCharsets.UTF_8));
    assertTrue(message(() -> ClassifierBundle.open(dir)).startsWith("Checksum mismatch for prototypes.json"));
  }

  @Test
  void missingAndWrongKindAreClearErrors() {
    Path none = tmp.resolve("none");
    assertEquals("Model directory " + none + " does not exist. Give model=sample-ppnet or the path of a classifier "
        + "bundle directory.", message(() -> ClassifierBundle.open(none.toString())));
    assertTrue(message(() -> ClassifierBundle.open("sample-nope")).startsWith("Unknown bundled model 'sample-nope'."));
    Path d = TinyPrototypeBundles.train(tmp, "PPNet");
    assertTrue(message(() -> DenoiserBundle.open(d)).endsWith("is a classifier bundle (format "
        + "\"diffusion-xai-classifier/1\"), but a denoiser bundle is needed here. Give model=sample or the path of a "
        + "bundle directory."), message(() -> DenoiserBundle.open(d)));
  }
}
