package org.diffxai.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;

/**
 * Prototype perturbation: does a prototype network's own explanation ("this part looks like that prototype") carry
 * its decision? For given prototypes (typically the image's top prototypes by contribution c_p = W[target][p]·s_p, W
 * the last layer, s_p the prototype's score), occlude each prototype's high-activation box in the image with the
 * baseline, one prototype at a time, and measure the drop of that prototype's own score and of the target logit.
 *
 * <ul>
 * <li>{@link Metric#PROTOTYPE_PERTURBATION}: Pearson's correlation, over the given prototypes, of c_p and the
 * target-logit drop. For an ideal network whose prototypes see only their boxes, the drop equals c_p: value 1.
 * <li>{@link Metric#PROTOTYPE_SIMILARITY_DROP}: mean over the given prototypes with s_p &gt; 0 of (s_p − s'_p) / s_p,
 * the fraction of its score a prototype loses when its box is occluded (1: the box holds all the evidence; 0: none).
 * </ul>
 *
 * The boxes ({x, y, w, h} in image pixels) come from the explanation of this image: the box around the pixels whose
 * upsampled similarity is at or above its 95th percentile, as ProtoPNet's local analysis draws it.
 */
public final class PrototypePerturbation {

  private PrototypePerturbation() {}

  /**
   * @param image one sample, h·w·c values, image intensity
   * @param prototypes the prototypes to test (e.g. an explanation's top prototypes, largest contribution first)
   * @param boxes {x, y, w, h} of each listed prototype's high-activation box in this image (clipped to the image)
   * @return the two results, in the order of {@link Metric}
   */
  public static List<MetricResult> compute(PrototypeClassifier model, float[] image, int target, int[] prototypes,
      int[][] boxes, Baseline baseline, int batch, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    int h = model.height(), w = model.width(), c = model.channels(), d = h * w * c, pn = model.prototypes();
    int k = model.classNames().size();
    if (target < 0 || target >= k) {
      throw new UserException("target=" + target + " is not a class of the model, which has " + k + " classes.");
    }
    if (image.length != d) {
      throw new UserException("The image has " + image.length + " values but the model takes " + w + "x" + h + " with "
          + c + " channel(s).");
    }
    int top = prototypes.length;
    if (top < 1 || boxes.length != top) {
      throw new IllegalArgumentException(top + " prototypes and " + boxes.length + " boxes");
    }
    for (int p : prototypes) {
      if (p < 0 || p >= pn) throw new IllegalArgumentException("prototype " + p + " of " + pn);
    }

    PrototypeActivations a0 = model.activations(image, 1);
    float[] weights = model.lastLayer()[target];
    float[] base = baseline.of(image, h, w, c);
    double[] cs = new double[top], logitDrop = new double[top], simDrop = new double[top], rank = new double[top];
    float[] buf = new float[Math.min(batch, top) * d];
    for (int start = 0; start < top; start += batch) {
      progress.checkCancelled();
      int n = Math.min(batch, top - start);
      for (int i = 0; i < n; i++) {
        int[] b = boxes[start + i];
        System.arraycopy(image, 0, buf, i * d, d);
        int x0 = Math.max(0, b[0]), y0 = Math.max(0, b[1]);
        int x1 = Math.min(w, b[0] + b[2]), y1 = Math.min(h, b[1] + b[3]);
        for (int y = y0; x1 > x0 && y < y1; y++) {
          System.arraycopy(base, (y * w + x0) * c, buf, i * d + (y * w + x0) * c, (x1 - x0) * c);
        }
      }
      PrototypeActivations a = model.activations(n * d == buf.length ? buf : Arrays.copyOf(buf, n * d), n);
      for (int i = 0; i < n; i++) {
        int j = start + i, p = prototypes[j];
        float s = a0.scores[0][p];
        rank[j] = j + 1;
        cs[j] = (double) weights[p] * s;
        logitDrop[j] = (double) a0.logits[0][target] - a.logits[i][target];
        simDrop[j] = s > 0 ? (s - (double) a.scores[i][p]) / s : Double.NaN;
      }
      progress.report("Prototype perturbation: " + (start + n) + "/" + top + " prototypes",
          (double) (start + n) / top);
    }
    List<MetricResult> out = new ArrayList<>();
    double r = Stats.pearson(cs, logitDrop);
    out.add(new MetricResult(Metric.PROTOTYPE_PERTURBATION, r,
        new Curve("prototype contribution", "target logit drop", cs, logitDrop, true), top + 1,
        Double.isNaN(r) ? (top < 2 ? "undefined: fewer than 2 prototypes" : "undefined: contributions or drops are all"
            + " equal") : top + " prototypes"));
    double sum = 0;
    int used = 0;
    for (double v : simDrop) {
      if (!Double.isNaN(v)) {
        sum += v;
        used++;
      }
    }
    out.add(new MetricResult(Metric.PROTOTYPE_SIMILARITY_DROP, used == 0 ? Double.NaN : sum / used,
        new Curve("prototype (in the order given)", "fraction of score lost", rank, simDrop, true), top + 1,
        used == 0 ? "undefined: no prototype has a positive score" : used + " of " + top + " prototypes"));
    return out;
  }
}
