package org.diffxai.synthesis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.CancelledException;
import org.diffxai.core.DiffusionSampler;
import org.diffxai.core.DiffusionScheduler;
import org.diffxai.core.FixedShapeDenoiser;
import org.diffxai.core.Progress;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.io.External;
import org.diffxai.model.TestBundles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Synthesis end to end on real SavedModels (TensorFlow through DJL) whose output is a known function. */
class SynthesisTest {
  static final int H = 8, W = 6;

  @TempDir static Path shared;
  static Path bundle;

  @BeforeAll
  static void writeBundle() {
    bundle = TestBundles.spec().size(H, W).classes("healthy", "lesion").intensity(0.5, 0.5)
        .write(shared.resolve("bundle"));
  }

  static Synthesis.Request request() {
    Synthesis.Request r = new Synthesis.Request();
    r.model = bundle.toString();
    r.samples = 3;
    r.steps = 10;
    r.sampler = "DDIM";
    r.seed = 7;
    r.batch = 2;
    r.device = "cpu";
    return r;
  }

  /** The fixture's function in plain Java. */
  static final class AnalyticDenoiser extends FixedShapeDenoiser {
    AnalyticDenoiser() {
      super(H, W, 1, 0, true);
    }

    @Override
    public float[] predict(float[] x, float[] t, int[] labels, float[] condition, int n) {
      return TestBundles.expected(x, t, labels, condition, n, H, W, 1, 0);
    }
  }

