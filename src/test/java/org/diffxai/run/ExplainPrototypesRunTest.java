package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.Seeds;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.explain.AnalyticPrototypeClassifier;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.ExplanationImagesTest;
import org.diffxai.explain.PrototypeExplainerTest;
import org.diffxai.io.FloatStack;
import org.diffxai.io.Planes;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.tf.TinyPrototypeBundles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A whole run on the analytic model: table, overlay stack and the three files, read back by tifffile and Python. */
class ExplainPrototypesRunTest {

  static LoadedModel<PrototypeClassifier> model(AnalyticPrototypeClassifier c) {
    return LoadedModel.<PrototypeClassifier>of(c, "analytic", Map.of("model", "analytic", "model_sha256", "abc"))
        .withGallery(ExplanationImagesTest.gallery());
  }

  static final FloatStack THREE = PrototypeExplainerTest.stack(32, PrototypeExplainerTest.image(32, 1, 2),
      PrototypeExplainerTest.image(32, 3, 0), PrototypeExplainerTest.image(32, 0, 0));

  static ExplainPrototypesRun.Request request(Path out) {
    ExplainPrototypesRun.Request r = new ExplainPrototypesRun.Request();
    r.image = "three slices.tif";
    r.top = 2;
    r.map = "upsample"; // the analytic network gives no gradients; its similarity maps are what is tested
    r.output = out.toString();
    return r;
  }

  /** Image keys resolve to this stack, named as the request names it. */
  static Env env(FloatStack image, Progress progress) {
    return new Env(progress, (key, value) -> Planes.named(value, image));
  }

