package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.diffxai.core.Table;
import org.diffxai.io.FloatStack;
import org.diffxai.io.Planes;
import org.diffxai.metrics.CellPrototypeClassifier;
import org.diffxai.metrics.FaithfulnessMetricsTest;
import org.diffxai.metrics.FaithfulnessScoring;
import org.diffxai.metrics.LinearClassifier;
import org.diffxai.metrics.Metric;
import org.diffxai.metrics.MetricResult;
import org.diffxai.metrics.Nis;
import org.diffxai.metrics.PrototypeAndNisTest;
import org.diffxai.model.LoadedModel;
import java.util.HashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole run on pure-Java classifiers: metric selection, table, curves, files, errors, cancellation. */
class FaithfulnessScoreRunTest {
  static final int H = FaithfulnessMetricsTest.H, W = FaithfulnessMetricsTest.W;

  static FloatStack stack(int w, int h, float[]... planes) {
    return new FloatStack(w, h, 1, planes.length, 1, planes, null);
  }

  /** A request with the in-memory images its keys name. */
  static final class Fixture {
    final FaithfulnessScoreRun.Request r = new FaithfulnessScoreRun.Request();
    final Map<String, FloatStack> images = new HashMap<>();

    Env env(Progress p) {
      return new Env(p, (key, value) -> {
        FloatStack s = images.get(value);
        if (s == null) throw new UserException(key + "=" + value + " is not an image of this test");
        return Planes.named(value, s);
      });
    }

    FaithfulnessScoreRun.Result run(org.diffxai.core.Classifier m, Progress p) {
      return FaithfulnessScoreRun.run(r, model(m), env(p));
    }
  }

  /** Two images, the linear model's exact maps (zero baseline), target class1. */
  static Fixture linearRequest(LinearClassifier m) {
    float[] x0 = FaithfulnessMetricsTest.image(1, 1), x1 = FaithfulnessMetricsTest.image(1, 2);
    Fixture f = new Fixture();
    f.images.put("two, images", stack(W, H, x0, x1));
    f.r.image = "two, images";
    f.r.target = "class1";
    float[] zero = new float[H * W];
    f.images.put("exact", stack(W, H, m.exact(1, x0, zero), m.exact(1, x1, zero)));
    f.r.attribution = "exact";
    f.r.baseline = "zero";
    f.r.runs = 50;
    f.r.seed = 3;
    return f;
  }

  static LoadedModel<org.diffxai.core.Classifier> model(org.diffxai.core.Classifier c) {
    return LoadedModel.of(c, "test-model", Map.of("model", "test-model", "model_sha256", "abc"));
  }

  static List<String> files(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void allMetricsOfTwoImagesWithTableCurvesAndFiles(@TempDir Path tmp) throws Exception {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 5);
    Fixture f = linearRequest(m);
    Path out = tmp.resolve("out");
    f.r.output = out.toString();
    FaithfulnessScoreRun.Result res = f.run(m, Progress.NONE);
    Table t = res.table;
    assertEquals(2 * 5 + 5, t.size()); // 5 attribution metrics per image, then their means
    assertEquals("faithfulness_correlation", t.getString("metric", 0));
    assertEquals("class1", t.getString("target", 0));
    assertEquals(1, t.getValue("value", 0), 1e-6);
    assertEquals("1", t.getString("slice", 0));
    assertEquals("2", t.getString("slice", 5));
    assertEquals("mean", t.getString("slice", 10));
    assertEquals((t.getValue("value", 1) + t.getValue("value", 6)) / 2, t.getValue("value", 11), 1e-12);
    assertTrue(t.getValue("ci_low", 11) <= t.getValue("value", 11));
    assertTrue(t.getValue("ci_high", 11) >= t.getValue("value", 11));
    assertEquals(51, (int) t.getValue("forwards", 0));
    assertEquals(List.of(OutputFolder.MANIFEST, "faithfulness.csv", "faithfulness.json", "faithfulness_curves.csv",
        "faithfulness_deletion.png", "faithfulness_faithfulness_correlation.png", "faithfulness_insertion.png",
        "faithfulness_monotonicity.png", "faithfulness_region_perturbation.png"), files(out));
    List<String> csv = Files.readAllLines(out.resolve("faithfulness.csv"));
    assertEquals("image,slice,target,metric,value,ci_low,ci_high,forwards,note", csv.get(0));
    assertTrue(csv.get(1).startsWith("\"two, images\",1,class1,faithfulness_correlation,"), csv.get(1));
    assertEquals(16, csv.size());
    String curves = Files.readString(out.resolve("faithfulness_curves.csv"));
    assertTrue(curves.startsWith("image,slice,metric,point,x,y\n\"two, images\",1,faithfulness_correlation,0,"));
    assertEquals(5, res.curves.size());
    BufferedImage png = ImageIO.read(out.resolve("faithfulness_deletion.png").toFile());
    assertEquals(org.diffxai.io.Plots.toPlot(res.curves.get(1)).getProcessor().getWidth(), png.getWidth());
    String json = Files.readString(out.resolve("faithfulness.json"));
    assertTrue(json.contains("\"seed\": \"3\"") && json.contains("\"model_sha256\": \"abc\"")
        && json.contains("\"baseline\": \"zero\"") && json.contains("\"step\": \"12\""), json);
    // same seed: the same table bytes
    Path again = tmp.resolve("again");
    f.r.output = again.toString();
    f.run(m, Progress.NONE);
    assertArrayEquals(Files.readAllBytes(tmp.resolve("out/faithfulness.csv")),
        Files.readAllBytes(again.resolve("faithfulness.csv")));
    assertArrayEquals(Files.readAllBytes(tmp.resolve("out/faithfulness_curves.csv")),
        Files.readAllBytes(again.resolve("faithfulness_curves.csv")));
  }

