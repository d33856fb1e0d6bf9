package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * The trust boundary on real bundles: models that copy a file on every call (ReadFile into WriteFile, hidden as a
 * control dependency in the graph or inside a library function) are refused by name; with trust they run and the
 * copy really happens; the project's own bundles pass.
 */
class ModelTrustTest {
  private static final String SECRET = "the content of a private file\n";

  @TempDir
  Path tmp;

  private static String message(Executable e) {
    return assertThrows(UserException.class, e).getMessage();
  }

  private Path secret() throws IOException {
    Path s = tmp.resolve("secret.txt");
    if (!Files.exists(s)) Files.write(s, SECRET.getBytes(StandardCharsets.UTF_8));
    return s;
  }

  @Test
  void denoiserLeakingInTheGraphIsRefusedAndRunsOnlyWithTrust() throws IOException {
    denoiserLeak(false);
  }

  @Test
  void denoiserLeakingInsideAFunctionIsRefusedAndRunsOnlyWithTrust() throws IOException {
    denoiserLeak(true);
  }

  private void denoiserLeak(boolean inFunction) throws IOException {
    Path leaked = tmp.resolve("leaked-" + inFunction + ".txt");
    Path dir = TestBundles.spec().name("evil").leak(new TestBundles.Leak(secret(), leaked, inFunction))
        .write(tmp.resolve("evil-" + inFunction));
    DenoiserBundle bundle = DenoiserBundle.open(dir); // its checksums are fine: model.json sits beside the files
    assertTrue(bundle.checksumsVerified());

    String m = message(() -> DjlDenoiser.load(bundle, "cpu"));
    String where = inFunction ? "in function '" : "in the graph)";
    assertTrue(m.startsWith("Model evil (" + dir + ") contains TensorFlow operations outside the allow-list of pure "
        + "compute operations: ReadFile (node 'ReadFile' " + where), m);
    assertTrue(m.contains(", WriteFile (node 'WriteFile' " + where), m);
    assertTrue(m.endsWith("If you know where this model comes from and trust it, run with trust=true (or set "
        + "DIFFXAI_TRUST_MODELS=1)."), m);
    assertFalse(Files.exists(leaked));
    assertEquals(2, ModelTrust.scan(dir).size());

    try (DjlDenoiser d = DjlDenoiser.load(bundle, TensorFlowRuntime.DeviceChoice.CPU, null, true)) {
      float[] x = TestBundles.values(2 * 64, 1);
      float[] t = {10, 500};
      assertArrayEquals(TestBundles.expected(x, t, null, null, 2, 8, 8, 1, 0), d.predict(x, t, null, null, 2), 1e-6f);
      // the danger is real: the model copied the file
      assertEquals(SECRET, new String(Files.readAllBytes(leaked), StandardCharsets.UTF_8));
      Map<String, String> p = d.provenance();
      assertEquals("yes (trust=true)", p.get("model.trust"));
      assertEquals("bypassed by trust: found operations outside the allow-list: ReadFile, WriteFile",
          p.get("model.graph_check"));
    }
  }

  @Test
  void classifierLeakingIsRefusedAndRunsOnlyWithTrust() throws IOException {
    for (boolean inFunction : new boolean[] {false, true}) {
      Path leaked = tmp.resolve("leaked-classifier-" + inFunction + ".txt");
      float[][] w = {TestBundles.values(16, 3), TestBundles.values(16, 4)};
      Path dir = TestClassifiers.writeLinear(tmp.resolve("evil-classifier-" + inFunction), w, 4, 4,
          new TestBundles.Leak(secret(), leaked, inFunction), false);
      ClassifierBundle bundle = ClassifierBundle.open(dir);
      String m = message(() -> ClassifierModels.load(bundle, "cpu"));
      assertTrue(m.startsWith("Model evil-classifier-" + inFunction + " (" + dir + ") contains TensorFlow operations "
          + "outside the allow-list of pure compute operations: ReadFile ("), m);
      assertTrue(m.contains("WriteFile ("), m);
      assertFalse(Files.exists(leaked));

      try (DjlClassifier c = ClassifierModels.load(bundle, "cpu", true)) {
        float[] x = TestBundles.values(16, 9);
        float[][] logits = c.logits(x, 1);
        for (int k = 0; k < 2; k++) {
          double want = 0;
          for (int i = 0; i < 16; i++) want += w[k][i] * x[i];
          assertEquals(want, logits[0][k], 1e-5);
        }
        assertEquals(SECRET, new String(Files.readAllBytes(leaked), StandardCharsets.UTF_8));
        assertEquals("bypassed by trust: found operations outside the allow-list: ReadFile, WriteFile",
            c.provenance().get("model.graph_check"));
      }
    }
  }

