package org.diffxai.core;

import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * How far down a network the model-randomisation control of Adebayo et al. ("Sanity checks for saliency maps",
 * NeurIPS 2018, §3.1) re-initialises the weights (cascading randomisation from the top).
 */
public enum Randomization {
  TOP("top", "last layer, prototypes and add-on layers re-initialised; backbone keeps its trained weights"),
  FULL("full", "every layer re-initialised");

  private final String key;
  private final String description;

  Randomization(String key, String description) {
    this.key = key;
    this.description = description;
  }

  public String key() {
    return key;
  }

  public String description() {
    return description;
  }

  /**
   * The stages a {@code randomization} key asks for: {@code both}, {@code top}, {@code full} or {@code none}.
   *
   * @throws UserException naming the valid values
   */
  public static List<Randomization> parse(String key) {
    String k = key == null ? "" : key.trim().toLowerCase(Locale.ROOT);
    switch (k) {
      case "both":
        return List.of(TOP, FULL);
      case "top":
        return List.of(TOP);
      case "full":
        return List.of(FULL);
      case "none":
        return Collections.emptyList();
      default:
        throw new UserException("randomization=" + key + " is not a choice. Use both, top, full or none.");
    }
  }
}
