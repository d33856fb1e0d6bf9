package org.diffxai.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.diffxai.io.FloatStack;
import org.diffxai.io.Planes;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.model.Models;
import org.diffxai.run.ResultImage.Look;
import org.diffxai.model.TestBundles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Synthesis end to end on real SavedModels (TensorFlow through DJL) whose output is a known function. */
class SynthesizeRunTest {
  static final int H = 8, W = 6;

  @TempDir static Path shared;
  static Path bundle;

  @BeforeAll
  static void writeBundle() {
    bundle = TestBundles.spec().size(H, W).classes("healthy", "lesion").intensity(0.5, 0.5)
        .write(shared.resolve("bundle"));
  }

  static SynthesizeRun.Request request() {
    SynthesizeRun.Request r = new SynthesizeRun.Request();
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
      SynthesizeRun.Request r = request();
      r.sampler = sampler;
      r.label = "lesion";
      SynthesizeRun.Result res = SynthesizeRun.run(r, Env.files());

      SchedulerConfig cfg = SchedulerConfig.fromJson(TestBundles.SCHEDULER_CONFIG);
      float[][] expected = new DiffusionSampler(new AnalyticDenoiser(), DiffusionScheduler.create(sampler, cfg, 0))
          .steps(10).samples(3).seed(7).batchSize(3).label(1).run(null, Progress.NONE);
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(expected[i], res.modelSpace[i], 1e-4f, sampler + " sample " + i);
        float[] img = res.samples.plane(i);
        for (int p = 0; p < H * W; p++) assertEquals(expected[i][p] * 0.5f + 0.5f, img[p], 1e-4f);
      }
      assertEquals(3, res.table.size());
      assertEquals("lesion", res.table.getString("label", 2));
      assertEquals(sampler, res.table.getString("sampler", 0));
      assertNull(res.trajectory);
    }
  }

  @Test
  void emptyLabelCyclesThroughTheClasses() throws IOException {
    SynthesizeRun.Result res = SynthesizeRun.run(request(), Env.files());
    assertEquals("healthy", res.table.getString("label", 0));
    assertEquals("lesion", res.table.getString("label", 1));
    assertEquals("healthy", res.table.getString("label", 2));
  }

  @Test
  void sameSeedGivesIdenticalSamplesWhateverTheBatch() throws IOException {
    SynthesizeRun.Request a = request();
    SynthesizeRun.Request b = request();
    b.batch = 3;
    float[][] x = SynthesizeRun.run(a, Env.files()).modelSpace;
    float[][] y = SynthesizeRun.run(b, Env.files()).modelSpace;
    for (int i = 0; i < 3; i++) assertArrayEquals(x[i], y[i], 0f);
    SynthesizeRun.Request c = request();
    c.seed = 8;
    assertFalse(java.util.Arrays.equals(x[0], SynthesizeRun.run(c, Env.files()).modelSpace[0]));
  }

  @Test
  void trajectoryInMemoryHasStepsAsFramesAndXtX0AsChannels() throws IOException {
    SynthesizeRun.Request r = request();
    r.keep_every = 4; // steps 0, 4, 8 and the last (9)
    SynthesizeRun.Result res = SynthesizeRun.run(r, Env.files());
    FloatStack tr = res.trajectory.floats();
    assertEquals(2, tr.channels);
    assertEquals(3, tr.slices);
    assertEquals(4, tr.frames);
    // last frame, x0 channel of sample 2 is in image units
    String label = tr.label(StreamingTiffWriter.planeIndex(1, 1, 3, 2, 3));
    assertTrue(label.startsWith("x0_pred sample 2 step 10 t=0"), label);
    assertTrue(tr.label(0).startsWith("x_t sample 1 step 1 t=900"), tr.label(0));
    assertEquals(List.of(Look.GREY, Look.GREY), res.trajectory.looks());
  }

  @Test
  void outputDirectoryHoldsFilesThatAnIndependentReaderOpens() throws Exception {
    Path out = shared.resolve("out");
    SynthesizeRun.Request r = request();
    r.keep_every = 3; // steps 0, 3, 6, 9
    r.output = out.toString();
    SynthesizeRun.Result res = SynthesizeRun.run(r, Env.files());
    try (Stream<Path> s = Files.list(out)) {
      List<String> names = s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
      assertEquals(List.of(OutputFolder.MANIFEST, "samples.tif", "synthesis.csv", "synthesis.json",
          "trajectory.ome.tif", "trajectory.tif"), names);
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
    assertEquals(sum(res.samples.plane(1)), Double.parseDouble(sums[0]), 1e-4);
    // the last kept frame's x0 of sample 3, re-read from disk through ImageJ
    assertEquals(out.resolve("trajectory.tif"), res.trajectory.file());
    Planes tr = Inputs.file("trajectory", res.trajectory.file());
    assertEquals(4, tr.frames());
    assertEquals(sum(tr.plane(StreamingTiffWriter.planeIndex(1, 2, 3, 2, 3))), Double.parseDouble(sums[1]), 1e-4);
  }

  /**
   * trajectory.ome.tif with keep_noise, read by tifffile: OME axes and shape, channel names, every plane's timestep and
   * ᾱ_t, and pixels bit for bit what the sampler produced (x_t and x̂₀ in image units, ε̂ in model units).
   */
  @Test
  void omeTiffHoldsExactlyWhatTheSamplerProducedWithEachPlanesTimestep() throws Exception {
    External.assumeTifffile();
    Path out = shared.resolve("ome");
    SynthesizeRun.Request r = request();
    r.keep_every = 3; // steps 0, 3, 6, 9
    r.keep_noise = true;
    r.output = out.toString();
    // Java: the expected frames can be computed bit for bit
    SynthesizeRun.Result res = SynthesizeRun.run(r, Models.wrap(r.model, new AnalyticDenoiser()), Env.files());
    assertEquals(List.of(Look.GREY, Look.GREY, Look.SIGNED), res.trajectory.looks());

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
    SynthesizeRun.Request r = request();
    r.keep_every = 1;
    r.output = out.toString();
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
    assertThrows(CancelledException.class, () -> SynthesizeRun.run(r, Env.files(cancelAtStep5)));
    assertFalse(Files.exists(out), "the run created the folder and leaves nothing, not even the folder");
    Files.createDirectories(out);
    assertThrows(CancelledException.class, () -> SynthesizeRun.run(r, Env.files(cancelAtStep5)));
    try (Stream<Path> s = Files.list(out)) {
      assertEquals(0, s.count(), "no file, not even a temporary one, in a folder that existed before");
    }
  }

  private static double sum(float[] v) {
    double s = 0;
    for (float f : v) s += f;
    return s;
  }

  /**
   * cfg_scale on the bundled sample (trained with label dropout): each step's output is (1+w)·model(label) −
   * w·model(no class), computed here from two plain calls; and it changes the samples.
   */
  @Test
  void classifierFreeGuidanceCombinesTheLabelledAndUnlabelledOutputs() {
    try (org.diffxai.model.DjlDenoiser d = org.diffxai.model.DjlDenoiser.open("sample", "cpu")) {
      assertEquals(2, d.unconditionalLabel());
      int hw = d.height() * d.width();
      float[] x = org.diffxai.core.Seeds.gaussian(3, "cfg-test", 0).fill(new float[2 * hw]);
      float[] t = {700f, 100f};
      float[] guided = org.diffxai.core.ClassifierFreeGuidance.wrap(d, 2.0).predict(x, t, new int[] {0, 1}, null, 2);
      float[] cond = d.predict(x, t, new int[] {0, 1}, null, 2);
      float[] uncond = d.predict(x, t, new int[] {2, 2}, null, 2);
      double maxErr = 0, moved = 0;
      for (int i = 0; i < guided.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(guided[i] - (3 * cond[i] - 2 * uncond[i])));
        moved = Math.max(moved, Math.abs(guided[i] - cond[i]));
      }
      assertTrue(maxErr < 1e-4, "max |guided - (3 cond - 2 uncond)| = " + maxErr);
      assertTrue(moved > 1e-2, "guidance changed the output by at most " + moved);
    }
    SynthesizeRun.Request r = new SynthesizeRun.Request();
    r.samples = 2;
    r.steps = 4;
    r.seed = 5;
    r.device = "cpu";
    r.cfg_scale = "0";
    SynthesizeRun.Result plain = SynthesizeRun.run(r, Env.files());
    r.cfg_scale = "2";
    SynthesizeRun.Result guided = SynthesizeRun.run(r, Env.files());
    assertEquals("2", guided.provenance.get("cfg_scale"));
    assertEquals("2.0", guided.provenance.get("cfg_scale.used"));
    r.cfg_scale = "auto";
    assertEquals(String.valueOf(SynthesizeRun.CFG_AUTO), SynthesizeRun.run(r, Env.files()).provenance.get(
        "cfg_scale.used"));
    assertFalse(java.util.Arrays.equals(plain.modelSpace[0], guided.modelSpace[0]));
  }

  @Test
  void classifierFreeGuidanceNeedsAModelWithANoClassLabel() {
    SynthesizeRun.Request r = request();
    assertEquals("0.0", SynthesizeRun.run(r, Env.files()).provenance.get("cfg_scale.used")); // auto: no guidance
    r.cfg_scale = "1.5";
    String msg = assertThrows(org.diffxai.core.UserException.class, () -> SynthesizeRun.run(r, Env.files()))
        .getMessage();
    assertEquals("cfg_scale=1.5 needs a class-conditional model trained with label dropout (its model.json declares "
        + "training.unconditional_label; Train Denoiser with label_dropout=0.1 makes one, and the bundled sample is "
        + "one). Set cfg_scale=0 or auto for this model.", msg);
    r.cfg_scale = "strong";
    assertEquals("cfg_scale=strong is not a number. Give a number >= 0 (e.g. cfg_scale=3), 0 for no classifier-free"
        + " guidance, or auto.", assertThrows(org.diffxai.core.UserException.class,
            () -> SynthesizeRun.run(r, Env.files())).getMessage());
    r.cfg_scale = "-1";
    assertTrue(assertThrows(org.diffxai.core.UserException.class, () -> SynthesizeRun.run(r, Env.files()))
        .getMessage().startsWith("cfg_scale=-1.0 must be a number >= 0"));
  }
}
