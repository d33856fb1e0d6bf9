package org.diffxai.metrics;

import java.util.ArrayList;
import java.util.List;
import org.diffxai.core.ImageMetrics;
import org.diffxai.core.Progress;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.io.FloatStack;

/**
 * The model-randomisation sanity check of Adebayo, Gilmer, Muelly, Goodfellow, Hardt &amp; Kim, "Sanity checks for
 * saliency maps", NeurIPS 2018, §3.1: an explanation method that explains the model must give different maps for a
 * network whose weights were re-initialised. The maps compared here are the prototype network's own attribution
 * ({@link PrototypeAttribution}, all prototypes, for the real network's target class of each image); their similarity
 * is measured as in the paper by Spearman's rank correlation and by SSIM of the maps scaled to [0, 1]. A map that
 * survives randomisation (similarity near 1) shows the image, not the model.
 */
public final class ModelRandomization {

  /** The similarity metrics, as they appear in the comparison table. */
  public static final String SPEARMAN = "spearman_vs_real";
  public static final String SSIM = "ssim_vs_real";

  private ModelRandomization() {}

  /**
   * The network's own attribution map of every image for its target class: the sum over all prototypes of
   * contribution × similarity map scaled to peak 1 ({@link PrototypeAttribution}).
   *
   * @param images one channel, one plane per image, of the network's size
   * @param targets class index per image
   * @return [image][H·W]
   */
  public static float[][] maps(PrototypeClassifier net, String name, FloatStack images, int[] targets,
      Progress progress) {
    int n = images.planeCount();
    if (targets.length != n) throw new IllegalArgumentException(targets.length + " targets for " + n + " images");
    PrototypeExplainer explainer = new PrototypeExplainer(net, name);
    float[][] out = new float[n][];
    int classes = net.classNames().size();
    for (int c = 0; c < classes; c++) { // one batched call per target class
      List<Integer> idx = new ArrayList<>();
      for (int i = 0; i < n; i++) if (targets[i] == c) idx.add(i);
      if (idx.isEmpty()) continue;
      progress.checkCancelled();
      float[][] planes = new float[idx.size()][];
      for (int j = 0; j < planes.length; j++) planes[j] = images.plane(idx.get(j));
      FloatStack sub = new FloatStack(images.width, images.height, 1, planes.length, 1, planes, null);
      List<Explanation> e = explainer.explain(sub, net.prototypes(), c, 32, name, Progress.NONE);
      for (int j = 0; j < planes.length; j++) {
        out[idx.get(j)] = PrototypeAttribution.map(e.get(j), images.width, images.height);
      }
    }
    return out;
  }

  /** Spearman's rank correlation of two maps (ties averaged); NaN when either map is constant. */
  public static double spearman(float[] a, float[] b) {
    return Stats.spearman(toDouble(a), toDouble(b));
  }

  /**
   * SSIM (Wang et al. 2004, {@link ImageMetrics#ssim}) of the two maps after each is scaled to [0, 1] by its own
   * minimum and maximum, data range 1 (Adebayo et al. normalise the maps the same way). NaN when a map is constant or
   * the image is smaller than the 11×11 SSIM window.
   */
  public static double ssim(float[] a, float[] b, int width, int height) {
    if (width < ImageMetrics.SSIM_WINDOW || height < ImageMetrics.SSIM_WINDOW) return Double.NaN;
    float[] na = unit(a), nb = unit(b);
    if (na == null || nb == null) return Double.NaN;
    return ImageMetrics.ssim(na, nb, width, height, 1.0);
  }

  private static float[] unit(float[] v) {
    float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
    for (float f : v) {
      min = Math.min(min, f);
      max = Math.max(max, f);
    }
    if (!(max > min)) return null;
    float[] out = new float[v.length];
    double span = (double) max - min;
    for (int i = 0; i < v.length; i++) out[i] = (float) ((v[i] - (double) min) / span);
    return out;
  }

  private static double[] toDouble(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) d[i] = v[i];
    return d;
  }
}
