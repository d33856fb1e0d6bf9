package org.diffxai.trajectory;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.diffxai.core.InfoText;
import org.diffxai.core.KeptStep;
import org.diffxai.core.UserException;
import org.diffxai.io.OmeTiffWriter;
import org.diffxai.io.Planes;
import org.diffxai.io.StreamingTiffWriter;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

/**
 * What a denoising trajectory holds and how it is laid out: S samples, K kept steps and C channels, where the channels
 * are the kinds {@code x_t}, {@code x0_pred} and optionally {@code eps_pred}, each for every model channel (named
 * {@code x_t[1]}, {@code x_t[2]}, ... when the model has more than one). Planes are in ImageJ's hyperstack order:
 * channel fastest, then sample (ImageJ's slice, OME's Z), then kept step (ImageJ's frame, OME's T).
 *
 * <p>x_t and x0_pred are in image units (the bundle's intensity mapping applied), eps_pred in model units. For kept
 * step k the metadata is the 1-based inference step, the training timestep t, ᾱ_t and σ_t = sqrt(1 − ᾱ_t).
 *
 * <p>The same metadata travels two ways: as ImageJ properties ({@code trajectory.*}, {@link #properties()}) on the
 * Trajectory hyperstack and in {@code trajectory.tif}; and as OME-XML map annotations in {@code trajectory.ome.tif}
 * ({@link #omeTiffWriter}). {@link #of(Planes)} reads either. The provenance (model, checksum, scheduler, sampler,
 * seed, ...) is the property {@code trajectory.provenance} (a JSON object; each entry is also a property of its own),
 * or the OME image's provenance map annotation.
 */
public final class Trajectory {
  public static final String X_T = "x_t", X0_PRED = "x0_pred", EPS_PRED = "eps_pred";
  /** Namespace of the OME map annotation of each kept step (keys step, timestep, alpha_cumprod, sigma). */
  public static final String STEP_NAMESPACE = "org.diffxai/trajectory/step";
  /** Namespace of the OME map annotation holding the provenance. */
  public static final String PROVENANCE_NAMESPACE = "org.diffxai/provenance";

  private static final String KINDS = "trajectory.kinds", MODEL_CHANNELS = "trajectory.model_channels",
      SAMPLES = "trajectory.samples", STEP = "trajectory.step", TIMESTEP = "trajectory.timestep",
      ALPHA = "trajectory.alpha_cumprod", PROVENANCE = "trajectory.provenance";

  private final int width, height;
  private final List<String> kinds;
  private final int modelChannels;
  private final int samples;
  private final List<KeptStep> steps;
  private final Map<String, String> provenance;

