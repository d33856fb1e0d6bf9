package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.diffxai.io.AtomicFiles;
import org.diffxai.core.UserException;
import org.diffxai.fiji.ImageJApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;

/**
 * Loading real bundles that are subtly wrong or oddly placed: paths with glob characters, class names that do not
 * match the network, an unknown prototype method, a saved_model.pb of random bytes, a bundle without its variables.
 */
class BundleLoadingTest {
  @TempDir
  Path tmp;

  private static String message(Executable e) {
    return assertThrows(UserException.class, e).getMessage();
  }

  private static JsonObject json(Path file) throws IOException {
    return JsonParser.parseString(new String(Files.readAllBytes(file), StandardCharsets.UTF_8)).getAsJsonObject();
  }

  /** Writes {@code o} as the bundle's model.json with checksums recomputed, as an editor or attacker would. */
  private static void rewrite(Path dir, JsonObject o) throws IOException {
    o.remove("sha256");
    TestBundles.writeModelJson(dir, o, true);
  }

  private static JsonArray names(String... n) {
    JsonArray a = new JsonArray();
    for (String s : n) a.add(s);
    return a;
  }

  // ---------------------------------------------------------------------------------------------- [ ] in paths

  @Test
  void tensorFlowAloneCannotLoadABundleBelowBrackets() throws IOException {
    Path dir = TestBundles.copy(Fixtures.plain(), Files.createDirectories(tmp.resolve("run[1]")).resolve("b"));
    TensorFlowRuntime.ensureLoaded();
    RuntimeException e = assertThrows(RuntimeException.class, () -> {
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
        b.session().runner().fetch("x_weight").run().close();
      }
    });
    assertTrue(String.valueOf(e.getMessage()).contains("Failed to find any matching files"), e.toString());
  }

  @Test
  void denoisersAndClassifiersLoadFromFoldersWithBrackets() throws IOException {
    Path dir = TestBundles.copy(Fixtures.plain(), tmp.resolve("run[1]"));
    try (DjlDenoiser d = DjlDenoiser.open(dir.toString(), "cpu")) {
      float[] x = TestBundles.values(64, 2);
      float[] t = {7};
      assertArrayEquals(TestBundles.expected(x, t, null, null, 1, 8, 8, 1, 0), d.predict(x, t, null, null, 1), 1e-6f);
      assertEquals(dir.toString(), d.provenance().get("model.directory"));
    }
    assertTrue(Files.isDirectory(dir), "the bundle itself is untouched");

    float[][] w = {TestBundles.values(16, 5), TestBundles.values(16, 6)};
    Path cdir = TestClassifiers.writeLinear(tmp.resolve("fold[2]*?"), w, 4, 4);
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(cdir), "cpu")) {
      float[] x = TestBundles.values(16, 8);
      double want = 0;
      for (int i = 0; i < 16; i++) want += w[1][i] * x[i];
      assertEquals(want, c.logits(x, 1)[0][1], 1e-5);
    }
    Path pdir = TestBundles.copy(ClassifierBundle.open("sample-ppnet").dir(), tmp.resolve("proto[3]"));
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(pdir), "cpu")) {
      assertEquals(2, c.logits(new float[64 * 64], 1)[0].length);
    }
  }

  // ---------------------------------------------------------------------------------------------- class counts

  @Test
  void classifierClassNamesMustMatchItsOutputs() throws IOException {
    float[][] w = {TestBundles.values(16, 5), TestBundles.values(16, 6)};
    Path dir = TestClassifiers.writeLinear(tmp.resolve("hidden-k"), w, 4, 4, null, true);
    assertEquals("[-1,-1]", signatureShape(dir), "the signature does not tell K");
    JsonObject o = new JsonObject();
    o.addProperty("format", ClassifierBundle.FORMAT);
    o.addProperty("name", "hidden-k");
    for (String[] n : new String[][] {{"a", "b", "c"}, {"a"}}) {
      o.add("class_names", names(n));
      rewrite(dir, o);
      assertEquals("Model hidden-k has 2 outputs (logits) but its bundle names " + n.length + " classes "
          + Arrays.toString(n) + ". Give \"class_names\" in model.json exactly 2 names, one per output; see "
          + "docs/classifiers.md.", message(() -> ClassifierModels.load(ClassifierBundle.open(dir), "cpu")));
    }
    o.add("class_names", names("a", "b"));
    rewrite(dir, o);
    try (DjlClassifier c = ClassifierModels.load(ClassifierBundle.open(dir), "cpu")) {
      assertEquals(Arrays.asList("a", "b"), c.classNames());
    }
  }

  private static String signatureShape(Path dir) throws IOException {
    org.tensorflow.proto.TensorShapeProto s = SavedModelGraph.read(dir, "x", "doc").meta.getSignatureDefMap()
        .get("serving_default").getOutputsMap().get("logits").getTensorShape();
    return s.getDimList().stream().map(d -> Long.toString(d.getSize())).collect(Collectors.joining(",", "[", "]"));
  }

  /**
   * The case: Synthesize label=c on a denoiser whose label embedding has fewer rows. The sample's embedding has
   * 3 rows: healthy, lesion and the "no class" row its label dropout trained (training.unconditional_label = 2).
   */
  @Test
  void denoiserClassNamesMustMatchItsLabelEmbedding() throws IOException {
    Path dir = TestBundles.copy(DenoiserBundle.open("sample").directory(), tmp.resolve("sample-copy"));
    assertEquals(3, SavedModelGraph.read(dir, "sample", "doc").embeddingRows("label"));
    try (DjlDenoiser d = DjlDenoiser.load(DenoiserBundle.open(dir), "cpu")) {
      assertTrue(d.classConditional());
      assertEquals(2, d.bundle().classNames().size());
    }
    JsonObject o = json(dir.resolve("model.json"));
    o.getAsJsonObject("training").remove("unconditional_label");
    rewrite(dir, o);
    assertEquals("Model sample's label embedding has 3 rows, one per class, but its model.json names 2 classes "
        + "[healthy, lesion]. Give \"class_names\" exactly 3 names, one per label value; see docs/bundles.md.",
        message(() -> DjlDenoiser.load(DenoiserBundle.open(dir), "cpu")));
    o.add("class_names", names("healthy"));
    o.getAsJsonObject("training").addProperty("unconditional_label", 1);
    rewrite(dir, o);
    assertTrue(message(() -> DjlDenoiser.load(DenoiserBundle.open(dir), "cpu"))
        .contains("has 3 rows, one per class plus the unconditional row, but its model.json names 1 class [healthy]."
            + " Give \"class_names\" exactly 2 names"));
    o.getAsJsonObject("training").addProperty("unconditional_label", 2);
    rewrite(dir, o);
    assertTrue(message(() -> DenoiserBundle.open(dir)).contains("it must be the number of class_names (1)"));
  }

  // ---------------------------------------------------------------------------------------------- damaged bundles

  @Test
  void anUnknownPrototypeMethodIsRefused() throws IOException {
    Path dir = TestBundles.copy(ClassifierBundle.open("sample-ppnet").dir(), tmp.resolve("xnet"));
    JsonObject p = json(dir.resolve("prototypes.json"));
    p.addProperty("method", "XNet");
    Files.write(dir.resolve("prototypes.json"), p.toString().getBytes(StandardCharsets.UTF_8));
    rewrite(dir, json(dir.resolve("model.json")));
    assertEquals(dir.resolve("prototypes.json") + " has \"method\": \"XNet\"; it must be one of PPNet, EPPNet, "
        + "ProtoPool. Restore the bundle's original prototypes.json; see docs/classifiers.md.",
        message(() -> ClassifierBundle.open(dir)));
  }

  @Test
  void randomBytesAsSavedModelGiveOneMessageAndNoProtobufNoise() throws IOException {
    Path dir = TestBundles.copy(Fixtures.plain(), tmp.resolve("random"));
    byte[] junk = new byte[4096];
    new Random(1).nextBytes(junk);
    Files.write(dir.resolve("saved_model.pb"), junk);
    rewrite(dir, json(dir.resolve("model.json")));
    String m = message(() -> DjlDenoiser.load(DenoiserBundle.open(dir), "cpu"));
    assertTrue(m.startsWith("Model plain: " + dir.resolve("saved_model.pb") + " is not a TensorFlow SavedModel (it "
        + "cannot be parsed as one: "), m);
    assertTrue(m.endsWith("The file is damaged or is something else; restore the original bundle or re-export the "
        + "model; see docs/bundles.md."), m);

    // through the command line: one error line, and nothing from TensorFlow's protobuf parser
    String cp = ImageJApp.testClassPath().stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator));
    List<String> cmd = Arrays.asList(ImageJApp.javaExecutable(), "-cp", cp, "org.diffxai.fiji.Cli", "Synthesize",
        "model=" + dir, "samples=1", "steps=1", "device=cpu", "output=" + tmp.resolve("out"));
    ImageJApp.Result r = ImageJApp.exec(cmd, tmp, Duration.ofSeconds(120));
    assertTrue(r.exitCode() != 0, r.toString());
    assertFalse(r.stderr().contains("libprotobuf"), r.stderr());
    assertTrue(r.stderr().contains("is not a TensorFlow SavedModel"), r.stderr());
  }

  @Test
  void memoryIsNamedOnlyWhenMemoryRanOut() {
    String oom = SavedModels.runFailure("m", 4, new org.tensorflow.exceptions.TFResourceExhaustedException(
        "OOM when allocating tensor with shape[4,64,64,128]")).getMessage();
    assertEquals("TensorFlow failed while running model m on a batch of 4: OOM when allocating tensor with "
        + "shape[4,64,64,128]. Memory ran out: use a smaller batch or device=cpu.", oom);
    String other = SavedModels.runFailure("m", 4, new org.tensorflow.exceptions.TFInvalidArgumentException(
        "indices[0] = 2 is not in [0, 2)")).getMessage();
    assertEquals("TensorFlow failed while running model m on a batch of 4: indices[0] = 2 is not in [0, 2). Check "
        + "that the model meets its bundle contract (docs/bundles.md, docs/classifiers.md).", other);
  }

  @Test
  void aBundleWithoutItsVariablesIsRefusedAtLoad() throws IOException {
    Path dir = TestBundles.copy(DenoiserBundle.open("sample").directory(), tmp.resolve("novars"));
    AtomicFiles.deleteRecursively(dir.resolve("variables"));
    rewrite(dir, json(dir.resolve("model.json")));
    String m = message(() -> DjlDenoiser.load(DenoiserBundle.open(dir), "cpu"));
    assertTrue(m.startsWith("Model sample (" + dir + ") needs 155 variables (unet/"), m);
    assertTrue(m.endsWith(" and 150 more), but its bundle has no variables/variables.index, so all of them are "
        + "missing. Copy the complete bundle, including its variables/ folder."), m);
    assertFalse(m.contains("memory"), m);
  }
}
