package org.diffxai.model;

import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.UserException;

/**
 * Opens bundles through {@link Models} in another JVM (the real ImageJ application, or a JVM whose class path lacks an
 * engine's jars) and reports what happened, one line each: {@code OK <bundle> engine=... version=... sum=...} with the
 * sum of the outputs on a fixed input, or {@code USER_ERROR <bundle> <message>}.
 */
public final class EngineProbe {
  private EngineProbe() {}

  /** Probes "denoiser:DIR" and "classifier:DIR" arguments. */
  public static List<String> probe(String... specs) {
    List<String> out = new ArrayList<>();
    for (String spec : specs) {
      String kind = spec.substring(0, spec.indexOf(':'));
      String dir = spec.substring(spec.indexOf(':') + 1);
      try {
        if (kind.equals("denoiser")) {
          try (Denoiser d = Models.denoiser(DenoiserBundle.open(Paths.get(dir)), "cpu", null)) {
            int n = 2;
            float[] x = new float[n * d.height() * d.width() * d.channels()];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.01);
            float[] y = d.predict(x, new float[] {500f, 100f}, d.classConditional() ? new int[] {0, 1} : null, null, n);
            out.add(line(dir, Models.provenance(d), sum(y)));
          }
        } else {
          try (Classifier c = Models.classifier(ClassifierBundle.open(Paths.get(dir)), "cpu")) {
            float[] x = new float[c.height() * c.width() * c.channels()];
            for (int i = 0; i < x.length; i++) x[i] = (float) (0.5 + 0.5 * Math.sin(i * 0.01));
            float[] lg = c.logits(x, 1)[0];
            out.add(line(dir, Models.provenance(c), sum(lg)));
          }
        }
      } catch (UserException e) {
        out.add("USER_ERROR " + dir + " " + e.getMessage());
      }
    }
    return out;
  }

  private static double sum(float[] v) {
    double s = 0;
    for (float f : v) s += f;
    return s;
  }

  private static String line(String dir, Map<String, String> p, double sum) {
    return "OK " + dir + " engine=" + p.get("engine") + " version=" + p.get("engine.version") + " sum=" + sum;
  }

  public static void main(String[] args) {
    for (String l : probe(args)) System.out.println(l);
  }
}
