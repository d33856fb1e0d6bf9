package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.measure.ResultsTable;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole run on pure-Java classifiers: metric selection, table, curves, files, errors, cancellation. */
class FaithfulnessRunTest {
  static final int H = FaithfulnessMetricsTest.H, W = FaithfulnessMetricsTest.W;

  static FloatStack stack(int w, int h, float[]... planes) {
    return new FloatStack(w, h, 1, planes.length, 1, planes, null);
  }

  /** Two images, the linear model's exact maps (zero baseline), predicted target. */
  static FaithfulnessRun.Request linearRequest(LinearClassifier m) {
    float[] x0 = FaithfulnessMetricsTest.image(1, 1), x1 = FaithfulnessMetricsTest.image(1, 2);
    FaithfulnessRun.Request r = new FaithfulnessRun.Request();
    r.image = stack(W, H, x0, x1);
    r.imageName = "two, images";
    r.target = "class1";
    float[] zero = new float[H * W];
    r.attribution = stack(W, H, m.exact(1, x0, zero), m.exact(1, x1, zero));
    r.attributionName = "exact";
    r.settings.baseline = Baseline.ZERO;
    r.settings.runs = 50;
    r.seed = 3;
    return r;
  }

  static FaithfulnessRun.Model model(org.diffxai.core.Classifier c) {
    return new FaithfulnessRun.Model(c, "test-model", Map.of("model", "test-model", "model_sha256", "abc"));
  }

