package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileSaver;
import ij.process.FloatProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.run.CompareMethodsRun;
import org.diffxai.run.Env;
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageFolder;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.TestBundles;
import org.diffxai.model.TestClassifiers;
import org.diffxai.tf.TinyPrototypeBundles;
import org.diffxai.tf.proto.RandomizedPrototypeNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compare Explanation Methods end to end through the command line, on real (tiny) PPNet, EPPNet and ProtoPool bundles
 * trained by the project's trainer: the table, the per-image values, the plots and the record; reproducibility; the
 * synthesis path; and every user error (one line, no output written).
 */
class CompareExplanationMethodsTest {
  static final String LABEL = "Compare Explanation Methods";
  @TempDir static Path dir;
  static String models;
  static Path phantoms;

  @BeforeAll
  static void bundles() {
    List<String> paths = new ArrayList<>();
    for (String m : new String[] {"PPNet", "EPPNet", "ProtoPool"}) {
      paths.add(TinyPrototypeBundles.train(dir, m).toString());
    }
    models = String.join(",", paths);
    phantoms = TinyPrototypeBundles.phantomFolder();
  }

  /** compare.csv as rows of column → value. */
  static List<Map<String, String>> csv(Path file) throws Exception {
    List<String> lines = Files.readAllLines(file);
    String[] head = lines.get(0).split(",");
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",", -1);
      Map<String, String> m = new HashMap<>();
      for (int i = 0; i < head.length; i++) m.put(head[i], cells[i]);
      rows.add(m);
    }
    return rows;
  }

  static Map<String, String> find(List<Map<String, String>> rows, String model, String method, String metric) {
    return rows.stream().filter(r -> r.get("model").equals(model) && r.get("method").equals(method)
        && r.get("metric").equals(metric)).findFirst().orElseThrow(() -> new AssertionError(model + " " + method
            + " " + metric + " missing"));
  }

  static List<String> list(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void comparesThreeMethodsWithBothControls() throws Exception {
    Path out = dir.resolve("all");
    CliTest.Out r = CliTest.inProcess(LABEL, "images=[" + phantoms + "] models=[" + models + "] runs=10 step=64"
        + " bootstrap=300 seed=3 device=cpu output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    List<String> files = list(out);
    assertTrue(files.containsAll(List.of("compare.csv", "compare.json", "compare_images.csv", "compare_deletion.png",
        "compare_nis.png", "compare_spearman_vs_real.png", "compare_ssim_vs_real.png")), files.toString());
    List<Map<String, String>> rows = csv(out.resolve("compare.csv"));
    assertEquals(List.of("model", "method", "metric", "mean", "ci_low", "ci_high", "n", "better", "note"),
        Arrays.asList(Files.readAllLines(out.resolve("compare.csv")).get(0).split(",")));
    // Per model: 8 own metrics (5 attribution, 2 prototype, NIS), 5 for the random map, 2 x 2 for randomisation.
    assertEquals(3 * (8 + 5 + 4), rows.size());
    for (Map<String, String> row : rows) {
      double mean = Double.parseDouble(row.get("mean"));
      double lo = Double.parseDouble(row.get("ci_low"));
      double hi = Double.parseDouble(row.get("ci_high"));
      int n = Integer.parseInt(row.get("n"));
      if (n == 0) continue;
      assertTrue(lo <= mean + 1e-12 && mean <= hi + 1e-12, row.toString());
      assertTrue(n <= 2 * TinyPrototypeBundles.PER_CLASS, row.toString());
    }
    for (String m : new String[] {"tiny-PPNet", "tiny-EPPNet", "tiny-ProtoPool"}) {
      String method = m.substring(5);
      assertEquals("20", find(rows, m, method, "deletion").get("n"));
      assertEquals("lower", find(rows, m, method, "deletion").get("better"));
      assertEquals("20", find(rows, m, "random", "insertion").get("n"));
      double nis = Double.parseDouble(find(rows, m, method, "nis").get("mean"));
      assertTrue(nis > 0 && nis <= 1, "NIS in (0, 1]");
      // A re-initialised network explains differently: its map correlates clearly less than perfectly.
      for (String stage : new String[] {"top", "full"}) {
        Map<String, String> rho = find(rows, m, "randomized_" + stage, "spearman_vs_real");
        assertTrue(Double.parseDouble(rho.get("ci_high")) < 0.95, rho.toString());
      }
    }
    // Every image's value is there, and the row's mean is their mean.
    List<String> images = Files.readAllLines(out.resolve("compare_images.csv"));
    assertEquals(1 + rows.size() * 20, images.size());
    double sum = 0;
    for (String line : images) {
      if (line.startsWith("tiny-EPPNet,random,deletion,")) sum += Double.parseDouble(line.split(",")[4]);
    }
    assertEquals(Double.parseDouble(find(rows, "tiny-EPPNet", "random", "deletion").get("mean")), sum / 20, 1e-9);
    JsonObject json = JsonParser.parseString(Files.readString(out.resolve("compare.json"))).getAsJsonObject();
    assertEquals("Compare Explanation Methods", json.get("command").getAsString());
    assertEquals("PPNet", json.get("model1.method").getAsString());
    assertEquals(64, json.get("model3.checksum").getAsString().length());
    assertTrue(json.get("randomization").getAsString().contains("Adebayo"));
    ImagePlus png = new ImagePlus(out.resolve("compare_deletion.png").toString());
    assertTrue(png.getWidth() >= 600, "six bars fit");
  }

  @Test
  void sameSeedSameTableAndTheSynthesisPath() throws Exception {
    Path denoiser = TestBundles.spec().size(32, 32).classes("healthy", "lesion").write(dir.resolve("denoiser"));
    String opts = "denoiser=[" + denoiser + "] samples=3 steps=4 models=[" + models + "] metric=deletion"
        + " randomization=full bootstrap=100 seed=5 device=cpu";
    CliTest.Out a = CliTest.inProcess(LABEL, opts + " output=[" + dir.resolve("s1") + "]");
    assertEquals(0, a.code, a.toString());
    CliTest.Out b = CliTest.inProcess(LABEL, opts + " output=[" + dir.resolve("s2") + "]");
    assertEquals(0, b.code, b.toString());
    String t1 = Files.readString(dir.resolve("s1/compare_images.csv"));
    assertEquals(t1, Files.readString(dir.resolve("s2/compare_images.csv")));
    assertEquals(Files.readString(dir.resolve("s1/compare.csv")), Files.readString(dir.resolve("s2/compare.csv")));
    List<Map<String, String>> rows = csv(dir.resolve("s1/compare.csv"));
    assertEquals(3 * (1 + 1 + 2), rows.size()); // own deletion, random deletion, full randomisation x 2
    assertEquals("3", find(rows, "tiny-ProtoPool", "ProtoPool", "deletion").get("n"));
    JsonObject json = JsonParser.parseString(Files.readString(dir.resolve("s1/compare.json"))).getAsJsonObject();
    assertTrue(json.get("images").getAsString().startsWith("3 samples of"), json.toString());
    assertEquals("DDIM", json.get("images.sampler").getAsString());
  }

  @Test
  void aStackFileAndOneMetricWithoutRandomMap() throws Exception {
    ImageFolder f = ImageFolder.load(phantoms, TinyPrototypeBundles.SIZE, false);
    ImageStack st = new ImageStack(32, 32);
    for (int i = 0; i < 4; i++) st.addSlice(new FloatProcessor(32, 32, f.image(i * 5).clone()));
    Path tif = dir.resolve("four.tif");
    new FileSaver(new ImagePlus("four", st)).saveAsTiffStack(tif.toString());
    Path out = dir.resolve("stack");
    CliTest.Out r = CliTest.inProcess(LABEL, "images=[" + tif + "] models=[" + models.split(",")[0] + "] metric=nis"
        + " randomization=none device=cpu output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    List<Map<String, String>> rows = csv(out.resolve("compare.csv"));
    assertEquals(1, rows.size(), rows.toString()); // no random map: NIS does not score a map
    assertEquals("4", rows.get(0).get("n"));
  }

  @Test
  void cancellingLeavesNoFile() throws Exception {
    Path out = dir.resolve("cancelled");
    CompareMethodsRun.Request req = new CompareMethodsRun.Request();
    ImageFolder f = ImageFolder.load(phantoms, TinyPrototypeBundles.SIZE, false);
    CompareMethodsRun.Images images = new CompareMethodsRun.Images(new FloatStack(32, 32, 1, 4, 1,
        new float[][] {f.image(0), f.image(5), f.image(10), f.image(15)}, null), "four phantoms", Map.of());
    req.output = out.toString();
    int[] reports = {0};
    Progress cancelLater = new Progress() {
      @Override
      public void report(String message, double fraction) {
        reports[0]++;
      }

      @Override
      public boolean isCancelled() {
        return reports[0] >= 40;
      }
    };
    String key = models.split(",")[0];
    try (LoadedModel<PrototypeClassifier> c = Models.prototypes(key, DeviceChoice.CPU, 32, false, Progress.NONE)) {
      assertThrows(CancelledException.class, () -> CompareMethodsRun.run(req, images, List.of(c),
          (i, st, s) -> RandomizedPrototypeNetwork.of(ClassifierBundle.open(key), st, s), Env.files(cancelLater)));
    }
    assertTrue(reports[0] >= 40, "cancelled during the run");
    assertFalse(Files.exists(out), "no file, no temporary file, no folder");
  }

  static void assertUserError(String options, String... parts) throws Exception {
    Path out = dir.resolve("bad-" + Math.abs(options.hashCode()));
    CliTest.Out r = CliTest.inProcess(LABEL, options + " device=cpu output=[" + out + "]");
    assertEquals(1, r.code, r.toString());
    List<String> errors = r.err.lines().filter(l -> l.startsWith("Error: ")).collect(Collectors.toList());
    assertEquals(1, errors.size(), r.toString());
    assertFalse(r.err.contains("\tat "), r.toString());
    for (String p : parts) assertTrue(errors.get(0).contains(p), "'" + p + "' missing in " + errors.get(0));
    if (Files.isDirectory(out)) assertEquals(List.of(), list(out));
  }

  @Test
  void badInputs() throws Exception {
    String one = models.split(",")[0];
    assertUserError("models=[" + one + "]", "No images given", "denoiser=");
    assertUserError("images=[" + phantoms + "] denoiser=sample models=[" + one + "]", "Both images= and denoiser=");
    assertUserError("images=[" + phantoms + "] models=[" + dir.resolve("nope") + "]", "does not exist");
    assertUserError("images=[" + phantoms + "] models=[" + one + "," + one + "]", "Two models are called tiny-PPNet");
    CliTest.Out speed = CliTest.inProcess(LABEL, "images=[" + phantoms + "] models=[" + one + "] metric=speed");
    assertEquals(2, speed.code, speed.toString()); // a value outside the key's choices is a usage error
    assertTrue(speed.err.contains("\"metric\": \"speed\"") && speed.err.contains("deletion"), speed.err);
    assertUserError("images=[" + phantoms + "] models=[" + one + "] target=tumour", "target=tumour", "healthy");
    Path linear = TestClassifiers.writeLinear(dir.resolve("linear"), new float[2][32 * 32], 32, 32);
    assertUserError("images=[" + phantoms + "] models=[" + linear + "]", "not a prototype network");
    ImagePlus big = new ImagePlus("big", new FloatProcessor(48, 48));
    Path bigFile = dir.resolve("big.tif");
    new FileSaver(big).saveAsTiff(bigFile.toString());
    // An image of another size is brought to the models' by the fit rule (pad by default), not refused.
    Path fitted = dir.resolve("fitted");
    CliTest.Out big48 = CliTest.inProcess(LABEL, "images=[" + bigFile + "] models=[" + one + "] metric=nis"
        + " randomization=none device=cpu output=[" + fitted + "]");
    assertEquals(0, big48.code, big48.toString());
    String prov = Files.readString(fitted.resolve("compare.json"));
    assertTrue(prov.contains("\"images.input_fit\": \"pad\"") || prov.contains("pad"), prov);
  }
}
