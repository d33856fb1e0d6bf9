package org.diffxai.core;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

/** The project's one JSON configuration: pretty-printed, no HTML escaping (paths and formulas stay readable). */
public final class Json {
  public static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

  private Json() {}

  /** The object as JSON text with a final newline, as every JSON file the project writes. */
  public static String text(Object o) {
    return GSON.toJson(o) + "\n";
  }
}