  @Test
  void predictedTargetAndOneMetric() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 6);
    Fixture f = linearRequest(m);
    f.r.target = "";
    f.r.metric = "deletion";
    FaithfulnessScoreRun.Result res = f.run(m, Progress.NONE);
    assertEquals(3, res.table.size());
    for (int i = 0; i < 2; i++) {
      float[][] l = m.logits(f.images.get("two, images").plane(i), 1);
      int best = 0;
      for (int k = 1; k < 3; k++) if (l[0][k] > l[0][best]) best = k;
      assertEquals(best, res.images.get(i).target);
    }
    assertEquals(1, res.curves.size());
  }

  @Test
  void aPrototypeNetworkGetsItsOwnMapThePrototypeMetricsAndNis(@TempDir Path tmp) throws Exception {
    CellPrototypeClassifier m = PrototypeAndNisTest.model();
    Fixture f = new Fixture();
    f.images.put("one", stack(16, 16, PrototypeAndNisTest.image()));
    f.r.image = "one";
    f.r.attribution = FaithfulnessScoring.PROTOTYPES;
    f.r.target = "0";
    f.r.top = 4;
    f.r.baseline = "zero"; // the model's evidence is a cell's mean: a blur would keep it
    f.r.output = tmp.toString();
    FaithfulnessScoreRun.Result res = f.run(m, Progress.NONE);
    List<MetricResult> got = res.images.get(0).metrics;
    assertEquals(8, got.size());
    assertEquals(Metric.PROTOTYPE_PERTURBATION, got.get(5).metric);
    assertEquals(5, got.get(5).forwards);
    assertEquals(Metric.NIS, got.get(7).metric);
    float[][] gen = Nis.pooledFeatures(m, f.images.get("one").toNHWC(), 1, 1);
    assertEquals(Nis.perImage(gen, m.prototypeVectors())[0], got.get(7).value, 0);
      // the explanation's 95th-percentile boxes cover each prototype's cell and, occluded with zeros, remove
    // all of its evidence: every drop equals the contribution
    assertEquals(1, got.get(5).value, 1e-6);
    assertEquals(1, got.get(6).value, 0);
    assertEquals(8, res.table.size()); // one image: no mean rows
    // NIS against the pooled features of reference images
    f.images.put("refs", stack(16, 16, PrototypeAndNisTest.image(), new float[256]));
    f.r.references = "refs";
    f.r.metric = "nis";
    f.r.output = "";
    MetricResult nis = f.run(m, Progress.NONE).images.get(0).metrics.get(0);
    assertEquals(1 / (1 + Math.exp(-Math.sqrt(Math.pow(gen[0][0], 2) + Math.pow(gen[0][1], 2)))), nis.value, 1e-6);
    assertTrue(nis.note.contains("refs"), nis.note);
  }

  @Test
  void inputsThatDoNotFitAreUserErrors() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 7);
    assertRun(m, f -> f.r.metric = "nis", "needs a prototype network");
    assertRun(m, f -> f.r.metric = "delet", "Invalid value for \"metric\"", "all, faithfulness_correlation");
    assertRun(m, f -> f.r.metric = "prototype_similarity_drop", "Invalid value for \"metric\"");
    assertRun(m, f -> {
      f.r.attribution = "";
      f.r.metric = "insertion";
    }, "metric=insertion scores an attribution map");
    assertRun(m, f -> f.r.attribution = "", "Nothing to score");
    assertRun(m, f -> f.r.attribution = "prototypes", "attribution=prototypes", "not a prototype network");
    assertRun(m, f -> f.images.put("exact", stack(W, H, new float[H * W])), "has 1 slice(s) for 2 image(s)");
    assertRun(m, f -> f.r.target = "class9", "target=class9", "class0, class1, class2");
    assertRun(m, f -> f.r.subset_size = 1000, "subset_size=1000");
    assertRun(m, f -> f.images.get("two, images").plane(1)[5] = Float.NaN,
        "two, images, plane 2, has a NaN value", "x=5, y=0");
  }

  /** Images (and maps) of another size are brought to the model's by the fit rule and counted, not refused. */
  @Test
  void otherSizesAreFittedAndCounted() {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 7);
    Fixture f = linearRequest(m);
    f.images.put("two, images", stack(W + 1, H, new float[(W + 1) * H], new float[(W + 1) * H]));
    f.images.put("exact", stack(W + 1, H, new float[(W + 1) * H], new float[(W + 1) * H]));
    f.r.metric = "deletion";
    FaithfulnessScoreRun.Result res = f.run(m, Progress.NONE);
    assertEquals("pad", res.provenance.get("input_fit"));
    assertEquals("1", res.provenance.get("input_padded")); // one image (a stack of two slices)
    f.r.fit = "stretch";
    assertEquals("1", f.run(m, Progress.NONE).provenance.get("input_stretched"));
  }

  @Test
  void aCancelledRunWritesNothing(@TempDir Path tmp) throws Exception {
    LinearClassifier m = LinearClassifier.random(H, W, 1, 3, 8);
    Fixture f = linearRequest(m);
    Path out = tmp.resolve("out");
    Files.createDirectories(out);
    f.r.output = out.toString();
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
    assertThrows(CancelledException.class, () -> f.run(m, p));
    assertEquals(List.of(), files(out));
  }

  interface Change {
    void apply(Fixture f);
  }

  static void assertRun(LinearClassifier m, Change change, String... parts) {
    Fixture f = linearRequest(m);
    change.apply(f);
    UserException e = assertThrows(UserException.class, () -> f.run(m, Progress.NONE));
    for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing in: " + e.getMessage());
    assertNotNull(e.getMessage());
  }
}
