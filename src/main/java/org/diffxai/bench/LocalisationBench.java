package org.diffxai.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.diffxai.attribution.AttributionSettings;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.Progress;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.FloatStack;
import org.diffxai.metrics.Bootstrap;
import org.diffxai.metrics.FaithfulnessScoring;
import org.diffxai.metrics.Localisation;
import org.diffxai.metrics.PrototypeAttribution;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;

/**
 * How well the prototype networks' own maps localise the lesion (issue 10, ground truth), per network and map kind
 * ({@code map=upsample|gradient|smoothgrad|ig}): on {@code n} unseen lesion phantoms (64×64, T1, seed {@link #SEED},
 * slice i = {@code PhantomGenerator.generate(SEED, i, true)}, as {@code Generate Phantoms seed=777} writes them; the
 * sample networks were trained on seed 2000) the network's attribution map ({@link PrototypeAttribution} over all
 * prototypes, each image's predicted class) is computed exactly as Faithfulness Score with
 * {@code attribution=prototypes map=<kind> masks=auto} computes it (one image per explanation, the command's default
 * map settings, seed 0) and scored against the lesion mask ({@link Localisation}: pointing game with Zhang et al.'s
 * tolerance scaled to 4.3 px and with none, relevance mass and its ratio to the mask's area fraction, relevance rank,
 * ROC AUC), means with the command's percentile-bootstrap 95 % intervals ({@link FaithfulnessScoring#BOOTSTRAP_RESAMPLES}
 * resamples, seed 0 + column). Target of issue 10: pointing game ≥ 0.9 and relevance mass ≥ 3 × area fraction for the
 * default map of at least one method. Box placement (border, outside the anatomy) is in {@link PrototypeNetworkReport}.
 *
 * <p>Run: {@code java -cp target/diffusion-xai.jar org.diffxai.bench.LocalisationBench [n] [models...]} (defaults 24
 * and the three sample networks; CPU).
 */
public final class LocalisationBench {

  /** Seed of the unseen phantoms (the README's unseen-phantom accuracy uses the same). */
  public static final long SEED = 777;
  /** Faithfulness Score's default seed: map settings and bootstrap. */
  static final long COMMAND_SEED = 0;
  static final PrototypeMapKind DEFAULT = PrototypeMapKind.of(PrototypeMapKind.KEY_DEFAULT);

  private LocalisationBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 24;
    List<String> models = args.length > 1 ? Arrays.asList(Arrays.copyOfRange(args, 1, args.length))
        : Arrays.asList("sample-ppnet", "sample-eppnet", "sample-protopool");
    run(models, n, Arrays.asList(PrototypeMapKind.values()), System.out);
  }

  /** Measures every model and map kind on n lesion phantoms and prints one Markdown table to {@code out}. */
  public static void run(List<String> models, int n, List<PrototypeMapKind> kinds, PrintStream out) {
    PhantomGenerator g = new PhantomGenerator(64, 64, Contrast.T1);
    List<Phantom> lesion = new ArrayList<>();
    for (int i = 0; i < n; i++) lesion.add(g.generate(SEED, i, true));
    double[] area = new double[n];
    for (int i = 0; i < n; i++) area[i] = count(lesion.get(i).lesionPixels) / (64.0 * 64);
    out.printf(Locale.ROOT, "%d unseen lesion phantoms (64x64, T1, seed %d): lesion mask area fraction %s "
        + "(min %.4f, max %.4f); default map kind %s%n%n", n, SEED, ci(area, 0), min(area), max(area),
        DEFAULT.key());
    out.println("| model | map | predicted lesion | pointing game (4.3 px) | pointing game (0 px) | random map (4.3 px) "
        + "| relevance mass | × area fraction | relevance rank | AUC | seconds |");
    out.println("|---|---|---|---|---|---|---|---|---|---|---|");
    AttributionSettings settings = new AttributionSettings();
    settings.seed = COMMAND_SEED;
    for (String key : models) {
      try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(key), "cpu")) {
        int lesionClass = c.classNames().indexOf("lesion");
        int[] target = new int[n];
        int predictedLesion = 0;
        for (int i = 0; i < n; i++) {
          float[] lg = c.logits(lesion.get(i).pixels, 1)[0];
          for (int k = 1; k < lg.length; k++) if (lg[k] > lg[target[i]]) target[i] = k;
          predictedLesion += target[i] == lesionClass ? 1 : 0;
        }
        for (PrototypeMapKind kind : kinds) {
          long t0 = System.nanoTime();
          PrototypeExplainer ex = new PrototypeExplainer(c, key).mapKind(kind, settings);
          double[][] v = new double[7][n];
          for (int i = 0; i < n; i++) { // one image per explanation, as Faithfulness Score explains them
            Phantom p = lesion.get(i);
            FloatStack one = new FloatStack(64, 64, 1, 1, 1, new float[][] {p.pixels}, null);
            Explanation e = ex.explain(one, c.prototypes(), target[i], 1, "lesion", Progress.NONE).get(0);
            float[] map = PrototypeAttribution.map(e, 64, 64);
            Localisation.Result r = Localisation.evaluate(map, p.lesionPixels, 64, 64);
            v[0][i] = r.pointingGame;
            v[1][i] = r.relevanceMass;
            v[2][i] = r.relevanceMassRatio();
            v[3][i] = r.relevanceRank;
            v[4][i] = r.auc;
            v[5][i] = Localisation.pointingGame(map, p.lesionPixels, 64, 64, Localisation.Sign.POSITIVE, 0);
            v[6][i] = r.pointingGameRandom;
          }
          double seconds = (System.nanoTime() - t0) / 1e9;
          out.printf(Locale.ROOT, "| %s | %s%s | %d/%d | %s | %s | %.3f | %s | %s | %s | %.3f | %.0f |%n", key,
              kind.key(), kind == DEFAULT ? " (default)" : "", predictedLesion, n,
              ci(v[0], COMMAND_SEED), ci(v[5], COMMAND_SEED + 5), mean(v[6]), ci(v[1], COMMAND_SEED + 1),
              ci(v[2], COMMAND_SEED + 2), ci(v[3], COMMAND_SEED + 3), mean(v[4]), seconds);
        }
      }
    }
  }

  /** Mean with the percentile-bootstrap 95 % interval Faithfulness Score prints (NaN values left out). */
  private static String ci(double[] values, long seed) {
    double[] v = Arrays.stream(values).filter(x -> !Double.isNaN(x)).toArray();
    if (v.length == 0) return "NaN";
    Bootstrap.Interval c = Bootstrap.meanCi(v, FaithfulnessScoring.BOOTSTRAP_RESAMPLES, 0.95, seed);
    return String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", c.mean, c.low, c.high);
  }

  private static double mean(double[] v) {
    return Arrays.stream(v).filter(x -> !Double.isNaN(x)).average().orElse(Double.NaN);
  }

  private static int count(boolean[] m) {
    int k = 0;
    for (boolean b : m) k += b ? 1 : 0;
    return k;
  }

  private static double min(double[] v) {
    return Arrays.stream(v).min().orElse(Double.NaN);
  }

  private static double max(double[] v) {
    return Arrays.stream(v).max().orElse(Double.NaN);
  }
}
