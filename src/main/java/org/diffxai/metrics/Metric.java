package org.diffxai.metrics;

import java.util.Locale;

/** The faithfulness metrics, by the names users type ({@code metric=deletion}). Formulas: docs/faithfulness.md. */
public enum Metric {
  /** Bhatt, Weller &amp; Moura, IJCAI 2020: Pearson(subset attribution sum, target-logit drop) over random subsets. */
  FAITHFULNESS_CORRELATION(true),
  /** Petsiuk, Das &amp; Saenko, BMVC 2018 (RISE): AUC of the target probability as top pixels go to the baseline. */
  DELETION(true),
  /** Petsiuk et al. 2018: AUC of the target probability as top pixels are put into a blurred image. */
  INSERTION(true),
  /** After Nguyen &amp; Rodríguez Martínez 2020: Spearman(attribution of a pixel group, logit drop of removing it). */
  MONOTONICITY(true),
  /** Samek et al. 2017: AOPC of the target logit as patches go to the baseline, most relevant first. */
  REGION_PERTURBATION(true),
  /** Pearson(prototype contribution, target-logit drop of occluding its high-activation box), prototype networks. */
  PROTOTYPE_PERTURBATION(false),
  /** Mean fraction of a top prototype's own score lost when its high-activation box is occluded. */
  PROTOTYPE_SIMILARITY_DROP(false),
  /** The MRI explainability paper's score: mean over images of max_j softmax_j(−‖f_gen − f_ref_j‖₂). */
  NIS(false);

  /** True for metrics that score an attribution map. */
  public final boolean needsAttribution;

  Metric(boolean needsAttribution) {
    this.needsAttribution = needsAttribution;
  }

  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** By key (case-insensitive), or null. */
  public static Metric of(String key) {
    for (Metric m : values()) {
      if (m.key().equalsIgnoreCase(key.trim())) return m;
    }
    return null;
  }
}