  @Test
  void tensorflowRunMatchesTheSamplerOnTheSameFunctionInJava() throws IOException {
    for (String sampler : new String[] {"DDIM", "DDPM"}) {
      Synthesis.Request r = request();
      r.sampler = sampler;
      r.label = "lesion";
      Synthesis.Result res = Synthesis.run(r, Progress.NONE);

      SchedulerConfig cfg = SchedulerConfig.fromJson(TestBundles.SCHEDULER_CONFIG);
      float[][] expected = new DiffusionSampler(new AnalyticDenoiser(), DiffusionScheduler.create(sampler, cfg, 0))
          .steps(10).samples(3).seed(7).batchSize(3).label(1).run(null, Progress.NONE);
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(expected[i], res.modelSpace[i], 1e-4f, sampler + " sample " + i);
        float[] img = (float[]) res.synthesized.getStack().getPixels(i + 1);
        for (int p = 0; p < H * W; p++) assertEquals(expected[i][p] * 0.5f + 0.5f, img[p], 1e-4f);
      }
      assertEquals(3, res.table.size());
      assertEquals("lesion", res.table.getStringValue("label", 2));
      assertEquals(sampler, res.table.getStringValue("sampler", 0));
      assertNull(res.trajectory);
    }
  }

  @Test
  void emptyLabelCyclesThroughTheClasses() throws IOException {
    Synthesis.Result res = Synthesis.run(request(), Progress.NONE);
    assertEquals("healthy", res.table.getStringValue("label", 0));
    assertEquals("lesion", res.table.getStringValue("label", 1));
    assertEquals("healthy", res.table.getStringValue("label", 2));
  }

  @Test
  void sameSeedGivesIdenticalSamplesWhateverTheBatch() throws IOException {
    Synthesis.Request a = request();
    Synthesis.Request b = request();
    b.batch = 3;
    float[][] x = Synthesis.run(a, Progress.NONE).modelSpace;
    float[][] y = Synthesis.run(b, Progress.NONE).modelSpace;
    for (int i = 0; i < 3; i++) assertArrayEquals(x[i], y[i], 0f);
    Synthesis.Request c = request();
    c.seed = 8;
    assertFalse(java.util.Arrays.equals(x[0], Synthesis.run(c, Progress.NONE).modelSpace[0]));
  }

  @Test
  void trajectoryInMemoryHasStepsAsFramesAndXtX0AsChannels() throws IOException {
    Synthesis.Request r = request();
    r.keepEvery = 4; // steps 0, 4, 8 and the last (9)
    Synthesis.Result res = Synthesis.run(r, Progress.NONE);
    ImagePlus tr = res.trajectory;
    assertEquals(2, tr.getNChannels());
    assertEquals(3, tr.getNSlices());
    assertEquals(4, tr.getNFrames());
    ImageStack st = tr.getStack();
    // last frame, x0 channel of sample 2 is in image units
    String label = st.getSliceLabel(tr.getStackIndex(2, 2, 4));
    assertTrue(label.startsWith("x0_pred sample 2 step 10 t=0"), label);
    assertTrue(st.getSliceLabel(1).startsWith("x_t sample 1 step 1 t=900"), st.getSliceLabel(1));
  }

  @Test
  void outputDirectoryHoldsFilesThatAnIndependentReaderOpens() throws Exception {
    Path out = shared.resolve("out");
    Synthesis.Request r = request();
    r.keepEvery = 3; // steps 0, 3, 6, 9
    r.output = out;
    Synthesis.Result res = Synthesis.run(r, Progress.NONE);
    try (Stream<Path> s = Files.list(out)) {
      List<String> names = s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
      assertEquals(List.of("samples.tif", "synthesis.csv", "synthesis.json", "trajectory.ome.tif", "trajectory.tif"),
          names);
    }
    List<String> csv = Files.readAllLines(out.resolve("synthesis.csv"));
    assertEquals(4, csv.size());
    assertTrue(csv.get(0).startsWith("sample,seed,label,steps,sampler"), csv.get(0));
    String json = Files.readString(out.resolve("synthesis.json"));
    assertTrue(json.contains("\"model.checksum\""), json);
    assertTrue(json.contains("\"seed\": \"7\""), json);

    String script = "import tifffile, numpy as np, sys\n"
        + "t = tifffile.imread(sys.argv[1]); s = tifffile.imread(sys.argv[2])\n"
        + "print(t.shape, s.shape, t.dtype, s.dtype)\n"
        + "print(repr(float(s[1].sum())), repr(float(t[3, 2, 1].sum())))\n";
    Path py = shared.resolve("check.py");
    Files.writeString(py, script);
    Process p = new ProcessBuilder("/usr/bin/python3", py.toString(), out.resolve("trajectory.tif").toString(),
        out.resolve("samples.tif").toString()).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.exitValue(), text);
    String[] lines = text.split("\n");
    assertEquals("(4, 3, 2, 8, 6) (3, 8, 6) float32 float32", lines[0]);
    String[] sums = lines[1].split(" ");
    assertEquals(sum((float[]) res.synthesized.getStack().getPixels(2)), Double.parseDouble(sums[0]), 1e-4);
    // the last kept frame's x0 of sample 3, re-read from disk through ImageJ
    ImagePlus tr = res.trajectory;
    assertEquals(4, tr.getNFrames());
    assertEquals(sum((float[]) tr.getStack().getProcessor(tr.getStackIndex(2, 3, 4)).getPixels()),
        Double.parseDouble(sums[1]), 1e-4);
  }

  /**
   * trajectory.ome.tif with keep_noise, read by tifffile: OME axes and shape, channel names, every plane's timestep and
   * ᾱ_t, and pixels bit for bit what the sampler produced (x_t and x̂₀ in image units, ε̂ in model units).
   */
  @Test
  void omeTiffHoldsExactlyWhatTheSamplerProducedWithEachPlanesTimestep() throws Exception {
    External.assumeTifffile();
    Path out = shared.resolve("ome");
    Synthesis.Request r = request();
    r.keepEvery = 3; // steps 0, 3, 6, 9
    r.keepNoise = true;
    r.output = out;
    r.denoiserOverride = new AnalyticDenoiser(); // Java: the expected frames can be computed bit for bit
    Synthesis.Result res = Synthesis.run(r, Progress.NONE);
    assertEquals(3, res.trajectory.getNChannels());

    DiffusionSampler s = new DiffusionSampler(new AnalyticDenoiser(), DiffusionScheduler.create("DDIM",
        SchedulerConfig.fromJson(TestBundles.SCHEDULER_CONFIG), 0)).steps(10).samples(3).seed(7).batchSize(3)
        .labels(new int[] {0, 1, 0}).keepEvery(3);
    java.io.ByteArrayOutputStream expected = new java.io.ByteArrayOutputStream();
    StringBuilder plan = new StringBuilder();
    s.run(f -> {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(3 * 3 * H * W * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 3; i++) {
        for (float v : f.xt[i]) b.putFloat(v * 0.5f + 0.5f);
        for (float v : f.predOriginal[i]) b.putFloat(v * 0.5f + 0.5f);
        for (float v : f.predEpsilon[i]) b.putFloat(v);
      }
      expected.write(b.array(), 0, b.capacity());
      plan.append(plan.length() == 0 ? "" : " ").append(f.stepIndex + 1).append(':').append(f.timestep).append(':')
          .append(Float.toString((float) f.alphaCumprod));
    }, Progress.NONE);
    Path f32 = shared.resolve("ome-expected.f32");
    Files.write(f32, expected.toByteArray());

    String script = String.join("\n",
        "import sys, tifffile, numpy as np, xml.etree.ElementTree as ET",
        "ns = {'o': 'http://www.openmicroscopy.org/Schemas/OME/2016-06'}",
        "with tifffile.TiffFile(sys.argv[1]) as tf:",
        "    a = tf.series[0].asarray()",
        "    print(tf.is_ome, tf.series[0].axes, a.shape, a.dtype)",
        "    e = np.fromfile(sys.argv[2], '<f4').reshape(a.shape)",
        "    print(np.array_equal(a.view('<u4'), e.view('<u4')))",
        "    root = ET.fromstring(tf.ome_metadata)",
        "    px = root.find('o:Image/o:Pixels', ns)",
        "    print(','.join(c.get('Name') for c in px.findall('o:Channel', ns)))",
        "    maps = {m.get('ID'): {x.get('K'): x.text for x in m.findall('o:Value/o:M', ns)}",
        "            for m in root.findall('o:StructuredAnnotations/o:MapAnnotation', ns)}",
        "    steps = {}",
        "    for p in px.findall('o:Plane', ns):",
        "        m = maps[p.find('o:AnnotationRef', ns).get('ID')]",
        "        steps.setdefault(int(p.get('TheT')), set()).add(m['step'] + ':' + m['timestep'] + ':' + m['alpha_cumprod'])",
        "    print(len(px.findall('o:Plane', ns)), ' '.join(min(steps[t]) for t in sorted(steps)),",
        "          all(len(v) == 1 for v in steps.values()))",
        "    prov = maps[root.find('o:Image/o:AnnotationRef', ns).get('ID')]",
        "    print(prov['seed'], prov['sampler'], prov['keep_noise'], 'model.checksum' in prov)");
    List<String> lines = External.python(script, out.resolve("trajectory.ome.tif").toString(),
        f32.toString());
    assertEquals("True TZCYX (4, 3, 3, 8, 6) float32", lines.get(0));
    assertEquals("True", lines.get(1), "pixels differ from the sampler's frames");
    assertEquals("x_t,x0_pred,eps_pred", lines.get(2));
    assertEquals("36 " + plan + " True", lines.get(3));
    assertEquals("7 DDIM true True", lines.get(4));
  }

  @Test
  void cancelLeavesNoFile() throws IOException {
    Path out = shared.resolve("cancelled");
    Synthesis.Request r = request();
    r.keepEvery = 1;
    r.output = out;
    Progress cancelAtStep5 = new Progress() {
      int reports;

      @Override
      public void report(String message, double fraction) {
        if (message.startsWith("Step")) reports++;
      }

      @Override
      public boolean isCancelled() {
        return reports >= 5;
      }
    };
    assertThrows(CancelledException.class, () -> Synthesis.run(r, cancelAtStep5));
    try (Stream<Path> s = Files.list(out)) {
      assertEquals(0, s.count(), "no file, not even a temporary one");
    }
  }

  private static double sum(float[] v) {
    double s = 0;
    for (float f : v) s += f;
    return s;
  }
}
