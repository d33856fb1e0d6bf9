package org.diffxai.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.diffxai.core.Foreground;
import org.diffxai.core.Progress;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.FloatStack;
import org.diffxai.metrics.Bootstrap;
import org.diffxai.metrics.Localisation;
import org.diffxai.metrics.PrototypeAttribution;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.model.DjlPrototypeClassifier;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.phantom.Tissue;

/**
 * How well today's prototype maps localise the lesion (issue 10, ground truth): for each sample prototype network, on
 * {@code n} unseen phantom pairs (64×64, T1, seed {@link #SEED}: the samples were trained on seed 2000), the
 * localisation metrics ({@link Localisation}) of two maps of the class {@code lesion} against the lesion masks
 * ({@link Phantom#lesionPixels}): the network's own attribution map ({@link PrototypeAttribution} over all prototypes,
 * the map Faithfulness Score and Compare Explanation Methods score) and the top prototype's upsampled similarity map
 * (what Explain with Prototypes shows first), and the attribution map once more against the tighter labelled lesion
 * (dominant tissue core, rim or oedema, about half the mask's area); the top prototype's box against the mask and the mask's box; and where
 * the top-3 prototypes' boxes lie, on lesion and healthy slices: touching the image border, or mostly (more than half
 * of their pixels) outside the anatomy, from the label map and from {@link Foreground} on the image. Means with 95 %
 * bootstrap intervals ({@link Bootstrap}).
 *
 * <p>Run: {@code java -cp target/diffusion-xai.jar org.diffxai.bench.LocalisationBench [n] [models...]} (defaults 100
 * and the three sample networks; CPU).
 */
public final class LocalisationBench {

  /** Seed of the unseen phantoms. */
  public static final long SEED = 4242;
  static final int TOP = 3;
  static final long BOOTSTRAP_SEED = 11;

