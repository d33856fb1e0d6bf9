package org.diffxai.run;

import org.diffxai.metrics.Baseline;
import org.diffxai.metrics.FaithfulnessMetrics;
import org.scijava.plugin.Parameter;

/**
 * The faithfulness-metric keys shared by Faithfulness Score and Compare Explanation Methods, declared once (the
 * metrics are defined in docs/faithfulness.md), plus {@link ModelKeys}.
 */
public abstract class MetricKeys extends ModelKeys {

  @Parameter(choices = {"all", "faithfulness_correlation", "deletion", "insertion", "monotonicity",
      "region_perturbation", "prototype_perturbation", "nis"}, persist = false,
      description = "Metric, or all that the inputs allow")
  public String metric = "all";

  @Parameter(choices = {"blur", "zero", "min", "mean"}, persist = false,
      description = "What removed pixels become; blur = Gaussian of sigma min(width, height)/16")
  public String baseline = "blur";

  @Parameter(min = "3", persist = false, description = "Random pixel subsets of faithfulness_correlation")
  public int runs = 100;

  @Parameter(min = "0", persist = false, description = "Pixels per random subset; 0 = the image width")
  public int subset_size = 0;

  @Parameter(min = "0", persist = false,
      description = "Pixels moved per step of deletion, insertion and monotonicity; 0 = the image width")
  public int step = 0;

  @Parameter(min = "0", persist = false, description = "Patch side of region_perturbation; 0 = min(width, height)/16")
  public int patch_size = 0;

  @Parameter(min = "1", persist = false,
      description = "Prototypes tested by prototype_perturbation, largest contribution first")
  public int top = 10;

  @Parameter(persist = false, description = "Random seed of every random choice (subsets, random maps, bootstrap)")
  public long seed = 0;

  @Parameter(required = false, persist = false,
      description = "Class name or index to explain; empty = each image's predicted class")
  public String target = "";

  /** The metric settings these keys describe, with {@code batch} images per model call. */
  public FaithfulnessMetrics.Settings settings(int batch) {
    FaithfulnessMetrics.Settings s = new FaithfulnessMetrics.Settings();
    s.baseline = Baseline.of(baseline);
    s.runs = runs;
    s.subsetSize = subset_size;
    s.step = step;
    s.patchSize = patch_size;
    s.batch = batch;
    return s;
  }
}