  public Trajectory(int width, int height, List<String> kinds, int modelChannels, int samples, List<KeptStep> steps,
      Map<String, String> provenance) {
    if (width < 1 || height < 1 || kinds.isEmpty() || modelChannels < 1 || samples < 1 || steps.isEmpty()) {
      throw new IllegalArgumentException("empty trajectory: " + width + "x" + height + ", kinds " + kinds + " x "
          + modelChannels + ", " + samples + " samples, " + steps.size() + " steps");
    }
    this.width = width;
    this.height = height;
    this.kinds = Collections.unmodifiableList(new ArrayList<>(kinds));
    this.modelChannels = modelChannels;
    this.samples = samples;
    this.steps = Collections.unmodifiableList(new ArrayList<>(steps));
    this.provenance = Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  /** The kinds of channel, in channel order, e.g. [x_t, x0_pred, eps_pred]. */
  public List<String> kinds() {
    return kinds;
  }

  public int modelChannels() {
    return modelChannels;
  }

  /** Channels of the hyperstack: kinds x model channels. */
  public int channels() {
    return kinds.size() * modelChannels;
  }

  public int samples() {
    return samples;
  }

  /** The kept steps, in sampling order (high t first). */
  public List<KeptStep> steps() {
    return steps;
  }

  public Map<String, String> provenance() {
    return provenance;
  }

  public int planeCount() {
    return channels() * samples * steps.size();
  }

  /** The channel of kind {@code kind} and model channel {@code modelChannel} (0-based), or -1 without that kind. */
  public int channel(String kind, int modelChannel) {
    int k = kinds.indexOf(kind);
    return k < 0 ? -1 : k * modelChannels + modelChannel;
  }

  /** 0-based plane index of (channel, sample, kept step), ImageJ order. */
  public int planeIndex(int channel, int sample, int kept) {
    return StreamingTiffWriter.planeIndex(channel, sample, kept, channels(), samples);
  }

  /** Channel names: the kind, with the 1-based model channel in brackets when there are several. */
  public List<String> channelNames() {
    List<String> names = new ArrayList<>();
    for (String k : kinds) {
      for (int c = 0; c < modelChannels; c++) names.add(k + (modelChannels > 1 ? "[" + (c + 1) + "]" : ""));
    }
    return names;
  }

  /** σ_t = sqrt(1 − ᾱ_t): the noise level of x_t = sqrt(ᾱ_t) x_0 + σ_t ε. */
  public static double sigma(double alphaCumprod) {
    return Math.sqrt(Math.max(0, 1 - alphaCumprod));
  }

  /** The slice label of a plane, e.g. {@code x0_pred sample 2 step 31 t=380 abar=0.237}. */
  public String label(int channel, int sample, int kept) {
    KeptStep s = steps.get(kept);
    return channelNames().get(channel) + " sample " + (sample + 1) + String.format(Locale.ROOT,
        " step %d t=%d abar=%.6g", s.stepIndex + 1, s.timestep, s.alphaCumprod);
  }

  /**
   * The layout as ImageJ properties ({@code trajectory.*}); ᾱ_t as the float32 values the sampler used; the provenance
   * as one JSON object (ImageJ keeps properties unordered and drops empty ones).
   */
  public Map<String, String> properties() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(KINDS, String.join(",", kinds));
    m.put(MODEL_CHANNELS, Integer.toString(modelChannels));
    m.put(SAMPLES, Integer.toString(samples));
    List<String> step = new ArrayList<>(), t = new ArrayList<>(), a = new ArrayList<>();
    for (KeptStep s : steps) {
      step.add(Integer.toString(s.stepIndex + 1));
      t.add(Integer.toString(s.timestep));
      a.add(Float.toString((float) s.alphaCumprod));
    }
    m.put(STEP, String.join(",", step));
    m.put(TIMESTEP, String.join(",", t));
    m.put(ALPHA, String.join(",", a));
    m.put(PROVENANCE, new Gson().toJson(provenance));
    return m;
  }

  /**
   * Every property an image of this trajectory carries: each provenance entry, the layout ({@link #properties()}) and
   * the provenance as {@code Info}.
   */
  public Map<String, String> imageProperties() {
    Map<String, String> m = new LinkedHashMap<>(provenance);
    m.putAll(properties());
    m.put("Info", InfoText.of(provenance));
    return m;
  }

  /** A writer for this trajectory as an ImageJ hyperstack TIFF, with the layout and provenance as properties. */
  public StreamingTiffWriter imagejWriter(Path target) {
    StreamingTiffWriter w = new StreamingTiffWriter(target, width, height, channels(), samples, steps.size());
    w.info(InfoText.of(provenance));
    for (Map.Entry<String, String> e : provenance.entrySet()) w.property(e.getKey(), e.getValue());
    for (Map.Entry<String, String> e : properties().entrySet()) w.property(e.getKey(), e.getValue());
    return w;
  }

  /**
   * A writer for this trajectory as OME-TIFF: one Image "Trajectory", C = channels (named), Z = samples, T = kept
   * steps; a map annotation per kept step (step, timestep, alpha_cumprod, sigma) linked to its planes, the provenance
   * as a map annotation linked to the image, and the provenance as Info for ImageJ's own reader.
   */
  public OmeTiffWriter omeTiffWriter(Path target, StreamingTiffWriter.Compression compression) {
    OmeTiffWriter w = new OmeTiffWriter(target, width, height, channelNames(), samples, steps.size(), compression);
    w.imageName("Trajectory").info(InfoText.of(provenance));
    w.imageAnnotation(PROVENANCE_NAMESPACE, provenance);
    for (KeptStep s : steps) {
      Map<String, String> v = new LinkedHashMap<>();
      v.put("step", Integer.toString(s.stepIndex + 1));
      v.put("timestep", Integer.toString(s.timestep));
      v.put("alpha_cumprod", Float.toString((float) s.alphaCumprod));
      v.put("sigma", Double.toString(sigma((float) s.alphaCumprod)));
      w.timeAnnotation(s.keptIndex, STEP_NAMESPACE, v);
    }
    return w;
  }

