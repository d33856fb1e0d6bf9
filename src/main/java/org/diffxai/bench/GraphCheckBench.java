package org.diffxai.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Locale;
import org.diffxai.model.DenoiserBundle;
import org.diffxai.model.DjlDenoiser;
import org.diffxai.model.ModelTrust;
import org.diffxai.model.TensorFlowRuntime;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * What the trust check ({@link ModelTrust}: parse saved_model.pb, check every node and function) costs next to loading
 * the model: for the bundled sample denoiser and for a generated denoiser whose saved_model.pb is about 3 MB (a chain
 * of 60,000 small ops, far more nodes than the sample's 1,300), the fastest of 10 checks (the first, cold one is
 * printed too: it initialises the protobuf classes that TensorFlow Java's loader needs anyway) and of 2 full loads
 * ({@link DjlDenoiser#load}, which includes the check), in one run. Run with
 * {@code java -cp ... org.diffxai.bench.GraphCheckBench [work dir]}.
 */
public final class GraphCheckBench {
  private GraphCheckBench() {}

  public static void main(String[] args) throws IOException {
    Path work = Files.createTempDirectory(args.length > 0 ? Paths.get(args[0]) : Paths.get(System.getProperty(
        "java.io.tmpdir")), "graph-check-bench");
    TensorFlowRuntime.ensureLoaded();
    report("sample", DenoiserBundle.open("sample").directory());
    report("generated", big(work.resolve("big"), 30000));
  }

  private static void report(String what, Path dir) throws IOException {
    long bytes = Files.size(dir.resolve(DenoiserBundle.SAVED_MODEL));
    double[] check = new double[10];
    double[] load = new double[2];
    for (int i = 0; i < check.length; i++) {
      long t0 = System.nanoTime();
      if (!ModelTrust.scan(dir).isEmpty()) throw new IllegalStateException(what + " does not pass the check");
      check[i] = (System.nanoTime() - t0) / 1e6;
    }
    for (int i = 0; i < load.length; i++) {
      long t0 = System.nanoTime();
      DjlDenoiser.load(DenoiserBundle.open(dir), "cpu").close();
      load[i] = (System.nanoTime() - t0) / 1e6;
    }
    System.out.println(String.format(Locale.ROOT, "[graph-check] %s: saved_model.pb %d bytes; check %.1f ms (first "
        + "%.1f ms), load %.1f ms (fastest each); check / load = %.4f", what, bytes, min(check), check[0], min(load),
        min(check) / min(load)));
  }

  private static double min(double[] v) {
    return Arrays.stream(v).min().getAsDouble();
  }

  /** A denoiser bundle computing x + Σ c_i through {@code links} Add nodes (and as many constants). */
  private static Path big(Path dir, int links) throws IOException {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 8,
          1)));
      Placeholder<TFloat32> t = tf.withName("t").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat32> out = x;
      for (int i = 0; i < links; i++) out = tf.math.add(out, tf.constant(1e-6f * i));
      out = tf.withName("out").identity(out);
      Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", x).input("t", t)
          .output("output_0", out).build();
      SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, s)).export();
    }
    Files.write(dir.resolve(DenoiserBundle.SCHEDULER_CONFIG), ("{\"num_train_timesteps\": 1000, \"beta_schedule\": "
        + "\"linear\", \"prediction_type\": \"epsilon\"}").getBytes(StandardCharsets.UTF_8));
    return dir;
  }
}
