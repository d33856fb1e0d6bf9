package org.diffxai.run;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffxai.io.FloatStack;
import org.diffxai.io.RgbStack;

/**
 * An image a use case produced, as plain data with how it should look: float planes (in memory, or in a file the run
 * wrote, read when shown) or RGB pictures, the look of each channel, and its properties (the provenance as
 * {@code Info}, trajectory layout keys). The Fiji layer turns it into a window; {@link OutputFolder} into a TIFF.
 */
public final class ResultImage {

  /** How a channel is displayed. */
  public enum Look {
    /** Grey levels over the channel's own range: images. */
    GREY,
    /** A heat lookup table with a calibration bar, range over the channel: maps (similarity, attribution). */
    HEAT,
    /** A diverging lookup table, range symmetric about zero: signed maps (differences, signed attributions). */
    SIGNED
  }

  /** The output's name: the script output field it fills, e.g. {@code synthesized}. */
  public final String id;
  /** The window title (the Fiji layer makes it unique, e.g. Synthesized-2). */
  public final String title;
  private final FloatStack floats;
  private final RgbStack rgb;
  private final Path file;
  private final List<Look> looks;
  private final Map<String, String> properties;

  private ResultImage(String id, String title, FloatStack floats, RgbStack rgb, Path file, List<Look> looks,
      Map<String, String> properties) {
    this.id = id;
    this.title = title;
    this.floats = floats;
    this.rgb = rgb;
    this.file = file;
    this.looks = Collections.unmodifiableList(new ArrayList<>(looks));
    this.properties = Collections.unmodifiableMap(new LinkedHashMap<>(properties));
  }

  /**
   * Float planes in memory.
   *
   * @param looks one per channel, or one for every channel
   */
  public static ResultImage of(String id, String title, FloatStack planes, Map<String, String> properties,
      Look... looks) {
    return new ResultImage(id, title, planes, null, null, lookList(looks, planes.channels), properties);
  }

  /** Float planes the run wrote to a TIFF file (shown from the file, plane by plane). */
  public static ResultImage ofFile(String id, String title, Path file, int channels, Map<String, String> properties,
      Look... looks) {
    return new ResultImage(id, title, null, null, file, lookList(looks, channels), properties);
  }

  /** RGB pictures. */
  public static ResultImage ofRgb(String id, String title, RgbStack pictures, Map<String, String> properties) {
    return new ResultImage(id, title, null, pictures, null, Collections.emptyList(), properties);
  }

  private static List<Look> lookList(Look[] looks, int channels) {
    List<Look> l = new ArrayList<>();
    for (int c = 0; c < channels; c++) l.add(looks.length == 0 ? Look.GREY : looks[Math.min(c, looks.length - 1)]);
    return l;
  }

  /** The float planes, or null (RGB, or in a file). */
  public FloatStack floats() {
    return floats;
  }

  /** The RGB pictures, or null. */
  public RgbStack rgb() {
    return rgb;
  }

  /** The file holding the planes, or null (in memory). */
  public Path file() {
    return file;
  }

  /** The look of each channel (empty for RGB). */
  public List<Look> looks() {
    return looks;
  }

  /** Properties to set on the image; {@code Info} is the provenance text. */
  public Map<String, String> properties() {
    return properties;
  }
}
