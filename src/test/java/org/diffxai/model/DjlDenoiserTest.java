package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DjlDenoiserTest {
  private static final float TOL = 1e-5f;

  @TempDir
  Path tmp;

  private static String message(Runnable r) {
    return assertThrows(UserException.class, r::run).getMessage();
  }

  private static void checkPrediction(DjlDenoiser d, int n, long seed) {
    int h = d.height();
    int w = d.width();
    int c = d.channels();
    int k = d.conditionChannels();
    float[] x = TestBundles.values(n * h * w * c, seed);
    float[] t = new float[n];
    int[] labels = d.classConditional() ? new int[n] : null;
    for (int i = 0; i < n; i++) {
      t[i] = 981 - 100 * i;
      if (labels != null) labels[i] = i % Math.max(1, d.bundle().classNames().size());
    }
    float[] cond = k > 0 ? TestBundles.values(n * h * w * k, seed + 1) : null;
    float[] got = d.predict(x, t, labels, cond, n);
    assertArrayEquals(TestBundles.expected(x, t, labels, cond, n, h, w, c, k), got, TOL);
  }

  @Test
  void unconditionalBatch1And5() {
    try (DjlDenoiser d = DjlDenoiser.open(Fixtures.plain().toString(), "cpu")) {
      assertEquals(8, d.height());
      assertEquals(8, d.width());
      assertEquals(1, d.channels());
      assertEquals(0, d.conditionChannels());
      assertFalse(d.classConditional());
      checkPrediction(d, 1, 1);
      checkPrediction(d, 5, 2);
      checkPrediction(d, 1, 3); // batch size may change between calls
    }
  }

  @Test
  void withLabelAndConditionBatch1And5() {
    try (DjlDenoiser d = DjlDenoiser.open(Fixtures.conditional().toString(), "cpu")) {
      assertTrue(d.classConditional());
      assertEquals(2, d.conditionChannels());
      checkPrediction(d, 1, 4);
      checkPrediction(d, 5, 5);
    }
  }

  @Test
  void withLabelOnlyAndConditionOnly() {
    Path label = TestBundles.spec().classes("healthy", "tumour").channels(2).size(4, 6).write(tmp.resolve("label"));
    try (DjlDenoiser d = DjlDenoiser.load(DenoiserBundle.open(label), "cpu")) {
      assertEquals(4, d.height());
      assertEquals(6, d.width());
      assertEquals(2, d.channels());
      assertTrue(d.classConditional());
      assertEquals(0, d.conditionChannels());
      checkPrediction(d, 1, 6);
      checkPrediction(d, 5, 7);
    }
    Path cond = TestBundles.spec().conditionChannels(3).write(tmp.resolve("cond"));
    try (DjlDenoiser d = DjlDenoiser.load(DenoiserBundle.open(cond), "cpu")) {
      assertFalse(d.classConditional());
      assertEquals(3, d.conditionChannels());
      checkPrediction(d, 1, 8);
      checkPrediction(d, 5, 9);
    }
  }

  @Test
  void withoutModelJsonTheSignatureGivesTheShape() {
    Path dir = TestBundles.spec().modelJson(false).classes("a", "b").conditionChannels(2).size(6, 5)
        .write(tmp.resolve("nojson"));
    try (DjlDenoiser d = DjlDenoiser.load(DenoiserBundle.open(dir), "auto")) {
      assertEquals(6, d.height());
      assertEquals(5, d.width());
      assertEquals(1, d.channels());
      assertEquals(2, d.conditionChannels());
      assertTrue(d.classConditional());
      checkPrediction(d, 5, 10);
      // no class count is known: any label >= 0 is passed on
      float[] out = d.predict(new float[30], new float[] {0}, new int[] {7}, new float[60], 1);
      assertEquals(0.7f, out[0], TOL);
    }
  }

  @Test
  void dynamicShapeNeedsModelJsonOrAnImage() {
    DenoiserBundle b = DenoiserBundle.open(Fixtures.dynamic());
    assertEquals("Cannot tell the sample size of model dynamic: its signature does not fix H, W and C of input 'x' "
        + "and it has no model.json. Add \"sample_size\": [H, W] and \"channels\": C to model.json, or give an image "
        + "to start from.", message(() -> DjlDenoiser.load(b, "cpu")));
    try (DjlDenoiser d = DjlDenoiser.load(b, "cpu", new int[] {12, 10, 3})) {
      assertEquals(12, d.height());
      assertEquals(10, d.width());
      assertEquals(3, d.channels());
      checkPrediction(d, 2, 11);
    }
  }

  @Test
  void imageMustMatchTheModel() {
    DenoiserBundle b = DenoiserBundle.open(Fixtures.plain());
    assertEquals("The image is 16x8 with 1 channel, but model plain works on 8x8 with 1 channel. Give an image of "
        + "that size, or none.", message(() -> DjlDenoiser.load(b, "cpu", new int[] {16, 8, 1})));
    DjlDenoiser.load(b, "cpu", new int[] {8, 8, 0}).close(); // unknown channels are fine
  }

  // ---------------------------------------------------------------------------------------------- contract

  /** Rewrites model.json of a copy of the conditional fixture (graph: label, condition K=2, 8x8x1). */
  private Path conditionalWith(String field, Object value) throws IOException {
    Path dir = Fixtures.copy(Fixtures.conditional(), tmp);
    JsonObject o = TestBundles.modelJson(TestBundles.spec().name("conditional").classes("a", "b", "c")
        .conditionChannels(2));
    if (value == null) {
      o.remove(field);
    } else if (value instanceof Number) {
      o.addProperty(field, (Number) value);
    } else if (value instanceof int[]) {
      JsonArray a = new JsonArray();
      for (int v : (int[]) value) a.add(v);
      o.add(field, a);
    }
    TestBundles.writeModelJson(dir, o, true);
    return dir;
  }

  private static String loadError(Path dir) {
    DenoiserBundle b = DenoiserBundle.open(dir);
    return message(() -> DjlDenoiser.load(b, "cpu"));
  }

  @Test
  void channelMismatch() {
    Path dir = TestBundles.spec().name("two").channels(2).signatureChannels(1).write(tmp.resolve("two"));
    assertEquals("Model input 'x' expects 1 channel but model.json declares 2 channels (two). Fix \"channels\" in "
        + "model.json or re-export the model.", loadError(dir));
  }

  @Test
  void sizeMismatch() throws IOException {
    assertEquals("Model input 'x' expects height 8 but model.json declares sample_size [16, 16] (conditional). Fix "
        + "\"sample_size\" in model.json or re-export the model.", loadError(conditionalWith("sample_size",
            new int[] {16, 16})));
  }

  @Test
  void labelInputWithoutClassNames() throws IOException {
    assertEquals("Model conditional takes a 'label' input, but its model.json declares no class_names. Add "
        + "\"class_names\" to model.json (one name per label value); see docs/bundles.md.",
        loadError(conditionalWith("class_names", null)));
  }

  @Test
  void classNamesWithoutLabelInput() throws IOException {
    Path dir = Fixtures.copy(Fixtures.plain(), tmp);
    TestBundles.writeModelJson(dir, TestBundles.modelJson(TestBundles.spec().name("plain").classes("a", "b")), true);
    assertEquals("Model plain has no 'label' input, but its model.json declares class_names [a, b]. Remove "
        + "class_names from model.json, or export the model with an int32 [N] 'label' input.", loadError(dir));
  }

  @Test
  void conditionChannelsMismatch() throws IOException {
    assertEquals("Model input 'condition' expects 2 channels but model.json declares condition_channels 3 "
        + "(conditional). Fix condition_channels in model.json or re-export the model.",
        loadError(conditionalWith("condition_channels", 3)));
    assertEquals("Model conditional takes a 'condition' input, but its model.json declares no condition_channels. "
        + "Add \"condition_channels\": K to model.json; see docs/bundles.md.",
        loadError(conditionalWith("condition_channels", null)));
    Path dir = Fixtures.copy(Fixtures.plain(), tmp);
    TestBundles.writeModelJson(dir, TestBundles.modelJson(TestBundles.spec().name("plain").conditionChannels(1)),
        true);
    assertTrue(loadError(dir).startsWith("Model plain has no 'condition' input, but its model.json declares "
        + "condition_channels 1."));
  }

  @Test
  void damagedSavedModelIsAClearError() throws IOException {
    Path dir = Fixtures.copy(Fixtures.dynamic(), tmp);
    Files.write(dir.resolve("saved_model.pb"), "not a protobuf".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    String m = loadError(dir);
    assertTrue(m.startsWith("Model dynamic-copy"), m);
    assertTrue(m.contains(dir.resolve("saved_model.pb") + " is not a TensorFlow SavedModel (it cannot be parsed as "
        + "one: "), m);
  }

  // ---------------------------------------------------------------------------------------------- calls

  @Test
  void validatesArrays() {
    try (DjlDenoiser d = DjlDenoiser.open(Fixtures.conditional().toString(), "cpu")) {
      float[] x = new float[64];
      float[] t = {1};
      int[] l = {0};
      float[] c = new float[128];
      d.predict(x, t, l, c, 1);
      assertThrows(IllegalArgumentException.class, () -> d.predict(x, t, l, c, 0));
      assertThrows(IllegalArgumentException.class, () -> d.predict(new float[63], t, l, c, 1));
      assertThrows(IllegalArgumentException.class, () -> d.predict(x, new float[2], l, c, 1));
      assertThrows(IllegalArgumentException.class, () -> d.predict(x, t, null, c, 1));
      assertThrows(IllegalArgumentException.class, () -> d.predict(x, t, new int[] {3}, c, 1));
      assertThrows(IllegalArgumentException.class, () -> d.predict(x, t, new int[] {-1}, c, 1));
      assertThrows(IllegalArgumentException.class, () -> d.predict(x, t, l, new float[64], 1));
      assertThrows(IllegalArgumentException.class, () -> d.predict(x, t, l, null, 1));
    }
    try (DjlDenoiser d = DjlDenoiser.open(Fixtures.plain().toString(), "cpu")) {
      assertThrows(IllegalArgumentException.class, () -> d.predict(new float[64], new float[1], new int[1], null, 1));
      assertThrows(IllegalArgumentException.class, () -> d.predict(new float[64], new float[1], null, new float[64],
          1));
    }
  }

  @Test
  void closeIsIdempotentAndFinal() {
    DjlDenoiser d = DjlDenoiser.open(Fixtures.plain().toString(), "cpu");
    d.close();
    d.close();
    assertThrows(IllegalStateException.class, () -> d.predict(new float[64], new float[1], null, null, 1));
  }

  @Test
  void provenance() {
    try (DjlDenoiser d = DjlDenoiser.open(Fixtures.plain().toString(), "auto")) {
      Map<String, String> p = d.provenance();
      assertEquals("plain", p.get("model.name"));
      assertEquals("8x8x1", p.get("model.input_shape"));
      assertEquals("cpu", p.get("device"));
      assertEquals(TensorFlowRuntime.tensorflowVersion(), p.get("tensorflow.version"));
      assertEquals(DenoiserBundle.open(Fixtures.plain()).checksum(), p.get("model.checksum"));
    }
  }

  /**
   * 1000 calls leave no arrays behind in DJL (exact check: every call's arrays live in a closed sub-manager) and do not
   * grow the Java heap. The process RSS is checked loosely: glibc's allocator keeps freed memory (about 75 MB here over
   * 1000 calls), while leaking each call's tensors (2 x 64 KiB) would add over 128 MB; 256 MB catches gross leaks only.
   */
  @Test
  void repeatedCallsDoNotLeak() throws IOException {
    Path status = Paths.get("/proc/self/status");
    try (DjlDenoiser d = DjlDenoiser.load(DenoiserBundle.open(Fixtures.dynamic()), "cpu", new int[] {64, 64, 1})) {
      int n = 4;
      float[] x = TestBundles.values(n * 64 * 64, 12);
      float[] t = {1, 2, 3, 4};
      for (int i = 0; i < 200; i++) d.predict(x, t, null, null, n);
      int arrays0 = d.liveArrays();
      long rss0 = rssKb(status);
      long heap0 = usedHeap();
      float[] out = null;
      for (int i = 0; i < 1000; i++) out = d.predict(x, t, null, null, n);
      long rss1 = rssKb(status);
      long heap1 = usedHeap();
      System.out.println("1000 calls: RSS " + (rss1 - rss0) + " kB, heap " + ((heap1 - heap0) >> 10) + " kB");
      assertArrayEquals(TestBundles.expected(x, t, null, null, n, 64, 64, 1, 0), out, TOL);
      assertEquals(arrays0, d.liveArrays(), "arrays left in the model's NDManager");
      assertTrue(heap1 - heap0 < 16L << 20, "heap grew by " + ((heap1 - heap0) >> 20) + " MB over 1000 calls");
      if (rss0 > 0) assertTrue(rss1 - rss0 < 256_000, "RSS grew by " + (rss1 - rss0) + " kB over 1000 calls");
    }
  }

  private static long rssKb(Path status) throws IOException {
    if (!Files.exists(status)) return -1;
    List<String> lines = Files.readAllLines(status);
    for (String l : lines) {
      if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
    }
    return -1;
  }

  private static long usedHeap() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) System.gc();
    return rt.totalMemory() - rt.freeMemory();
  }

  // ---------------------------------------------------------------------------------------------- bundled sample

  /** The real bundled sample model, which every build ships (sample-data/models/sample). */
  @Test
  void bundledSampleLoads() {
    assertTrue(DenoiserBundle.class.getClassLoader().getResource(DenoiserBundle.SAMPLE_RESOURCE_ROOT
        + "sample/model.json") != null, "the build has no bundled sample model (sample-data/models/sample)");
    try (DjlDenoiser d = DjlDenoiser.open("sample", "cpu")) {
      int n = 2;
      float[] x = TestBundles.values(n * d.height() * d.width() * d.channels(), 13);
      int[] labels = d.classConditional() ? new int[n] : null;
      float[] cond = d.conditionChannels() > 0 ? new float[n * d.height() * d.width() * d.conditionChannels()] : null;
      float[] out = d.predict(x, new float[] {981, 500}, labels, cond, n);
      assertEquals(x.length, out.length);
      for (float v : out) assertTrue(Float.isFinite(v));
    }
  }
}
