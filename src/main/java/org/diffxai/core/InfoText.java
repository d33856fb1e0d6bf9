package org.diffxai.core;

import java.util.Map;

/** A provenance record as ImageJ's Info text (Image > Show Info...): one {@code key = value} line per entry. */
public final class InfoText {
  private InfoText() {}

  public static String of(Map<String, String> provenance) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, String> e : provenance.entrySet()) {
      sb.append(e.getKey()).append(" = ").append(e.getValue()).append('\n');
    }
    return sb.toString();
  }
}
