package org.diffxai.attribution;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The maps of one attribution method for n images, with the numbers it reports. Plain Java; no ImageJ types. */
public final class AttributionResult {
  public final AttributionMethod method;
  public final int width;
  public final int height;
  /** [n][height·width], row-major; how channels were reduced: {@link #channels}. */
  public final float[][] maps;
  /** The objective f(x) of each image (class logit, log-probability or prototype score). */
  public final float[] values;
  /**
   * Per-image numbers by name, n values each, e.g. Integrated Gradients' {@code attribution_sum},
   * {@code baseline_value} and {@code completeness_gap}.
   */
  public final Map<String, double[]> numbers;
  /** How the channels of a multi-channel image were reduced to one map value per pixel. */
  public final String channels;
  /** Images the classifier was called on: gradient evaluations (occlusion: forward passes). */
  public final long evaluations;

  AttributionResult(AttributionMethod method, int width, int height, float[][] maps, float[] values,
      Map<String, double[]> numbers, String channels, long evaluations) {
    this.method = method;
    this.width = width;
    this.height = height;
    this.maps = maps;
    this.values = values;
    this.numbers = Collections.unmodifiableMap(new LinkedHashMap<>(numbers));
    this.channels = channels;
    this.evaluations = evaluations;
  }
}