  private LocalisationBench() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    List<String> models = args.length > 1 ? Arrays.asList(Arrays.copyOfRange(args, 1, args.length))
        : Arrays.asList("sample-ppnet", "sample-eppnet", "sample-protopool");
    run(models, n, System.out);
  }

  /** Measures every model on n lesion/healthy pairs and prints the tables (markdown) to {@code out}. */
  public static void run(List<String> models, int n, PrintStream out) {
    PhantomGenerator g = new PhantomGenerator(64, 64, Contrast.T1);
    List<Phantom> lesion = new ArrayList<>(), healthy = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      lesion.add(g.generate(SEED, i, true));
      healthy.add(g.generate(SEED, i, false));
    }
    double[] area = new double[n];
    for (int i = 0; i < n; i++) area[i] = count(lesion.get(i).lesionPixels) / (64.0 * 64);
    double[] labelled = new double[n];
    for (int i = 0; i < n; i++) labelled[i] = count(labelledLesion(lesion.get(i))) / (64.0 * 64);
    out.printf(Locale.ROOT, "%d unseen lesion phantoms (64x64, T1, seed %d): lesion mask area fraction %s "
        + "(min %.4f, max %.4f); labelled lesion %s%n%n", n, SEED, ci(area), min(area), max(area), ci(labelled));
    out.println("| model | map | pointing game (tolerance 0) | pointing game (4.3 px) | random map | relevance mass "
        + "| × area fraction | relevance rank | AUC |");
    out.println("|---|---|---|---|---|---|---|---|---|");
    List<String> boxRows = new ArrayList<>();
    for (String key : models) {
      try (DjlPrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(key), "cpu")) {
        int target = c.classNames().indexOf("lesion");
        PrototypeExplainer ex = new PrototypeExplainer(c, key);
        List<Explanation> el = ex.explain(stack(lesion), c.prototypes(), target, 32, "lesion", Progress.NONE);
        List<Explanation> eh = ex.explain(stack(healthy), c.prototypes(), target, 32, "healthy", Progress.NONE);
        int correct = 0;
        for (Explanation e : el) correct += e.predicted == target ? 1 : 0;
        for (Explanation e : eh) correct += e.predicted != target ? 1 : 0;
        for (String kind : new String[] {"attribution (all prototypes)", "top-1 prototype map",
            "attribution, labelled-lesion mask"}) {
          double[] pg0 = new double[n], pg = new double[n], pgr = new double[n], mass = new double[n],
              ratio = new double[n], rank = new double[n], auc = new double[n];
          for (int i = 0; i < n; i++) {
            Explanation e = el.get(i);
            Phantom p = lesion.get(i);
            float[] map = kind.startsWith("attribution") ? PrototypeAttribution.map(e, 64, 64) : e.top.get(0).map;
            boolean[] m = kind.endsWith("labelled-lesion mask") ? labelledLesion(p) : p.lesionPixels;
            Localisation.Result r = Localisation.evaluate(map, m, 64, 64);
            pg0[i] = Localisation.pointingGame(map, m, 64, 64, Localisation.Sign.POSITIVE, 0);
            pg[i] = r.pointingGame;
            pgr[i] = r.pointingGameRandom;
            mass[i] = r.relevanceMass;
            ratio[i] = r.relevanceMassRatio();
            rank[i] = r.relevanceRank;
            auc[i] = r.auc;
          }
          out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", key, kind, ci(pg0), ci(pg),
              ci(pgr), ci(mass), ci(ratio), ci(rank), ci(auc));
        }
        boxRows.add(boxes(key, el, eh, lesion, healthy, correct / (2.0 * n)));
      }
    }
    out.println();
    out.println("| model | accuracy (lesion + healthy) | top-1 box IoU with mask | with mask's box | top-3 boxes "
        + "touching the border | outside the head (label map) | outside the estimated foreground |");
    out.println("|---|---|---|---|---|---|---|");
    for (String row : boxRows) out.println(row);
  }

  private static String boxes(String key, List<Explanation> el, List<Explanation> eh, List<Phantom> lesion,
      List<Phantom> healthy, double accuracy) {
    int n = el.size();
    double[] iou = new double[n], iouBox = new double[n];
    for (int i = 0; i < n; i++) {
      int[] box = el.get(i).top.get(0).box;
      boolean[] m = lesion.get(i).lesionPixels;
      iou[i] = Localisation.boxMaskIoU(box, m, 64, 64);
      iouBox[i] = Localisation.boxIoU(box, Localisation.boundingBox(m, 64, 64));
    }
    double[] border = new double[2 * n], outHead = new double[2 * n], outFg = new double[2 * n];
    for (int i = 0; i < 2 * n; i++) {
      Explanation e = i < n ? el.get(i) : eh.get(i - n);
      Phantom p = i < n ? lesion.get(i) : healthy.get(i - n);
      boolean[] head = new boolean[p.tissue.length];
      for (int k = 0; k < head.length; k++) head[k] = p.tissue[k] != Tissue.BACKGROUND.code();
      boolean[] fg = Foreground.estimate(p.pixels, 64, 64);
      for (int t = 0; t < TOP; t++) {
        int[] b = e.top.get(t).box;
        border[i] += Localisation.touchesBorder(b, 64, 64) ? 1.0 / TOP : 0;
        outHead[i] += Localisation.boxOutsideFraction(b, head, 64, 64) > 0.5 ? 1.0 / TOP : 0;
        outFg[i] += Localisation.boxOutsideFraction(b, fg, 64, 64) > 0.5 ? 1.0 / TOP : 0;
      }
    }
    return String.format(Locale.ROOT, "| %s | %.3f | %s | %s | %s | %s | %s |", key, accuracy, ci(iou), ci(iouBox),
        ci(border), ci(outHead), ci(outFg));
  }

  /** The tighter lesion region: pixels whose dominant tissue is lesion core, rim or oedema (the label map's). */
  static boolean[] labelledLesion(Phantom p) {
    boolean[] m = new boolean[p.tissue.length];
    for (int k = 0; k < m.length; k++) m[k] = Tissue.of(p.tissue[k]).isLesion();
    return m;
  }

  private static FloatStack stack(List<Phantom> ps) {
    float[][] planes = new float[ps.size()][];
    for (int i = 0; i < planes.length; i++) planes[i] = ps.get(i).pixels;
    return new FloatStack(64, 64, 1, planes.length, 1, planes, null);
  }

  private static String ci(double[] v) {
    Bootstrap.Interval c = Bootstrap.meanCi95(v, BOOTSTRAP_SEED);
    return String.format(Locale.ROOT, "%.3f [%.3f, %.3f]", c.mean, c.low, c.high);
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