  // ------------------------------------------------------------------------------------------------ reading

  /**
   * The trajectory an image holds: from its {@code trajectory.*} properties (the Trajectory hyperstack of Synthesize,
   * {@code trajectory.tif}), else from the OME-XML of the file it was read from ({@code trajectory.ome.tif}).
   *
   * @throws UserException if the image is not a trajectory, or its dimensions or type do not fit its metadata
   */
  public static Trajectory of(Planes image) {
    Trajectory tr;
    Map<String, String> props = image.properties();
    if (props.get(KINDS) != null) {
      tr = fromProperties(props, image.width(), image.height(), image.name());
    } else {
      String desc = image.description();
      if (desc == null || !desc.trim().endsWith("OME>")) throw notATrajectory(image.name());
      tr = fromOmeXml(desc, image.name());
    }
    tr.check(image);
    return tr;
  }

  private static UserException notATrajectory(String title) {
    return new UserException("\"" + title + "\" is not a trajectory: it has neither the trajectory.* properties nor "
        + "the OME-XML step annotations that Synthesize writes. Use the Trajectory hyperstack of Synthesize "
        + "(keep_every > 0), or its trajectory.tif or trajectory.ome.tif.");
  }

  private void check(Planes imp) {
    String title = "\"" + imp.name() + "\"";
    if (imp.bitDepth() != 32) {
      throw new UserException(title + " is a " + imp.bitDepth() + "-bit image; a trajectory is 32-bit float. Use "
          + "the trajectory as Synthesize wrote it.");
    }
    if (imp.width() != width || imp.height() != height) {
      throw new UserException(title + " is " + imp.width() + "x" + imp.height() + " but its trajectory "
          + "metadata says " + width + "x" + height + ". Use the trajectory as Synthesize wrote it.");
    }
    boolean dims = imp.channels() == channels() && imp.slices() == samples && imp.frames() == steps.size();
    boolean plain = imp.channels() == 1 && imp.frames() == 1 && imp.planeCount() == planeCount();
    if (!dims && !plain) {
      throw new UserException(String.format(Locale.ROOT, "%s has %d channels x %d slices x %d frames, but its "
          + "trajectory metadata says %d channels (%s) x %d samples x %d kept steps. Undo the change of dimensions "
          + "(Image > Hyperstacks) or use the trajectory as Synthesize wrote it.", title, imp.channels(),
          imp.slices(), imp.frames(), channels(), String.join(", ", channelNames()), samples, steps.size()));
    }
  }

  private static Trajectory fromProperties(Map<String, String> imp, int width, int height, String title) {
    String where = "\"" + title + "\"";
    try {
      List<String> kinds = List.of(imp.get(KINDS).split(","));
      int c = Integer.parseInt(prop(imp, MODEL_CHANNELS));
      int s = Integer.parseInt(prop(imp, SAMPLES));
      String[] step = prop(imp, STEP).split(","), t = prop(imp, TIMESTEP).split(","), a = prop(imp, ALPHA).split(",");
      if (step.length != t.length || step.length != a.length) throw new IllegalArgumentException("list lengths");
      List<KeptStep> steps = new ArrayList<>();
      for (int k = 0; k < step.length; k++) {
        steps.add(new KeptStep(k, Integer.parseInt(step[k].trim()) - 1, Integer.parseInt(t[k].trim()),
            Float.parseFloat(a[k].trim())));
      }
      Map<String, String> prov = new Gson().fromJson(prop(imp, PROVENANCE),
          new TypeToken<LinkedHashMap<String, String>>() {}.getType());
      return new Trajectory(width, height, kinds, c, s, steps, prov);
    } catch (RuntimeException e) {
      throw new UserException(where + " has damaged trajectory.* properties (" + e.getMessage() + "). Use the "
          + "trajectory as Synthesize wrote it.", e);
    }
  }

  private static String prop(Map<String, String> imp, String key) {
    String v = imp.get(key);
    if (v == null) throw new IllegalArgumentException(key + " is missing");
    return v;
  }

