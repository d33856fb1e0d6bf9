package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.io.ImageReaders;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.model.TestBundles;
import org.diffxai.model.TestClassifiers;
import org.diffxai.tf.TinyPrototypeBundles;
import org.diffxai.trajectory.Trajectory;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.io.ImagePlusPlanes;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.model.TensorFlowRuntime.DeviceChoice;
import org.diffxai.run.Env;
import org.diffxai.run.ExplainTrajectoryRun;
import org.diffxai.run.OutputFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Explain Trajectory end to end through the command line: a trajectory written by Synthesize (a 32×32 test denoiser),
 * explained by a tiny PPNet; the numbers are checked against the network called directly on the trajectory's x0_pred
 * planes, the heatmaps against the trajectory with tifffile; the decision step on synthetic sequences; bad input.
 */
class ExplainTrajectoryTest {
  static final String LABEL = "Explain Trajectory";
  @TempDir static Path dir;
  static Path synth;
  static Path ppnet;

  @BeforeAll
  static void trajectory() {
    Path denoiser = TestBundles.spec().size(32, 32).classes("healthy", "lesion").write(dir.resolve("denoiser"));
    synth = dir.resolve("synth");
    CliTest.Out r = CliTest.inProcess("Synthesize", "model=[" + denoiser + "] samples=3 steps=7 keep_every=2 seed=4"
        + " device=cpu output=[" + synth + "]");
    assertEquals(0, r.code, r.toString());
    ppnet = TinyPrototypeBundles.train(dir, "PPNet");
  }

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

  @Test
  void decisionStepIsTheFirstFromWhichTheFinalClassStays() {
    assertEquals(0, ExplainTrajectoryRun.decisionIndex(new int[] {1}));
    assertEquals(0, ExplainTrajectoryRun.decisionIndex(new int[] {1, 1, 1}));
    assertEquals(2, ExplainTrajectoryRun.decisionIndex(new int[] {0, 0, 1, 1}));
    assertEquals(2, ExplainTrajectoryRun.decisionIndex(new int[] {1, 0, 1}), "an early visit does not count");
    assertEquals(5, ExplainTrajectoryRun.decisionIndex(new int[] {0, 0, 1, 1, 1, 0}), "a late flip decides last");
    assertEquals(3, ExplainTrajectoryRun.decisionIndex(new int[] {2, 0, 1, 2, 2}));
    // steps flagged out of distribution are undecided; a flagged last step leaves the sample undecided
    boolean f = false, t = true;
    assertEquals(2, ExplainTrajectoryRun.decisionIndex(new int[] {1, 1, 1, 1}, new boolean[] {t, t, f, f}));
    assertEquals(3, ExplainTrajectoryRun.decisionIndex(new int[] {1, 1, 1, 1}, new boolean[] {f, f, t, f}));
    assertEquals(4, ExplainTrajectoryRun.decisionIndex(new int[] {1, 1, 1, 1}, new boolean[] {f, f, f, t}));
  }

