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
 * its decision? For the image's top prototypes by contribution c_p = W[target][p]·s_p (W the last layer, s_p the
 * prototype's score), occlude the prototype's high-activation box in the image with the baseline, one prototype at a
 * time, and measure the drop of that prototype's own score and of the target logit.
 *
 * <ul>
 * <li>{@link Metric#PROTOTYPE_PERTURBATION}: Pearson's correlation, over the top prototypes, of c_p and the target-logit
 * drop. For an ideal network whose prototypes see only their boxes, the drop equals c_p and the value is 1.
 * <li>{@link Metric#PROTOTYPE_SIMILARITY_DROP}: mean over the top prototypes with s_p &gt; 0 of (s_p − s'_p) / s_p, the
 * fraction of its score a prototype loses when its box is occluded (1: the box holds all the evidence; 0: none).
 * </ul>
 *
 * The boxes ({x, y, w, h} in image pixels, one per prototype) come from the explanation of this image (the box around
 * the pixels whose upsampled similarity is at or above its 95th percentile, as ProtoPNet's local analysis draws it).
 */
public final class PrototypePerturbation {

  private PrototypePerturbation() {}

  /**
   * @param image one sample, h·w·c values, image intensity
   * @param boxes [P][4] {x, y, w, h} of each prototype's high-activation box in this image (clipped to the image)
   * @param top how many prototypes, by descending contribution (at most P)
   * @return the two results, in the order of {@link Metric}
   */
  public static List<MetricResult> compute(PrototypeClassifier model, float[] image, int target, int[][] boxes,
      int top, Baseline baseline, int batch, Progress progress) {
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
    if (top < 1 || top > pn) {
      throw new UserException("top=" + top + " prototypes: the model has " + pn + ". Use 1 to " + pn + ".");
    }
    if (boxes.length != pn) throw new IllegalArgumentException(boxes.length + " boxes for " + pn + " prototypes");

    PrototypeActivations a0 = model.activations(image, 1);
    float[] weights = model.lastLayer()[target];
    float[] contrib = new float[pn];
    for (int p = 0; p < pn; p++) contrib[p] = weights[p] * a0.scores[0][p];
    int[] order = FaithfulnessMetrics.descendingOrder(contrib);

    float[] base = baseline.of(image, h, w, c);
    double[] cs = new double[top], logitDrop = new double[top], simDrop = new double[top], rank = new double[top];
    float[] buf = new float[Math.min(batch, top) * d];
    for (int start = 0; start < top; start += batch) {
      progress.checkCancelled();
      int n = Math.min(batch, top - start);
      for (int i = 0; i < n; i++) {
        int[] b = boxes[order[start + i]];
        System.arraycopy(image, 0, buf, i * d, d);
        int x0 = Math.max(0, b[0]), y0 = Math.max(0, b[1]);
        int x1 = Math.min(w, b[0] + b[2]), y1 = Math.min(h, b[1] + b[3]);
        for (int y = y0; y < y1; y++) System.arraycopy(base, (y * w + x0) * c, buf, i * d + (y * w + x0) * c,
            Math.max(0, x1 - x0) * c);
      }
      PrototypeActivations a = model.activations(n * d == buf.length ? buf : Arrays.copyOf(buf, n * d), n);
      for (int i = 0; i < n; i++) {
        int j = start + i, p = order[j];
        float s = a0.scores[0][p];
        rank[j] = j + 1;
        cs[j] = contrib[p];
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
            + " equal") : "top " + top + " prototypes"));
    double sum = 0;
    int used = 0;
    for (double v : simDrop) {
      if (!Double.isNaN(v)) {
        sum += v;
        used++;
      }
    }
    out.add(new MetricResult(Metric.PROTOTYPE_SIMILARITY_DROP, used == 0 ? Double.NaN : sum / used,
        new Curve("prototype rank by contribution", "fraction of score lost", rank, simDrop, true), top + 1,
        used == 0 ? "undefined: no top prototype has a positive score" : used + " of top " + top + " prototypes"));
    return out;
  }
}