  /**
   * The trajectory described by the OME-XML of a {@code trajectory.ome.tif}.
   *
   * @throws UserException when the XML is not such a trajectory
   */
  static Trajectory fromOmeXml(String xml, String title) {
    String where = "\"" + title + "\"";
    Document doc;
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setNamespaceAware(true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      doc = f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
    } catch (ParserConfigurationException | SAXException | IOException e) {
      throw new UserException(where + " has damaged OME-XML (" + e.getMessage() + ").", e);
    }
    Element pixels = first(doc.getDocumentElement(), "Pixels");
    if (pixels == null) throw notATrajectory(title);
    Map<String, Element> annotations = new HashMap<>();
    for (Element m : all(doc.getDocumentElement(), "MapAnnotation")) annotations.put(m.getAttribute("ID"), m);
    try {
      if (!"XYCZT".equals(pixels.getAttribute("DimensionOrder"))) {
        throw new IllegalArgumentException("DimensionOrder " + pixels.getAttribute("DimensionOrder") + ", not XYCZT");
      }
      int sizeT = Integer.parseInt(pixels.getAttribute("SizeT"));
      Map<String, String>[] step = stepAnnotations(pixels, annotations, sizeT);
      if (step == null) throw notATrajectory(title);
      List<KeptStep> steps = new ArrayList<>();
      for (int k = 0; k < sizeT; k++) {
        steps.add(new KeptStep(k, Integer.parseInt(step[k].get("step")) - 1, Integer.parseInt(step[k].get("timestep")),
            Float.parseFloat(step[k].get("alpha_cumprod"))));
      }
      List<String> names = new ArrayList<>();
      for (Element c : all(pixels, "Channel")) names.add(c.getAttribute("Name"));
      List<String> kinds = new ArrayList<>();
      for (String n : names) {
        String kind = n.replaceFirst("\\[\\d+]$", "");
        if (!kinds.contains(kind)) kinds.add(kind);
      }
      int c = names.size() / kinds.size();
      Map<String, String> prov = new LinkedHashMap<>();
      Element image = first(doc.getDocumentElement(), "Image");
      for (Element ref : children(image, "AnnotationRef")) {
        Element m = annotations.get(ref.getAttribute("ID"));
        if (m != null && PROVENANCE_NAMESPACE.equals(m.getAttribute("Namespace"))) prov.putAll(values(m));
      }
      Trajectory tr = new Trajectory(Integer.parseInt(pixels.getAttribute("SizeX")),
          Integer.parseInt(pixels.getAttribute("SizeY")), kinds, c, Integer.parseInt(pixels.getAttribute("SizeZ")),
          steps, prov);
      if (!tr.channelNames().equals(names)) throw new IllegalArgumentException("channel names " + names);
      return tr;
    } catch (RuntimeException e) {
      if (e instanceof UserException) throw e;
      throw new UserException(where + " has OME-XML that does not describe a trajectory as Synthesize writes it ("
          + e.getMessage() + ").", e);
    }
  }

  /** The step annotation of each time point (via the planes' annotation references), or null when any is missing. */
  @SuppressWarnings("unchecked")
  private static Map<String, String>[] stepAnnotations(Element pixels, Map<String, Element> annotations, int sizeT) {
    Map<String, String>[] step = new Map[sizeT];
    for (Element plane : children(pixels, "Plane")) {
      int t = Integer.parseInt(plane.getAttribute("TheT"));
      for (Element ref : children(plane, "AnnotationRef")) {
        Element m = annotations.get(ref.getAttribute("ID"));
        if (m != null && STEP_NAMESPACE.equals(m.getAttribute("Namespace")) && t >= 0 && t < sizeT) {
          step[t] = values(m);
        }
      }
    }
    for (Map<String, String> s : step) {
      if (s == null) return null;
    }
    return step;
  }

  private static Map<String, String> values(Element mapAnnotation) {
    Map<String, String> m = new LinkedHashMap<>();
    for (Element e : all(mapAnnotation, "M")) m.put(e.getAttribute("K"), e.getTextContent());
    return m;
  }

  private static Element first(Element root, String name) {
    List<Element> l = all(root, name);
    return l.isEmpty() ? null : l.get(0);
  }

  private static List<Element> all(Element root, String name) {
    List<Element> out = new ArrayList<>();
    NodeList nl = root.getElementsByTagNameNS("*", name);
    for (int i = 0; i < nl.getLength(); i++) out.add((Element) nl.item(i));
    return out;
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> out = new ArrayList<>();
    if (parent == null) return out;
    for (org.w3c.dom.Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element && name.equals(n.getLocalName())) out.add((Element) n);
    }
    return out;
  }
}
