package org.diffxai.model;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.UserException;

/**
 * A bundle's parsed {@code model.json} (every field optional), shared by denoiser and classifier bundles: they differ in
 * the {@code format} they accept and in the document their messages point to ({@link BundleDirs.Kind}).
 */
final class ModelJson {
  private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");


  String format;
  String name;
  String description;
  int height;
  int width;
  int channels;
  IntensityMapping intensity;
  List<String> classNames = new ArrayList<>();
  int conditionChannels;
  String authors;
  String license;
  String trainingJson;
  /**
   * Denoisers trained with label dropout: the label value of the "no class" embedding row, {@code
   * training.unconditional_label} (always the number of classes, the row after the last class); -1 when absent.
   */
  int unconditionalLabel = -1;
  /** Classifier inputs: the model-space range inputs are clipped to after the intensity mapping, or null. */
  float[] inputClip;
  /** Classifiers: the temperature of {@code calibration.temperature} (docs/confidence.md); 1 when absent. */
  double temperature = 1;
  Map<String, String> sha256;
  /** The order of the image axes of the model's inputs and outputs, or null for the format's default. */
  TensorLayout layout;

  static ModelJson parse(String text, Path path, BundleDirs.Kind kind) {
    Src file = new Src(path, kind);
    JsonElement root;
    try {
      JsonReader r = new JsonReader(new StringReader(text));
      r.setLenient(false);
      root = new Gson().getAdapter(JsonElement.class).read(r);
      if (r.peek() != JsonToken.END_DOCUMENT) throw new IOException("text after the end of the JSON object");
    } catch (IOException | RuntimeException e) {
      throw new UserException(file + " is not valid JSON (" + e.getMessage() + "). Fix the file, or remove it to use "
          + "the model's own signature; see " + kind.doc + ".", e);
    }
    if (root == null || !root.isJsonObject()) {
      throw bad(file, "must be a JSON object {...}");
    }
    JsonObject o = root.getAsJsonObject();
    ModelJson d = new ModelJson();
    d.format = string(o, "format", file);
    if (d.format != null && !d.format.equals(kind.format)) {
      if (d.format.startsWith(kind.family())) {
        throw new UserException(file + " has format \"" + d.format + "\", but this version of the plugin reads \""
            + kind.format + "\". Update the plugin, or export the bundle in the older format.");
      }
      if (d.format.startsWith("diffusion-xai-")) {
        throw new UserException("The bundle of " + file + " is a " + d.format.substring(14, d.format.indexOf('/'))
            + " bundle (format \"" + d.format + "\"), but a " + kind.family().substring(14, kind.family().length() - 1)
            + " bundle is needed here. Give " + kind.give + ".");
      }
      throw bad(file, "has \"format\": \"" + d.format + "\"; this kind of bundle needs \"" + kind.format + "\"");
    }
    d.name = string(o, "name", file);
    d.description = string(o, "description", file);
    JsonElement size = o.get("sample_size");
    if (size != null && !size.isJsonNull()) {
      if (size.isJsonPrimitive()) {
        d.height = d.width = positiveInt(size, "sample_size", file);
      } else if (size.isJsonArray() && size.getAsJsonArray().size() == 2) {
        d.height = positiveInt(size.getAsJsonArray().get(0), "sample_size", file);
        d.width = positiveInt(size.getAsJsonArray().get(1), "sample_size", file);
      } else {
        throw bad(file, "has \"sample_size\": " + size + "; it must be [height, width] in pixels, e.g. [64, 64]");
      }
    }
    JsonElement ch = o.get("channels");
    if (ch != null && !ch.isJsonNull()) d.channels = positiveInt(ch, "channels", file);
    JsonElement in = o.get("intensity");
    if (in != null && !in.isJsonNull()) {
      if (!in.isJsonObject()) {
        throw bad(file, "has \"intensity\": " + in + "; it must be {\"scale\": s, \"offset\": o}");
      }
      double scale = number(in.getAsJsonObject(), "scale", 1, file);
      double offset = number(in.getAsJsonObject(), "offset", 0, file);
      d.intensity = new IntensityMapping(scale, offset);
    }
    JsonElement cn = o.get("class_names");
    if (cn != null && !cn.isJsonNull()) {
      if (!cn.isJsonArray()) throw bad(file, "has \"class_names\": " + cn + "; it must be a list of names");
      for (JsonElement e : cn.getAsJsonArray()) {
        if (!isString(e) || e.getAsString().trim().isEmpty()) {
          throw bad(file, "has class name " + e + "; class names must be non-empty strings");
        }
        String n = e.getAsString().trim();
        if (d.classNames.contains(n)) throw bad(file, "lists class name \"" + n + "\" twice");
        d.classNames.add(n);
      }
    }
    JsonElement k = o.get("condition_channels");
    if (k != null && !k.isJsonNull()) {
      d.conditionChannels = nonNegativeInt(k, "condition_channels", file);
    }
    JsonElement au = o.get("authors");
    if (au != null && !au.isJsonNull()) {
      if (isString(au)) {
        d.authors = au.getAsString();
      } else if (au.isJsonArray()) {
        List<String> names = new ArrayList<>();
        for (JsonElement e : au.getAsJsonArray()) names.add(isString(e) ? e.getAsString() : e.toString());
        d.authors = String.join(", ", names);
      } else {
        d.authors = au.toString();
      }
    }
    d.license = string(o, "license", file);
    JsonElement clip = o.get("input_clip");
    if (clip != null && !clip.isJsonNull()) {
      if (!clip.isJsonArray() || clip.getAsJsonArray().size() != 2) {
        throw bad(file, "has \"input_clip\": " + abbreviate(clip) + "; it must be [low, high] in model space");
      }
      float lo = (float) number(clip.getAsJsonArray().get(0), "input_clip", file);
      float hi = (float) number(clip.getAsJsonArray().get(1), "input_clip", file);
      if (!(lo < hi)) throw bad(file, "has \"input_clip\": " + clip + "; low must be below high");
      d.inputClip = new float[] {lo, hi};
    }
    String layout = string(o, "layout", file);
    if (layout != null) d.layout = TensorLayout.parse(layout, file.toString());
    JsonElement tr = o.get("training");
    if (tr != null && !tr.isJsonNull()) {
      d.trainingJson = tr.toString();
      if (tr.isJsonObject() && tr.getAsJsonObject().has("unconditional_label")) {
        double u = number(tr.getAsJsonObject(), "unconditional_label", -1, file);
        if (u != d.classNames.size()) {
          throw bad(file, "has \"training\": {\"unconditional_label\": " + tr.getAsJsonObject().get(
              "unconditional_label") + "}; it must be the number of class_names (" + d.classNames.size()
              + "), the label value after the last class");
        }
        d.unconditionalLabel = (int) u;
      }
    }
    JsonElement cal = o.get("calibration");
    if (cal != null && !cal.isJsonNull()) {
      if (!cal.isJsonObject()) throw bad(file, "has \"calibration\": " + abbreviate(cal) + "; it must be an object");
      d.temperature = number(cal.getAsJsonObject(), "temperature", 1, file);
      if (!(d.temperature > 0) || Double.isInfinite(d.temperature)) {
        throw bad(file, "has calibration temperature " + d.temperature + "; it must be a positive number");
      }
    }
    JsonElement sums = o.get("sha256");
    if (sums != null && !sums.isJsonNull()) {
      if (!sums.isJsonObject()) {
        throw bad(file, "has \"sha256\": " + abbreviate(sums) + "; it must map file paths to SHA-256 hex digests");
      }
      d.sha256 = new TreeMap<>();
      for (Map.Entry<String, JsonElement> e : sums.getAsJsonObject().entrySet()) {
        String rel = e.getKey();
        if (rel.isEmpty() || rel.startsWith("/") || rel.contains("\\") || rel.equals(DenoiserBundle.MODEL_JSON)
            || ("/" + rel + "/").contains("/../") || ("/" + rel + "/").contains("/./")) {
          throw bad(file, "lists \"" + rel + "\" in \"sha256\"; keys must be relative paths inside the bundle "
              + "with '/' separators (model.json itself is not listed)");
        }
        if (!isString(e.getValue()) || !HEX64.matcher(e.getValue().getAsString()).matches()) {
          throw bad(file, "has sha256 " + e.getValue() + " for \"" + rel + "\"; it must be 64 hex digits as printed "
              + "by sha256sum");
        }
        d.sha256.put(rel, e.getValue().getAsString().toLowerCase(Locale.ROOT));
      }
    }
    return d;
  }