  static List<String> files(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void allMetricsOfTwoImagesWithTableCurvesAndFiles(@TempDir Path tmp) throws Exception {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 5);
    FaithfulnessRun.Request r = linearRequest(m);
    r.output = tmp.resolve("out");
    FaithfulnessRun.Result res = FaithfulnessRun.run(r, model(m), Progress.NONE);
    ResultsTable t = res.table;
    assertEquals(2 * 5 + 5, t.size()); // 5 attribution metrics per image, then their means
    assertEquals("faithfulness_correlation", t.getStringValue("metric", 0));
    assertEquals("class1", t.getStringValue("target", 0));
    assertEquals(1, t.getValue("value", 0), 1e-6);
    assertEquals("1", t.getStringValue("slice", 0));
    assertEquals("2", t.getStringValue("slice", 5));
    assertEquals("mean", t.getStringValue("slice", 10));
    assertEquals((t.getValue("value", 1) + t.getValue("value", 6)) / 2, t.getValue("value", 11), 1e-12);
    assertTrue(t.getValue("ci_low", 11) <= t.getValue("value", 11));
    assertTrue(t.getValue("ci_high", 11) >= t.getValue("value", 11));
    assertEquals(51, (int) t.getValue("forwards", 0));
    assertEquals(List.of("faithfulness.csv", "faithfulness.json", "faithfulness_curves.csv",
        "faithfulness_deletion.png", "faithfulness_faithfulness_correlation.png", "faithfulness_insertion.png",
        "faithfulness_monotonicity.png", "faithfulness_region_perturbation.png"), files(r.output));
    List<String> csv = Files.readAllLines(r.output.resolve("faithfulness.csv"));
    assertEquals("image,slice,target,metric,value,ci_low,ci_high,forwards,note", csv.get(0));
    assertTrue(csv.get(1).startsWith("\"two, images\",1,class1,faithfulness_correlation,"), csv.get(1));
    assertEquals(16, csv.size());
    String curves = Files.readString(r.output.resolve("faithfulness_curves.csv"));
    assertTrue(curves.startsWith("image,slice,metric,point,x,y\n\"two, images\",1,faithfulness_correlation,0,"));
    assertEquals(5, res.curves.getStackSize());
    BufferedImage png = ImageIO.read(r.output.resolve("faithfulness_deletion.png").toFile());
    assertEquals(res.curves.getWidth(), png.getWidth());
    String json = Files.readString(r.output.resolve("faithfulness.json"));
    assertTrue(json.contains("\"seed\": \"3\"") && json.contains("\"model_sha256\": \"abc\"")
        && json.contains("\"baseline\": \"zero\"") && json.contains("\"step\": \"12\""), json);
    // same seed: the same table bytes
    r.output = tmp.resolve("again");
    FaithfulnessRun.run(r, model(m), null);
    assertArrayEquals(Files.readAllBytes(tmp.resolve("out/faithfulness.csv")),
        Files.readAllBytes(r.output.resolve("faithfulness.csv")));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("out/faithfulness_curves.csv")),
        Files.readAllBytes(r.output.resolve("faithfulness_curves.csv")));
  }

  @Test
  void predictedTargetAndOneMetric() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 6);
    FaithfulnessRun.Request r = linearRequest(m);
    r.target = "";
    r.metric = "deletion";
    FaithfulnessRun.Result res = FaithfulnessRun.run(r, model(m), null);
    assertEquals(3, res.table.size());
    for (int i = 0; i < 2; i++) {
      float[][] l = m.logits(r.image.plane(i), 1);
      int best = 0;
      for (int k = 1; k < 3; k++) if (l[0][k] > l[0][best]) best = k;
      assertEquals(best, res.images.get(i).target);
    }
    assertEquals(1, res.curves.getStackSize());
  }

  @Test
  void aPrototypeNetworkGetsItsOwnMapThePrototypeMetricsAndNis(@TempDir Path tmp) throws Exception {
    CellPrototypeClassifier m = PrototypeAndNisTest.model();
    FaithfulnessRun.Request r = new FaithfulnessRun.Request();
    r.image = stack(16, 16, PrototypeAndNisTest.image());
    r.imageName = "one";
    r.prototypeAttribution = true;
    r.attributionName = FaithfulnessRun.PROTOTYPES;
    r.target = "0";
    r.top = 4;
    r.settings.baseline = Baseline.ZERO; // the model's evidence is a cell's mean: a blur would keep it
    r.output = tmp;
    FaithfulnessRun.Result res = FaithfulnessRun.run(r, model(m), null);
    List<MetricResult> got = res.images.get(0).metrics;
    assertEquals(8, got.size());
    assertEquals(Metric.PROTOTYPE_PERTURBATION, got.get(5).metric);
    assertEquals(5, got.get(5).forwards);
    assertEquals(Metric.NIS, got.get(7).metric);
    float[][] gen = Nis.pooledFeatures(m, r.image.toNHWC(), 1, 1);
    assertEquals(Nis.perImage(gen, m.prototypeVectors())[0], got.get(7).value, 0);
      // the explanation's 95th-percentile boxes cover each prototype's cell and, occluded with zeros, remove
    // all of its evidence: every drop equals the contribution
    assertEquals(1, got.get(5).value, 1e-6);
    assertEquals(1, got.get(6).value, 0);
    assertEquals(8, res.table.size()); // one image: no mean rows
    // NIS against the pooled features of reference images
    r.references = stack(16, 16, PrototypeAndNisTest.image(), new float[256]);
    r.referencesName = "refs";
    r.metric = "nis";
    r.output = null;
    MetricResult nis = FaithfulnessRun.run(r, model(m), null).images.get(0).metrics.get(0);
    assertEquals(1 / (1 + Math.exp(-Math.sqrt(Math.pow(gen[0][0], 2) + Math.pow(gen[0][1], 2)))), nis.value, 1e-6);
    assertTrue(nis.note.contains("refs"), nis.note);
  }

  @Test
  void inputsThatDoNotFitAreUserErrors() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 7);
    assertRun(m, r -> r.metric = "nis", "needs a prototype network");
    assertRun(m, r -> r.metric = "delet", "metric=delet is not a metric", "all, faithfulness_correlation");
    assertRun(m, r -> r.metric = "prototype_similarity_drop", "is not a metric");
    assertRun(m, r -> {
      r.attribution = null;
      r.metric = "insertion";
    }, "metric=insertion scores an attribution map");
    assertRun(m, r -> r.attribution = null, "Nothing to score");
    assertRun(m, r -> r.prototypeAttribution = true, "attribution=prototypes", "not a prototype network");
    assertRun(m, r -> r.attribution = stack(W, H, new float[H * W]), "has 1 slice(s) for 2 image(s)");
    assertRun(m, r -> r.attribution = stack(H, W, new float[H * W], new float[H * W]), "is 16x12", "12x16");
    assertRun(m, r -> r.image = stack(W + 1, H, new float[(W + 1) * H]), "is 13x16", "takes 12x16");
    assertRun(m, r -> r.target = "class9", "target=class9", "class0, class1, class2");
    assertRun(m, r -> r.settings.subsetSize = 1000, "subset_size=1000");
    assertRun(m, r -> r.image.plane(1)[5] = Float.NaN, "two, images: slice 2 has 1 non-finite value", "x=5, y=0");
  }

  @Test
  void aCancelledRunWritesNothing(@TempDir Path tmp) throws Exception {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 8);
    FaithfulnessRun.Request r = linearRequest(m);
    r.output = tmp.resolve("out");
    int[] reports = {0};
    Progress p = new Progress() {
      @Override
      public void report(String message, double fraction) {
        reports[0]++;
      }

      @Override
      public boolean isCancelled() {
        return reports[0] > 6;
      }
    };
    assertThrows(CancelledException.class, () -> FaithfulnessRun.run(r, model(m), p));
    assertEquals(List.of(), files(r.output));
  }

  interface Change {
    void apply(FaithfulnessRun.Request r);
  }

  static void assertRun(LinearClassifier m, Change change, String... parts) {
    FaithfulnessRun.Request r = linearRequest(m);
    change.apply(r);
    UserException e = assertThrows(UserException.class, () -> FaithfulnessRun.run(r, model(m), null));
    for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing in: " + e.getMessage());
    assertNotNull(e.getMessage());
  }
}