  @Test
  void explainsEveryKeptStepOfEverySample() throws Exception {
    Path out = dir.resolve("all");
    CliTest.Out r = CliTest.inProcess(LABEL, "trajectory=[" + synth.resolve("trajectory.tif") + "] model=[" + ppnet
        + "] top=2 device=cpu output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    try (Stream<Path> s = Files.list(out)) {
      assertEquals(List.of(OutputFolder.MANIFEST, "explain_trajectory.csv", "explain_trajectory.json",
          "explain_trajectory_sample_1.png",
          "explain_trajectory_sample_2.png", "explain_trajectory_sample_3.png", "heatmaps.ome.tif", "heatmaps.tif"),
          s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
    }
    ImagePlus traj = ImageReaders.open(synth.resolve("trajectory.tif"));
    Trajectory tr = Trajectory.of(new ImagePlusPlanes(traj, "trajectory.tif"));
    int kk = tr.steps().size(); // steps 0, 2, 4, 6 (the last)
    assertEquals(4, kk);
    List<Map<String, String>> rows = csv(out.resolve("explain_trajectory.csv"));
    assertEquals(3 * kk, rows.size());
    int x0 = tr.channel(Trajectory.X0_PRED, 0);
    try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(ppnet), "cpu")) {
      for (int s = 0; s < 3; s++) {
        float[][] planes = new float[kk][];
        for (int k = 0; k < kk; k++) {
          planes[k] = (float[]) traj.getStack().getProcessor(tr.planeIndex(x0, s, k) + 1).getPixels();
        }
        float[] x = new float[kk * 32 * 32];
        for (int k = 0; k < kk; k++) System.arraycopy(planes[k], 0, x, k * 1024, 1024);
        PrototypeActivations a = c.activations(x, kk);
        float[][] w = c.lastLayer();
        int finalClass = argmax(a.logits[kk - 1]);
        // the followed prototypes: the two largest contributions to the final class on the final x0_pred
        Integer[] order = new Integer[c.prototypes()];
        for (int p = 0; p < order.length; p++) order[p] = p;
        float[] sc = a.scores[kk - 1];
        Arrays.sort(order, (u, v) -> Double.compare((double) sc[v] * w[finalClass][v], (double) sc[u]
            * w[finalClass][u]));
        int[] predicted = new int[kk];
        for (int k = 0; k < kk; k++) {
          Map<String, String> row = rows.get(s * kk + k);
          predicted[k] = argmax(a.logits[k]);
          assertEquals(Integer.toString(s + 1), row.get("sample"));
          assertEquals(Integer.toString(tr.steps().get(k).stepIndex + 1), row.get("step"));
          assertEquals(Integer.toString(tr.steps().get(k).timestep), row.get("t"));
          assertEquals(c.classNames().get(predicted[k]), row.get("predicted"));
          assertEquals(c.classNames().get(finalClass), row.get("target"));
          // 1e-4: TensorFlow (oneDNN) may pick other kernels for another batch size, which moves the last float digits
          // the calibrated probability softmax(logits / T) of the bundle's temperature (docs/confidence.md)
          assertEquals(a.probabilities[k][finalClass], Double.parseDouble(row.get("probability")), 1e-4);
          for (int j = 0; j < 2; j++) {
            assertEquals(Integer.toString(order[j]), row.get("top" + (j + 1) + "_prototype"));
            assertEquals(a.scores[k][order[j]], Double.parseDouble(row.get("top" + (j + 1) + "_similarity")), 1e-4);
          }
        }
        int d = ExplainTrajectoryRun.decisionIndex(predicted, a.ood);
        for (int k = 0; k < kk; k++) {
          Map<String, String> row = rows.get(s * kk + k);
          assertEquals(a.ood[k] ? "1" : "0", row.get("ood"));
          assertEquals(d == kk ? ExplainTrajectoryRun.UNDECIDED : Integer.toString(tr.steps().get(d).stepIndex + 1),
              row.get("decision_step"));
          assertEquals(k >= d ? "1" : "0", row.get("decided"));
        }
      }
    }
    // heatmaps.tif: frames = kept steps, slices = samples, channels x0_pred, contribution, top1, top2; channel 1 is the
    // trajectory's x0_pred bit for bit. tifffile reads both files independently.
    String shapes = ExampleMacrosTest.python("import tifffile,sys,numpy as np\n"
        + "h = tifffile.imread(sys.argv[1]); o = tifffile.imread(sys.argv[2]); t = tifffile.imread(sys.argv[3])\n"
        + "print(h.shape, o.shape, h.dtype)\n"
        + "print(np.array_equal(h[:, :, 0], t[:, :, 1]), np.array_equal(h, o.reshape(h.shape)))",
        out.resolve("heatmaps.tif").toString(), out.resolve("heatmaps.ome.tif").toString(),
        synth.resolve("trajectory.tif").toString());
    assertEquals("(4, 3, 4, 32, 32) (4, 3, 4, 32, 32) float32\nTrue True", shapes);
    Trajectory heat = Trajectory.of(new ImagePlusPlanes(ImageReaders.openVirtual(out.resolve("heatmaps.ome.tif")),
        "heatmaps.ome.tif"));
    assertEquals(List.of("x0_pred", "contribution", "top1", "top2"), heat.kinds());
    assertEquals(tr.steps().get(1).timestep, heat.steps().get(1).timestep);
    assertTrue(Files.readString(out.resolve("explain_trajectory.json")).contains("\"trajectory.sampler\": \"DDIM\""));
  }

  @Test
  void oneSampleOfAnOmeTiffAndAFixedTarget() throws Exception {
    CliTest.Out r = CliTest.inProcess(LABEL, "trajectory=[" + synth.resolve("trajectory.ome.tif") + "] model=["
        + ppnet + "] sample=2 target=lesion top=1 device=cpu output=[" + dir.resolve("one") + "]");
    assertEquals(0, r.code, r.toString());
    List<Map<String, String>> rows = csv(dir.resolve("one/explain_trajectory.csv"));
    assertEquals(4, rows.size());
    for (Map<String, String> row : rows) {
      assertEquals("2", row.get("sample"));
      assertEquals("lesion", row.get("target"));
    }
    assertTrue(Files.exists(dir.resolve("one/explain_trajectory_sample_2.png")));
  }

  /** map=ig: the same steps explained with Integrated Gradients maps (signed), recorded in the run's record. */
  @Test
  void theMapKeyChoosesGradientMaps() throws Exception {
    Path out = dir.resolve("ig");
    CliTest.Out r = CliTest.inProcess(LABEL, "trajectory=[" + synth.resolve("trajectory.ome.tif") + "] model=["
        + ppnet + "] sample=1 top=1 map=ig device=cpu output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    com.google.gson.JsonObject json = com.google.gson.JsonParser.parseString(
        Files.readString(out.resolve("explain_trajectory.json"))).getAsJsonObject();
    assertEquals("ig", json.get("map").getAsString());
    assertTrue(json.get("prototype_map").getAsString().contains("Integrated Gradients"), json.toString());
    // 4 kept steps x 1 sample x (x0_pred, contribution, top1); the top-1 prototype's IG map is signed
    String min = ExampleMacrosTest.python("import tifffile,sys; a=tifffile.imread(sys.argv[1]).reshape(4, 1, 3, 32, 32);"
        + " print(float(a[:, :, 2].min()) < 0 < float(a[:, :, 2].max()))", out.resolve("heatmaps.tif").toString());
    assertEquals("True", min);
  }

  static int argmax(float[] v) {
    int b = 0;
    for (int i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
    return b;
  }

  static void assertUserError(String options, String... parts) throws Exception {
    Path out = dir.resolve("bad-" + Math.abs(options.hashCode()));
    CliTest.Out r = CliTest.inProcess(LABEL, options + " device=cpu output=[" + out + "]");
    assertEquals(1, r.code, r.toString());
    List<String> errors = r.err.lines().filter(l -> l.startsWith("Error: ")).collect(Collectors.toList());
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
  void badInputs() throws Exception {
    String traj = "trajectory=[" + synth.resolve("trajectory.tif") + "]";
    assertUserError("trajectory=[" + synth.resolve("samples.tif") + "] model=[" + ppnet + "]", "is not a trajectory",
        "keep_every");
    assertUserError(traj + " model=[" + ppnet + "] sample=4", "sample=4", "3 sample(s)");
    assertUserError(traj + " model=[" + ppnet + "] top=9", "top=9", "4 prototypes");
    assertUserError(traj + " model=[" + ppnet + "] target=tumour", "target=tumour", "healthy, lesion");
    Path linear = TestClassifiers.writeLinear(dir.resolve("linear"), new float[2][32 * 32], 32, 32);
    assertUserError(traj + " model=[" + linear + "]", "not a prototype network");
    assertUserError("trajectory=[" + dir.resolve("missing.tif") + "] model=[" + ppnet + "]", "missing.tif");
    ImageStack st = new ImageStack(48, 32);
    st.addSlice(new FloatProcessor(48, 32));
    Path wide = dir.resolve("wide.tif");
    new FileSaver(new ImagePlus("wide", st)).saveAsTiff(wide.toString());
    assertUserError("trajectory=[" + wide + "] model=[" + ppnet + "]", "is not a trajectory");
  }

  @Test
  void cancellingLeavesNoFile() throws Exception {
    Path out = dir.resolve("cancelled");
    ExplainTrajectoryRun.Request req = new ExplainTrajectoryRun.Request();
    req.trajectory = synth.resolve("trajectory.tif").toString();
    req.output = out.toString();
    Files.createDirectories(out);
    int[] reports = {0};
    Progress cancelAtThirdStep = new Progress() {
      @Override
      public void report(String message, double fraction) {
        reports[0]++;
      }

      @Override
      public boolean isCancelled() {
        return reports[0] >= 3;
      }
    };
    try (LoadedModel<PrototypeClassifier> c = Models.prototypes(ppnet.toString(), DeviceChoice.CPU, 32, false,
        Progress.NONE)) {
      assertThrows(CancelledException.class, () -> ExplainTrajectoryRun.run(req, c, Env.files(cancelAtThirdStep)));
    }
    try (Stream<Path> s = Files.list(out)) {
      assertEquals(List.of(), s.collect(Collectors.toList()), "no file, no temporary file");
    }
  }

  @Test
  void heatmapsAreATrajectoryForTheTrajectoryCommands() throws Exception {
    Path out = dir.resolve("heat");
    assertEquals(0, CliTest.inProcess(LABEL, "trajectory=[" + synth.resolve("trajectory.tif") + "] model=[" + ppnet
        + "] sample=1 top=1 device=cpu output=[" + out + "]").code);
    CliTest.Out p = CliTest.inProcess("Trajectory Profile", "image=[" + out.resolve("heatmaps.tif") + "] output=["
        + out.resolve("profile") + "]");
    assertEquals(0, p.code, p.toString());
    assertEquals(1 + 4, Files.readAllLines(out.resolve("profile/trajectory_profile.csv")).size());
    CliTest.Out e = CliTest.inProcess("Export Trajectory", "image=[" + out.resolve("heatmaps.tif") + "] output=["
        + out.resolve("exported.ome.tif") + "]");
    assertEquals(0, e.code, e.toString());
    assertEquals(List.of("x0_pred", "contribution", "top1"),
        Trajectory.of(new ImagePlusPlanes(ImageReaders.openVirtual(out.resolve("exported.ome.tif")), "exported"))
            .kinds());
  }

  @Test
  void aLargerTrajectoryIsExplainedInItsOwnPixels() throws Exception {
    Path denoiser = TestBundles.spec().size(64, 64).classes("healthy", "lesion").write(dir.resolve("denoiser64"));
    Path s64 = dir.resolve("synth64");
    assertEquals(0, CliTest.inProcess("Synthesize", "model=[" + denoiser + "] samples=1 steps=3 keep_every=1"
        + " device=cpu output=[" + s64 + "]").code);
    Path out = dir.resolve("big");
    CliTest.Out r = CliTest.inProcess(LABEL, "trajectory=[" + s64.resolve("trajectory.tif") + "] model=[" + ppnet
        + "] device=cpu output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    String shape = ExampleMacrosTest.python("import tifffile,sys; print(tifffile.imread(sys.argv[1]).shape)",
        out.resolve("heatmaps.tif").toString());
    assertEquals("(3, 5, 64, 64)", shape); // 3 kept steps, 1 sample, x0_pred + contribution + top 3
  }
}
