package org.diffxai.fiji;

import org.diffxai.run.ParameterSpec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileSaver;
import ij.process.FloatProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.diffxai.model.TestClassifiers;
import org.diffxai.tf.TinyPrototypeBundles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code Faithfulness Score} through the command line on real TensorFlow SavedModels: a linear classifier whose exact
 * attribution is known in closed form, and a tiny trained prototype network; the CSV is read back by Python's csv
 * module. Bad input gives one error line and writes nothing.
 */
class FaithfulnessScoreCommandTest {
  static final int S = 16;
  @TempDir static Path dir;
  static Path linear;
  static float[] w;
  static float[][] images;

  @BeforeAll
  static void fixtures() {
    SplittableRandom r = new SplittableRandom(5);
    w = new float[S * S];
    float[] neg = new float[S * S];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (2 * r.nextDouble() - 1);
      neg[i] = -w[i];
    }
    // two classes, logit_1 = -logit_0: the class-0 probability is a monotone function of its logit
    linear = TestClassifiers.writeLinear(dir.resolve("linear"), new float[][] {w, neg}, S, S);
    images = new float[2][S * S];
    for (float[] x : images) {
      for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble();
    }
    save(dir.resolve("images.tif"), images);
    save(dir.resolve("exact.tif"), exact(images[0], 1), exact(images[1], 1));
    save(dir.resolve("negated.tif"), exact(images[0], -1), exact(images[1], -1));
  }

  /** The exact attribution of class 0 relative to the zero baseline, times a sign: w ⊙ x. */
  static float[] exact(float[] x, float sign) {
    float[] a = new float[x.length];
    for (int i = 0; i < a.length; i++) a[i] = sign * w[i] * x[i];
    return a;
  }

  static void save(Path file, float[]... planes) {
    ImageStack st = new ImageStack(S, S);
    for (float[] p : planes) st.addSlice(new FloatProcessor(S, S, p.clone()));
    assertTrue(new FileSaver(new ImagePlus("t", st)).saveAsTiff(file.toString()));
  }

  /** faithfulness.csv rows as maps, read by Python's csv module (an independent reader). */
  static List<Map<String, String>> csv(Path file) throws Exception {
    String out = ExampleMacrosTest.python("import csv,sys\nfor r in csv.DictReader(open(sys.argv[1])):\n"
        + "  print('\\t'.join(k + '=' + v for k, v in r.items()))", file.toString());
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : out.split("\n")) {
      Map<String, String> m = new LinkedHashMap<>();
      for (String kv : line.split("\t")) m.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
      rows.add(m);
    }
    return rows;
  }

  static double value(List<Map<String, String>> rows, String slice, String metric) {
    for (Map<String, String> r : rows) {
      if (r.get("slice").equals(slice) && r.get("metric").equals(metric)) return Double.parseDouble(r.get("value"));
    }
    throw new AssertionError(slice + " " + metric + " not in " + rows);
  }

  static List<Map<String, String>> run(String name, String options) throws Exception {
    Path out = dir.resolve(name);
    CliTest.Out r = CliTest.inProcess("Faithfulness Score", "model=[" + linear + "] image=[" + dir.resolve("images.tif")
        + "] device=cpu output=[" + out + "] " + options);
    assertEquals(0, r.code, r.toString());
    return csv(out.resolve("faithfulness.csv"));
  }

  @Test
  void theExactAttributionOfARealLinearSavedModelScoresOne() throws Exception {
    String common = " target=0 baseline=zero runs=60 seed=4";
    List<Map<String, String>> exact = run("exact", "attribution=[" + dir.resolve("exact.tif") + "]" + common);
    List<Map<String, String>> neg = run("negated", "attribution=[" + dir.resolve("negated.tif") + "]" + common);
    assertEquals(2 * 5 + 5, exact.size());
    for (String slice : new String[] {"1", "2"}) {
      assertEquals(1, value(exact, slice, "faithfulness_correlation"), 1e-5);
      assertEquals(-1, value(neg, slice, "faithfulness_correlation"), 1e-5);
      assertEquals(1, value(exact, slice, "monotonicity"), 1e-9);
      assertTrue(value(exact, slice, "deletion") < value(neg, slice, "deletion"));
      assertTrue(value(exact, slice, "region_perturbation") > value(neg, slice, "region_perturbation"));
    }
    assertEquals("class 0", exact.get(0).get("target"));
    assertEquals("mean", exact.get(10).get("slice"));
    Path out = dir.resolve("exact");
    try (Stream<Path> s = Files.list(out)) {
      assertEquals(9, s.count()); // two CSVs, the JSON, one PNG per metric, the manifest: no temporary files
    }
    String json = Files.readString(out.resolve("faithfulness.json"));
    assertTrue(json.contains("\"command\": \"Faithfulness Score\"") && json.contains("\"model.checksum\"")
        && json.contains("\"seed\": \"4\""), json);
    String shape = ExampleMacrosTest.python("import struct,sys\nd=open(sys.argv[1],'rb').read(24)\n"
        + "print(d[:8]==b'\\x89PNG\\r\\n\\x1a\\n', struct.unpack('>II', d[16:24])[0] > 100)",
        out.resolve("faithfulness_deletion.png").toString());
    assertEquals("True True", shape);
  }

  @Test
  void aTinyTrainedPrototypeNetworkScoresItsOwnExplanation() throws Exception {
    Path bundle = TinyPrototypeBundles.train(dir, "PPNet");
    Path folder = TinyPrototypeBundles.phantomFolder();
    Path img = folder.resolve("lesion").resolve("phantom_0001.tif");
    Path out = dir.resolve("proto");
    CliTest.Out r = CliTest.inProcess("Faithfulness Score", "model=[" + bundle + "] image=[" + img
        + "] attribution=prototypes runs=20 top=3 device=cpu output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    List<Map<String, String>> rows = csv(out.resolve("faithfulness.csv"));
    List<String> metrics = new ArrayList<>();
    for (Map<String, String> row : rows) metrics.add(row.get("metric"));
    assertEquals(List.of("faithfulness_correlation", "deletion", "insertion", "monotonicity", "region_perturbation",
        "prototype_perturbation", "prototype_similarity_drop", "nis"), metrics);
    double nis = value(rows, "1", "nis");
    int prototypes = 4; // 2 classes x 2 prototypes
    assertTrue(nis >= 1.0 / prototypes - 1e-9 && nis <= 1, "NIS in [1/P, 1]: " + nis);
    double del = value(rows, "1", "deletion");
    assertTrue(del >= 0 && del <= 1, "deletion AUC " + del);
    assertEquals("4", rows.get(5).get("forwards")); // top 3 + the unperturbed image
  }

  static void assertUserError(int code, String options, String... parts) throws Exception {
    Path out = dir.resolve("bad-" + Math.abs(options.hashCode()));
    CliTest.Out r = CliTest.inProcess("Faithfulness Score", options + " device=cpu output=[" + out + "]");
    assertEquals(code, r.code, r.toString());
    List<String> errors = new ArrayList<>();
    for (String l : r.err.split("\n")) if (l.startsWith("Error: ")) errors.add(l);
    assertEquals(1, errors.size(), r.toString());
    assertFalse(r.err.contains("\tat "), r.toString());
    for (String p : parts) assertTrue(errors.get(0).contains(p), "'" + p + "' missing in " + errors.get(0));
    if (Files.isDirectory(out)) {
      try (Stream<Path> s = Files.list(out)) {
        assertEquals(0, s.count(), "nothing written");
      }
    }
  }

  @Test
  void badInputIsOneClearErrorAndWritesNothing() throws Exception {
    String m = "model=[" + linear + "] image=[" + dir.resolve("images.tif") + "]";
    String a = " attribution=[" + dir.resolve("exact.tif") + "]";
    assertUserError(1, "model=[" + dir.resolve("nope") + "] image=[" + dir.resolve("images.tif") + "]" + a,
        "does not exist");
    assertUserError(1, "model=[" + linear + "] image=[" + dir.resolve("nope.tif") + "]" + a, "image=",
        "neither an open image nor an existing file");
    assertUserError(1, m + " metric=nis", "needs a prototype network");
    assertUserError(1, m, "Nothing to score");
    assertUserError(1, m + a + " subset_size=257", "subset_size=257", "256 pixels");
    assertUserError(1, m + a + " target=[class 7]", "target=class 7", "class 0, class 1");
    Path one = dir.resolve("one.tif");
    save(one, new float[S * S]);
    assertUserError(1, m + " attribution=[" + one + "]", "1 slice(s) for 2 image(s)");
    assertUserError(2, m + a + " metric=delete", "metric");
    assertUserError(2, m + a + " runs=2", "runs");
    assertUserError(2, m + a + " subsetsize=3", "subsetsize");
  }

  @Test
  void theChoicesAreTheMetricsAndBaselinesOfTheCore() {
    List<String> metrics = new ArrayList<>(List.of(org.diffxai.metrics.FaithfulnessScoring.ALL));
    for (org.diffxai.metrics.Metric m : org.diffxai.metrics.Metric.values()) {
      if (m != org.diffxai.metrics.Metric.PROTOTYPE_SIMILARITY_DROP) metrics.add(m.key()); // reported with its pair
    }
    List<String> baselines = new ArrayList<>();
    for (org.diffxai.metrics.Baseline b : org.diffxai.metrics.Baseline.values()) baselines.add(b.key());
    for (ParameterSpec p : CommandSpec.of(FaithfulnessScoreCommand.class).parameters()) {
      if (p.name().equals("metric")) assertEquals(metrics, p.choices());
      if (p.name().equals("baseline")) {
        assertEquals(new java.util.TreeSet<>(baselines), new java.util.TreeSet<>(p.choices()));
        assertEquals("blur", p.defaultValue()); // the documented default
      }
    }
  }
}