  static String python(String script, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/python3", "-c", script));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  static List<String> files(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  @Test
  void writesTableOverlaysAndProvenance(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    ExplainPrototypesRun.Result res = ExplainPrototypesRun.run(request(out), model(PrototypeExplainerTest.model()),
        env(THREE, Progress.NONE));
    assertEquals(List.of(OutputFolder.MANIFEST, "explain.csv", "explain.json", "overlays.tif"), files(out));
    assertEquals(6, res.table.size());
    assertEquals(6, res.overlays.rgb().planeCount());

    List<String> csv = Files.readAllLines(out.resolve("explain.csv"));
    assertEquals("image,slice,predicted,probability,p_healthy,p_lesion,ood,target,rank,prototype,prototype_class,"
        + "similarity,weight,contribution,source_image,source_box,box", csv.get(0));
    assertEquals(7, csv.size());
    String first = csv.get(1);
    assertTrue(first.startsWith("three slices.tif,1,healthy,"), first);
    // healthy is predicted; its largest contribution comes from p1 (background, exact match), weight 1.
    assertTrue(first.contains(",healthy,1,1,healthy,"), first);
    assertTrue(first.endsWith(",train/p1.tif,\"1,2,3,4\",\"" + boxText(res.explanations.get(0).top.get(0).box)
        + "\""), first);
    assertTrue(csv.get(3).startsWith("three slices.tif,2,"), csv.get(3));

    String info = python("import tifffile, sys\n"
        + "with tifffile.TiffFile(sys.argv[1]) as t:\n"
        + "    a = t.asarray(); print(a.shape, a.dtype)\n"
        + "    md = t.imagej_metadata; print(md['Info'].splitlines()[1]); print(md['Labels'][0])\n",
        out.resolve("overlays.tif").toString());
    List<String> lines = info.lines().collect(Collectors.toList());
    assertEquals("(6, 32, 66, 3) uint8", lines.get(0)); // 32 px image + 2 px gap + gallery scaled to 32 px
    assertEquals("command = Explain with Prototypes", lines.get(1));
    assertTrue(lines.get(2).startsWith("slice 1 rank 1 prototype 1 (healthy) contribution "), lines.get(2));

    String json = python("import json, sys\n"
        + "d = json.load(open(sys.argv[1]))\n"
        + "print(d['model'], d['model_sha256'], d['image'], d['image_size'], d['model_input'], d['input_scale'],"
        + " d['target'], d['top'], d['method'], d['software'].startswith('Diffusion XAI for Fiji '))",
        out.resolve("explain.json").toString());
    assertEquals("analytic abc three slices.tif 32x32 16x16 2,2 predicted class 2 PPNet True", json);
  }

  @Test
  void oneSliceOnePrototypeIsOneRgbPlane(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    ExplainPrototypesRun.Request r = request(out);
    r.top = 1;
    ExplainPrototypesRun.run(r, model(PrototypeExplainerTest.model()),
        env(PrototypeExplainerTest.stack(16, PrototypeExplainerTest.image(16, 1, 2)), Progress.NONE));
    assertEquals("(16, 34, 3) uint8", python("import tifffile, sys; a = tifffile.imread(sys.argv[1]); print(a.shape,"
        + " a.dtype)", out.resolve("overlays.tif").toString()));
    assertEquals(2, Files.readAllLines(out.resolve("explain.csv")).size());
  }

  static String boxText(int[] b) {
    return b[0] + "," + b[1] + "," + b[2] + "," + b[3];
  }

  @Test
  void failedOrCancelledRunsWriteNothing(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("out");
    ExplainPrototypesRun.Request bad = request(out);
    bad.target = "tumour";
    assertThrows(UserException.class, () -> ExplainPrototypesRun.run(bad, model(PrototypeExplainerTest.model()),
        env(THREE, Progress.NONE)));
    assertEquals(List.of(), files(out));
    Progress cancelled = new Progress() {
      @Override
      public void report(String message, double fraction) {}

      @Override
      public boolean isCancelled() {
        return true;
      }
    };
    assertThrows(CancelledException.class,
        () -> ExplainPrototypesRun.run(request(out), model(PrototypeExplainerTest.model()), env(THREE, cancelled)));
    assertEquals(List.of(), files(out));
  }

  /** On the bundled sample PPNet (real TensorFlow): map=ig gives signed gradient maps, recorded with their settings. */
  @Test
  void mapKeyChoosesTheMapAndIsRecorded() {
    FloatStack phantom = new FloatStack(64, 64, 1, 1, 1, new float[][] {
        new org.diffxai.phantom.PhantomGenerator(64).generate(4242, 1, true).pixels}, null);
    ExplainPrototypesRun.Request r = new ExplainPrototypesRun.Request();
    r.image = "phantom";
    r.top = 1;
    r.device = "cpu";
    assertEquals("ig", r.map);
    ExplainPrototypesRun.Result ig = ExplainPrototypesRun.run(r, env(phantom, Progress.NONE));
    r.map = "upsample";
    ExplainPrototypesRun.Result up = ExplainPrototypesRun.run(r, env(phantom, Progress.NONE));
    // the same prototype is ranked first; its IG map is signed, the similarity map is not
    assertEquals(up.explanations.get(0).top.get(0).prototype, ig.explanations.get(0).top.get(0).prototype);
    float min = Float.POSITIVE_INFINITY;
    for (float v : ig.explanations.get(0).top.get(0).map) min = Math.min(min, v);
    assertTrue(min < 0, "IG map minimum " + min);
    assertEquals("ig", ig.provenance.get("map"));
    assertEquals("32", ig.provenance.get("attribution.steps"));
    assertTrue(ig.provenance.get("prototype_map").startsWith("Integrated Gradients"), ig.provenance.toString());
    assertEquals("upsample", up.provenance.get("map"));
    assertTrue(!up.provenance.containsKey("attribution.steps"));
  }

  /**
   * A trained bundle with a calibration: the table's probabilities are softmax(logits / T) with the bundle's
   * temperature, a pure-noise slice is flagged {@code ood}, and {@code quality} adds the prototype-quality row and
   * file.
   */
  @Test
  void calibratedProbabilitiesOodFlagAndQuality(@TempDir Path tmp) throws Exception {
    Path bundle = TinyPrototypeBundles.train(tmp, "PPNet");
    PhantomGenerator g = new PhantomGenerator(TinyPrototypeBundles.SIZE);
    float[] noise = Seeds.gaussian(3, "explain-run-test.noise", 0).fill(new float[TinyPrototypeBundles.SIZE
        * TinyPrototypeBundles.SIZE]);
    FloatStack images = PrototypeExplainerTest.stack(TinyPrototypeBundles.SIZE, g.generate(901, 0, false).pixels,
        g.generate(901, 1, true).pixels, noise);
    ExplainPrototypesRun.Request r = request(tmp.resolve("out"));
    r.model = bundle.toString();
    r.device = "cpu";
    r.quality = true;
    ExplainPrototypesRun.Result res = ExplainPrototypesRun.run(r, env(images, Progress.NONE));
    double t;
    try (LoadedModel<PrototypeClassifier> m = Models.prototypes(bundle.toString(), r.deviceChoice(), 8, false,
        Progress.NONE)) {
      t = m.get().confidence().temperature();
    }
    assertTrue(t > 0 && t != 1, "fitted temperature " + t);
    for (Explanation e : res.explanations) {
      double z = Math.exp(e.logits[0] / t) + Math.exp(e.logits[1] / t);
      assertEquals(Math.exp(e.logits[1] / t) / z, e.probabilities[1], 1e-6);
    }
    assertTrue(res.explanations.get(2).ood, "pure noise flagged out of distribution");
    for (int row = 0; row < res.table.size(); row++) {
      int slice = (int) res.table.getValue("slice", row) - 1;
      assertEquals(res.explanations.get(slice).ood ? 1 : 0, res.table.getValue("ood", row), 0);
      assertEquals(res.explanations.get(slice).probabilities[1], res.table.getValue("p_lesion", row), 1e-9);
    }
    Table q = res.quality;
    assertEquals(1, q.size());
    assertEquals(4, q.getValue("prototypes", 0), 0);
    double distinct = q.getValue("distinct", 0);
    assertTrue(distinct >= 1 && distinct <= 4, "distinct " + distinct);
    assertEquals(3 * 2, q.getValue("boxes", 0), 0);
    for (String c : new String[] {"outside_anatomy_share", "border_share", "stability_top_share",
        "stability_location_share"}) {
      double v = q.getValue(c, 0);
      assertTrue(v >= 0 && v <= 1, c + " " + v);
    }
    assertTrue(q.getValue("ood_share", 0) >= 1 / 3.0 - 1e-9);
    List<String> csv = Files.readAllLines(tmp.resolve("out").resolve(ExplainPrototypesRun.QUALITY_FILE));
    assertEquals(2, csv.size());
    assertTrue(csv.get(0).startsWith("model,images,prototypes,distinct,distinct_share,unused,boxes,"), csv.get(0));
    // deterministic: the same request gives the same quality row
    r.overwrite = true;
    Table again = ExplainPrototypesRun.run(r, env(images, Progress.NONE)).quality;
    assertEquals(q.getValue("stability_top_share", 0), again.getValue("stability_top_share", 0), 0);
  }
}
