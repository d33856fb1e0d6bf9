package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.diffxai.core.DdimScheduler;
import org.diffxai.core.Denoiser;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.core.StepOutput;
import org.diffxai.core.UserException;
import org.diffxai.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample UNet's weights in PyTorch, exported to ONNX and TorchScript by Debian's python3-torch at test time
 * ({@link TorchFixtures}), run through the bundle contract: every call and every step of a DDIM loop must equal what
 * PyTorch itself computed within 1e-5, and the ONNX bundle must compute the function of the TensorFlow sample bundle.
 */
class EngineDenoiserTest {
  static final double TOLERANCE = 1e-5;

  @TempDir Path tmp;

  static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  }

  private static float[] perCall(Denoiser d, Path ref) {
    float[] x = Npy.read(ref.resolve("x_call.npy")).floats();
    float[] t = Npy.read(ref.resolve("t_call.npy")).floats();
    int[] label = Npy.read(ref.resolve("label_call.npy")).ints();
    return d.predict(x, t, label, null, 3);
  }

  @Test
  void onnxAndTorchScriptEqualPyTorchPerCall() {
    Path u = TorchFixtures.unet();
    float[] want = Npy.read(u.resolve("reference/eps.npy")).floats();
    for (String f : new String[] {"onnx", "torchscript"}) {
      try (Denoiser d = Models.denoiser(DenoiserBundle.open(u.resolve(f)), "cpu", null)) {
        assertTrue(d instanceof EngineDenoiser, d.toString());
        double diff = maxAbsDiff(perCall(d, u.resolve("reference")), want);
        System.out.println(f + " vs PyTorch, per call: max |diff| = " + diff);
        assertTrue(diff <= TOLERANCE, f + ": " + diff);
      }
    }
  }

  /**
   * Every DDIM step from PyTorch's own x_t (so each step is compared, not the float32 drift of those before it) equals
   * PyTorch's step within 1e-5; the free-running loop, which accumulates the rounding of every step, within 1e-4.
   */
  @Test
  void ddimLoopEqualsPyTorchAtEveryStep() throws Exception {
    Path u = TorchFixtures.unet();
    Path ref = u.resolve("reference");
    float[] steps = Npy.read(ref.resolve("ddim_steps.npy")).floats();
    float[] xT = Npy.read(ref.resolve("ddim_xT.npy")).floats();
    int[] label = Npy.read(ref.resolve("ddim_label.npy")).ints();
    int n = 2 * 64 * 64;
    for (String f : new String[] {"onnx", "torchscript"}) {
      DenoiserBundle b = DenoiserBundle.open(u.resolve(f));
      DdimScheduler s = new DdimScheduler(SchedulerConfig.fromJson(b.schedulerConfigJson()));
      s.setTimesteps(TorchFixtures.DDIM_STEPS);
      int[] ts = s.timesteps();
      assertEquals(TorchFixtures.DDIM_STEPS, ts.length);
      double worstStep = 0;
      double worstLoop = 0;
      try (Denoiser d = Models.denoiser(b, "cpu", null)) {
        StepOutput out = new StepOutput(n);
        float[] free = xT.clone();
        for (int i = 0; i < ts.length; i++) {
          float[] want = Arrays.copyOfRange(steps, i * n, (i + 1) * n);
          float[] from = i == 0 ? xT : Arrays.copyOfRange(steps, (i - 1) * n, i * n);
          s.step(d.predict(from, new float[] {ts[i], ts[i]}, label, null, 2), ts[i], from, null, out);
          double step = maxAbsDiff(out.prevSample, want);
          worstStep = Math.max(worstStep, step);
          assertTrue(step <= TOLERANCE, f + " step " + (i + 1) + " (t=" + ts[i] + "): " + step);
          s.step(d.predict(free, new float[] {ts[i], ts[i]}, label, null, 2), ts[i], free, null, out);
          free = out.prevSample.clone();
          worstLoop = Math.max(worstLoop, maxAbsDiff(free, want));
        }
      }
      System.out.println(f + " vs PyTorch, DDIM " + ts.length + " steps: max |diff| per step " + worstStep
          + ", free-running loop " + worstLoop);
      assertTrue(worstLoop <= 1e-4, f + " loop: " + worstLoop);
    }
  }

  @Test
  void onnxBundleComputesTheTensorFlowSampleFunction() {
    Path u = TorchFixtures.unet();
    float[] tf;
    try (Denoiser d = Models.denoiser(DenoiserBundle.open("sample"), "cpu", null)) {
      tf = perCall(d, u.resolve("reference"));
    }
    try (Denoiser d = Models.denoiser(DenoiserBundle.open(u.resolve("onnx")), "cpu", null)) {
      double diff = maxAbsDiff(perCall(d, u.resolve("reference")), tf);
      System.out.println("ONNX vs TensorFlow (same weights), per call: max |diff| = " + diff);
      assertTrue(diff <= 1e-4, "" + diff);
    }
  }

  @Test
  void provenanceRecordsTheEngineAndItsVersion() {
    Path u = TorchFixtures.unet();
    try (EngineDenoiser d = (EngineDenoiser) Models.denoiser(DenoiserBundle.open(u.resolve("onnx")), "auto", null)) {
      Map<String, String> p = Models.provenance(d);
      assertEquals("onnx", p.get("model.format"));
      assertEquals("DJL OnnxRuntime", p.get("engine"));
      assertEquals("1.20.0", p.get("engine.version"));
      assertEquals("NCHW", p.get("model.layout"));
      assertEquals("cpu", p.get("device"));
    }
    try (EngineDenoiser d = (EngineDenoiser) Models.denoiser(DenoiserBundle.open(u.resolve("torchscript")), "cpu",
        null)) {
      Map<String, String> p = Models.provenance(d);
      assertEquals("DJL PyTorch", p.get("engine"));
      assertEquals("2.7.1", p.get("engine.version"));
    }
  }

  @Test
  void twoModelFilesAreOneClearMessage() throws Exception {
    Path b = TestBundles.copy(TorchFixtures.unet().resolve("onnx"), tmp.resolve("two"));
    Files.copy(TorchFixtures.unet().resolve("torchscript/model.pt"), b.resolve("model.pt"));
    UserException e = assertThrows(UserException.class, () -> DenoiserBundle.open(b));
    assertEquals("Model directory " + b + " holds 2 models: model.onnx (ONNX model) and model.pt (TorchScript model). "
        + "A bundle holds exactly one model, so the engine to run is unambiguous: keep one of these files and move the "
        + "other into a bundle of its own.", e.getMessage());
  }

  @Test
  void onnxInputsOutsideTheContractAreNamed() throws Exception {
    Path b = TestBundles.copy(TorchFixtures.renamedInputs(), tmp.resolve("renamed"));
    Files.copy(TorchFixtures.unet().resolve("onnx/scheduler_config.json"), b.resolve("scheduler_config.json"));
    UserException e = assertThrows(UserException.class, () -> Models.denoiser(DenoiserBundle.open(b), "cpu", null));
    assertTrue(e.getMessage().startsWith("Model renamed has an input 'image' that is not part of the bundle contract "
        + "(x, t, optional label, optional condition)."), e.getMessage());
  }

  @Test
  void torchScriptFromANewerPyTorchIsOneClearMessage() throws Exception {
    Path b = TestBundles.copy(TorchFixtures.unet().resolve("torchscript"), tmp.resolve("newer"));
    Files.delete(b.resolve("model.json")); // no checksums: the test changes model.pt on purpose
    Files.write(b.resolve("model.json"), ("{\"sample_size\": [64, 64], \"channels\": 1, \"class_names\": [\"healthy\", "
        + "\"lesion\"]}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    Path pt = b.resolve("model.pt");
    Files.copy(TorchFixtures.newerTorchScript(), pt, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    UserException e = assertThrows(UserException.class, () -> Models.denoiser(DenoiserBundle.open(b), "cpu", null));
    assertTrue(e.getMessage().startsWith("TorchScript model newer (" + pt + ") was saved by a newer PyTorch than this "
        + "plugin's PyTorch engine (libtorch 2.7.1) can read:"), e.getMessage());
    assertTrue(e.getMessage().contains("version 99"), e.getMessage());
  }
}
