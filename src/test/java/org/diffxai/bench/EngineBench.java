package org.diffxai.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.Denoiser;
import org.diffxai.core.Seeds;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.Models;
import org.diffxai.model.TorchFixtures;

/**
 * UNet throughput of each engine, measured in one run: the bundled sample model (TensorFlow SavedModel, 64x64, base 16,
 * 636k parameters) beside the same weights exported from PyTorch to ONNX (ONNX Runtime) and TorchScript (PyTorch),
 * at batch 1 and 8, all timed interleaved (repeat after repeat, rotating the order) so a change in machine load affects
 * them alike; the best repeat is reported, the median in the notes. Needs Debian's python3-torch for the exports
 * (made by {@link TorchFixtures}, as in the tests).
 *
 * <pre>
 * mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) org.diffxai.bench.EngineBench [--repeats 5] [--seconds 2]
 * </pre>
 */
public final class EngineBench {
  private EngineBench() {}

  public static void main(String[] args) throws Exception {
    int repeats = 5;
    double seconds = 2.0;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--repeats")) repeats = Integer.parseInt(args[++i]);
      if (args[i].equals("--seconds")) seconds = Double.parseDouble(args[++i]);
    }
    Path u = TorchFixtures.unet();
    Map<String, Denoiser> engines = new LinkedHashMap<>();
    engines.put("TensorFlow (SavedModel)", Models.denoiser(DenoiserBundle.open("sample"), "cpu", null));
    engines.put("ONNX Runtime (model.onnx)", Models.denoiser(DenoiserBundle.open(u.resolve("onnx")), "cpu", null));
    engines.put("PyTorch (model.pt)", Models.denoiser(DenoiserBundle.open(u.resolve("torchscript")), "cpu", null));
    int[] batches = {1, 8};
    MachineLoad load = new MachineLoad();
    List<Timing.Case> cases = new ArrayList<>();
    double worstDiff = 0;
    for (int b : batches) {
      int n = b;
      float[] x = Seeds.gaussian(1, "engine-bench", b).fill(new float[n * 64 * 64]);
      float[] t = new float[n];
      int[] label = new int[n];
      for (int i = 0; i < n; i++) {
        t[i] = 999 - 100 * (i % 10);
        label[i] = i % 2;
      }
      float[] first = null;
      for (Map.Entry<String, Denoiser> e : engines.entrySet()) {
        Denoiser d = e.getValue();
        float[] y = d.predict(x, t, label, null, n); // warm-up, and the outputs must agree
        if (first == null) {
          first = y;
        } else {
          for (int i = 0; i < y.length; i++) worstDiff = Math.max(worstDiff, Math.abs(y[i] - first[i]));
        }
        for (int w = 0; w < 2; w++) d.predict(x, t, label, null, n);
        cases.add(new Timing.Case(e.getKey() + "|" + b, 0, () -> d.predict(x, t, label, null, n)));
      }
    }
    Map<String, Timing> times = Timing.interleaved(repeats, seconds, 500, cases);
    double other = load.otherFraction();
    System.out.printf(Locale.ROOT, "Machine: %d cores, %s; other processes used %.0f %% of the CPU time during the "
        + "run%s%n%n", Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"), 100 * other,
        other > 0.1 ? ". The machine was busy with other work: timings are not representative." : "");
    System.out.println("| Engine | Batch | ms per call (best) | images/s | speed vs TensorFlow | ms per call (median) |");
    System.out.println("|---|---|---|---|---|---|");
    for (int b : batches) {
      double tf = times.get("TensorFlow (SavedModel)|" + b).best();
      for (String name : engines.keySet()) {
        Timing tm = times.get(name + "|" + b);
        System.out.printf(Locale.ROOT, "| %s | %d | %.2f | %.1f | %.2f | %.2f |%n", name, b, 1000 * tm.best(),
            b / tm.best(), tf / tm.best(), 1000 * tm.median());
      }
    }
    System.out.printf(Locale.ROOT, "%nLargest |difference| between the engines' outputs: %.2g (same weights)%n",
        worstDiff);
    for (Denoiser d : engines.values()) d.close();
  }
}
