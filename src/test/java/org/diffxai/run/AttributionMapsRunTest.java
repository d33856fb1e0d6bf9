package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.Planes;
import org.diffxai.phantom.PhantomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Attribution Maps end to end on the bundled sample PPNet (real TensorFlow, its gradients). */
class AttributionMapsRunTest {

  /** Two unseen phantoms, healthy and lesion, 64×64 (the sample networks' size). */
  static FloatStack phantoms() {
    PhantomGenerator g = new PhantomGenerator(64);
    float[][] planes = {g.generate(4242, 0, false).pixels, g.generate(4242, 1, true).pixels};
    return new FloatStack(64, 64, 1, 2, 1, planes, new String[] {"healthy", "lesion"});
  }

  static Env env(FloatStack images) {
    return new Env(Progress.NONE, (key, value) -> Planes.named(value, images));
  }

  static AttributionMapsRun.Request request(String method) {
    AttributionMapsRun.Request r = new AttributionMapsRun.Request();
    r.image = "phantoms";
    r.model = "sample-ppnet";
    r.method = method;
    r.device = "cpu";
    return r;
  }

  @Test
  void integratedGradientsWritesMapsTableAndRecordAndIsComplete(@TempDir Path dir) throws Exception {
    AttributionMapsRun.Request r = request("integrated_gradients");
    r.output = dir.resolve("out").toString();
    AttributionMapsRun.Result res = AttributionMapsRun.run(r, env(phantoms()));

    // the stack: per image the image as the model saw it, then its map; written and read back identical
    FloatStack shown = res.maps.floats();
    assertEquals(2, shown.channels);
    assertEquals(2, shown.sampleCount());
    assertEquals(List.of(ResultImage.Look.GREY, ResultImage.Look.SIGNED), res.maps.looks());
    FloatStack written = ImageReaders.readFloatStack(dir.resolve("out").resolve(AttributionMapsRun.MAPS_FILE));
    for (int p = 0; p < 4; p++) assertArrayEquals(shown.plane(p), written.plane(p));
    assertArrayEquals(phantoms().plane(1), shown.plane(2));
    assertArrayEquals(res.attributions.maps[1], shown.plane(3));

    // completeness (Sundararajan et al. 2017): the map sums to f(x) − f(x′) up to the quadrature error
    double[] gap = res.attributions.numbers.get("completeness_gap");
    double[] base = res.attributions.numbers.get("baseline_value");
    for (int i = 0; i < 2; i++) {
      double sum = 0;
      for (float v : res.attributions.maps[i]) sum += v;
      double change = res.attributions.values[i] - base[i];
      assertEquals(sum - change, gap[i], 1e-3 * Math.max(1, Math.abs(change)));
      assertTrue(Math.abs(gap[i]) < 0.1 * Math.abs(change), "gap " + gap[i] + " of a change " + change);
    }

    // table: one row per image with target, probability, logit and IG's numbers
    assertEquals(2, res.table.size());
    List<String> csv = Files.readAllLines(dir.resolve("out").resolve(AttributionMapsRun.TABLE_FILE),
        StandardCharsets.UTF_8);
    assertEquals(3, csv.size());
    assertTrue(csv.get(0).startsWith("image,slice,target,probability,logit,predicted,method"), csv.get(0));
    assertTrue(csv.get(0).contains("completeness_gap"), csv.get(0));
    String json = new String(Files.readAllBytes(dir.resolve("out").resolve(AttributionMapsRun.PROVENANCE_FILE)),
        StandardCharsets.UTF_8);
    assertTrue(json.contains("\"attribution.method\": \"integrated_gradients\""), json);
    assertTrue(json.contains("\"attribution.steps\": \"32\""), json);
    assertTrue(json.contains("\"model.name\""), json);
  }

  @Test
  void smoothGradIsReproducibleBySeedAndOcclusionNeedsNoGradient() {
    AttributionMapsRun.Request r = request("smoothgrad");
    r.samples = 4;
    r.seed = 7;
    r.target = "lesion";
    float[][] a = AttributionMapsRun.run(r, env(phantoms())).attributions.maps;
    float[][] b = AttributionMapsRun.run(r, env(phantoms())).attributions.maps;
    assertArrayEquals(a[0], b[0]);
    r.seed = 8;
    assertFalse(Arrays.equals(a[0], AttributionMapsRun.run(r, env(phantoms())).attributions.maps[0]));

    AttributionMapsRun.Request o = request("occlusion");
    o.patch_size = 16;
    o.target = "1";
    AttributionMapsRun.Result res = AttributionMapsRun.run(o, env(phantoms()));
    assertEquals("lesion", res.table.getString("target", 0));
    assertEquals(ResultImage.Look.SIGNED, res.maps.looks().get(1));
    assertTrue(res.provenance.get("attribution.patch").equals("16"));
  }

  @Test
  void badKeysGiveOneMessage() {
    AttributionMapsRun.Request r = request("integrated_gradients");
    r.target = "tumour";
    UserException e = assertThrows(UserException.class, () -> AttributionMapsRun.run(r, env(phantoms())));
    assertTrue(e.getMessage().contains("healthy, lesion"), e.getMessage());
    AttributionMapsRun.Request p = request("occlusion");
    p.patch_size = 65;
    e = assertThrows(UserException.class, () -> AttributionMapsRun.run(p, env(phantoms())));
    assertTrue(e.getMessage().contains("patch_size=65"), e.getMessage());
  }
}