  /** The file being parsed and the kind of bundle, for messages. */
  private static final class Src {
    final Path path;
    final BundleDirs.Kind kind;

    Src(Path path, BundleDirs.Kind kind) {
      this.path = path;
      this.kind = kind;
    }

    @Override
    public String toString() {
      return path.toString();
    }
  }

  private static UserException bad(Src file, String what) {
    return new UserException(file + " " + what + ". Fix the file; see " + file.kind.doc + ".");
  }

  private static boolean isString(JsonElement e) {
    return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString();
  }

  private static String string(JsonObject o, String key, Src file) {
    JsonElement e = o.get(key);
    if (e == null || e.isJsonNull()) return null;
    if (!isString(e)) throw bad(file, "has \"" + key + "\": " + abbreviate(e) + "; it must be a string");
    return e.getAsString();
  }

  private static double number(JsonObject o, String key, double dflt, Src file) {
    JsonElement e = o.get(key);
    if (e == null || e.isJsonNull()) return dflt;
    return number(e, key, file);
  }

  private static double number(JsonElement e, String key, Src file) {
    if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
      throw bad(file, "has \"" + key + "\": " + abbreviate(e) + "; it must be a number");
    }
    return e.getAsDouble();
  }

  private static int wholeNumber(JsonElement e, int min, String key, Src file) {
    if (e.isJsonPrimitive() && ((JsonPrimitive) e).isNumber()) {
      double v = e.getAsDouble();
      if (v >= min && v <= Integer.MAX_VALUE && v == Math.rint(v)) return (int) v;
    }
    throw bad(file, "has \"" + key + "\": " + abbreviate(e) + "; it must be a whole number >= " + min);
  }

  private static int nonNegativeInt(JsonElement e, String key, Src file) {
    return wholeNumber(e, 0, key, file);
  }

  private static int positiveInt(JsonElement e, String key, Src file) {
    return wholeNumber(e, 1, key, file);
  }

  private static String abbreviate(JsonElement e) {
    String s = e.toString();
    return s.length() > 60 ? s.substring(0, 57) + "..." : s;
  }
}