  @Test
  void theEnvironmentSettingTrustsToo() throws IOException {
    Path leaked = tmp.resolve("leaked-env.txt");
    Path dir = TestBundles.spec().name("evil").leak(new TestBundles.Leak(secret(), leaked, false))
        .write(tmp.resolve("evil-env"));
    System.setProperty(ModelTrust.PROPERTY, "true");
    try (DjlDenoiser d = DjlDenoiser.open(dir.toString(), "cpu")) {
      assertEquals("yes (-Ddiffxai.trust.models=true)", d.provenance().get("model.trust"));
    } finally {
      System.clearProperty(ModelTrust.PROPERTY);
    }
    assertTrue(message(() -> DjlDenoiser.open(dir.toString(), "cpu")).contains("WriteFile"));
  }

  @Test
  void cleanModelsRecordThatTheyPassed() {
    try (DjlDenoiser d = DjlDenoiser.load(DenoiserBundle.open(Fixtures.plain()), "cpu")) {
      Map<String, String> p = d.provenance();
      assertEquals("no", p.get("model.trust"));
      assertTrue(p.get("model.graph_check").startsWith("passed: "), p.get("model.graph_check"));
    }
  }

  /** A SaveV2 writing an arbitrary path, hidden as a control dependency of the serving output, is not the saver's. */
  @Test
  void aSaveOpInTheServingPathIsRefusedButTheSaversOwnIsNot() throws IOException {
    Path dir = TestBundles.copy(Fixtures.plain(), tmp.resolve("hidden-save"));
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    MetaGraphDef mg = sm.getMetaGraphs(0);
    assertEquals(Collections.emptyList(), new SavedModelGraph(mg).disallowedOps().stream().map(f -> f.op)
        .collect(java.util.stream.Collectors.toList()), "the saver's SaveV2/RestoreV2 are allowed where they are");
    String saveOp = null;
    for (NodeDef n : mg.getGraphDef().getNodeList()) {
      if (n.getOp().equals("SaveV2")) saveOp = n.getName();
    }
    // the serving output now also depends on the saver's SaveV2 (which would write wherever its filename says)
    MetaGraphDef.Builder b = mg.toBuilder();
    for (NodeDef.Builder n : b.getGraphDefBuilder().getNodeBuilderList()) {
      if (n.getName().equals("prediction")) n.addInput("^" + saveOp);
    }
    List<SavedModelGraph.Finding> found = new SavedModelGraph(b.build()).disallowedOps();
    assertEquals(1, found.size());
    assertEquals("SaveV2 (node '" + saveOp + "' in the graph)", found.get(0).toString());

    // the restore op runs at load: a WriteFile hung on it is refused too
    MetaGraphDef.Builder r = mg.toBuilder();
    r.getGraphDefBuilder().addNode(NodeDef.newBuilder().setName("evil_path").setOp("Const"))
        .addNode(NodeDef.newBuilder().setName("evil_write").setOp("WriteFile").addInput("evil_path")
            .addInput("evil_path"));
    for (NodeDef.Builder n : r.getGraphDefBuilder().getNodeBuilderList()) {
      if (n.getName().equals(mg.getSaverDef().getRestoreOpName())) n.addInput("^evil_write");
    }
    assertEquals("WriteFile (node 'evil_write' in the graph)",
        new SavedModelGraph(r.build()).disallowedOps().get(0).toString());
    // and through the loader, with the file rewritten (the sha256 of model.json is recomputed by the attacker)
    Files.write(dir.resolve("saved_model.pb"), sm.toBuilder().setMetaGraphs(0, r).build().toByteArray());
    TestBundles.writeModelJson(dir, TestBundles.modelJson(TestBundles.spec().name("plain")), true);
    String m = message(() -> DjlDenoiser.load(DenoiserBundle.open(dir), "cpu"));
    assertTrue(m.contains("WriteFile (node 'evil_write' in the graph)"), m);
  }

  @Test
  void bundlesOfThePrototypeTrainerPass() {
    for (String method : new String[] {"PPNet", "EPPNet", "ProtoPool"}) {
      assertEquals(Collections.emptyList(), ModelTrust.scan(org.diffxai.tf.TinyPrototypeBundles.train(tmp, method)),
          method);
    }
  }

  @Test
  void theBundledSamplesPass() {
    for (String key : new String[] {"sample", "sample-ppnet", "sample-eppnet", "sample-protopool"}) {
      Path dir = key.equals("sample") ? DenoiserBundle.open(key).directory()
          : ClassifierBundle.open(key).dir();
      assertEquals(Collections.emptyList(), ModelTrust.scan(dir), key);
    }
  }
}
