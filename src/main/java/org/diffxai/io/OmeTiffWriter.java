package org.diffxai.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import ome.units.UNITS;
import ome.units.quantity.Length;
import ome.units.unit.Unit;
import ome.xml.meta.OMEXMLMetadataImpl;
import ome.xml.model.MapPair;
import ome.xml.model.enums.DimensionOrder;
import ome.xml.model.enums.PixelType;
import ome.xml.model.primitives.NonNegativeInteger;
import ome.xml.model.primitives.PositiveInteger;
import org.diffxai.Version;
import org.diffxai.core.UserException;
import org.diffxai.io.StreamingTiffWriter.Compression;

/**
 * Writes a 32-bit float OME-TIFF (one OME Image of C channels x Z x T planes) plane by plane, on top of
 * {@link StreamingTiffWriter}: memory stays flat, the file appears atomically on {@link #close()}, a failed or aborted
 * write leaves nothing, and the file becomes a BigTIFF when it outgrows 4 GiB.
 *
 * <p>The OME-XML (built with the OME data model, {@code ome.xml.meta.OMEXMLMetadataImpl}, schema 2016-06) goes into
 * the first IFD's ImageDescription, as the OME-TIFF specification requires: {@code Pixels} with
 * {@code DimensionOrder="XYCZT"} (the order planes arrive in, which is ImageJ's: channel fastest, then z, then t),
 * {@code Type="float"}, the named {@code Channel}s, one {@code TiffData} mapping IFD 0 onwards to all planes, one
 * {@code Plane} per IFD with {@code TheC/TheZ/TheT}, and the physical pixel size when known. Key-value metadata goes
 * into {@code MapAnnotation}s: those of the image are linked to the {@code Image}, those of a time point to every
 * {@code Plane} of that time point. Non-ASCII characters are written as XML character references, so the description
 * is plain ASCII as TIFF asks. The metadata must be set before the first plane: the OME-XML is then built in the
 * background while the planes are written.
 *
 * <p>Slice labels and an info text are also stored in ImageJ's metadata tags, which ImageJ's own TIFF reader (used
 * when Bio-Formats is not installed) applies to the stack of planes it opens (1.54p; 1.53t applies the labels only to
 * a virtual stack).
 */
public final class OmeTiffWriter implements AutoCloseable {

  private final StreamingTiffWriter tiff;
  private final int width, height, sizeZ, sizeT;
  private final List<String> channelNames;
  private final List<Map.Entry<String, Map<String, String>>> imageAnnotations = new ArrayList<>();
  private final Map<Integer, Map.Entry<String, Map<String, String>>> timeAnnotations = new LinkedHashMap<>();
  private String imageName = "";
  private Length physicalX, physicalY;
  /** The OME-XML, built in the background from the first plane on (the metadata is complete by then). */
  private CompletableFuture<String> xml;

  /**
   * Opens a writer for {@code channelNames.size() * sizeZ * sizeT} planes of {@code width x height} float32 pixels.
   *
   * @throws UserException if the directory cannot be written
   */
  public OmeTiffWriter(Path target, int width, int height, List<String> channelNames, int sizeZ, int sizeT,
      Compression compression) {
    this(StreamingTiffWriter.plain(target, width, height, planes(channelNames, sizeZ, sizeT), compression),
        channelNames, sizeZ, sizeT);
  }

  /** Writes through {@code tiff}, a {@link StreamingTiffWriter#plain} writer for exactly C x Z x T planes. */
  OmeTiffWriter(StreamingTiffWriter tiff, List<String> channelNames, int sizeZ, int sizeT) {
    if (tiff.planeCount() != planes(channelNames, sizeZ, sizeT)) {
      tiff.abort();
      throw new IllegalArgumentException(tiff.planeCount() + " planes for c=" + channelNames.size() + " z=" + sizeZ
          + " t=" + sizeT);
    }
    this.tiff = tiff;
    this.width = tiff.width();
    this.height = tiff.height();
    this.sizeZ = sizeZ;
    this.sizeT = sizeT;
    this.channelNames = new ArrayList<>(channelNames);
  }

  static int planes(List<String> channelNames, int sizeZ, int sizeT) {
    long n = (long) channelNames.size() * sizeZ * sizeT;
    if (channelNames.isEmpty() || sizeZ < 1 || sizeT < 1 || n > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("c=" + channelNames.size() + " z=" + sizeZ + " t=" + sizeT
          + ": need at least one of each, and fewer than 2^31 planes");
    }
    return (int) n;
  }

  /** The OME Image's name (e.g. "Trajectory"). */
  public OmeTiffWriter imageName(String name) {
    requireNoPlanes();
    this.imageName = name == null ? "" : name;
    return this;
  }

  /**
   * The physical pixel size, with an ImageJ unit name ({@code nm}, {@code µm}/{@code um}/{@code micron}, {@code mm},
   * {@code cm}, {@code m}, {@code inch}).
   *
   * @return false (and nothing is recorded) when the unit has no OME equivalent, e.g. "pixel"
   */
  public boolean physicalSize(double x, double y, String unit) {
    requireNoPlanes();
    Unit<Length> u = lengthUnit(unit);
    if (u == null || !(x > 0) || !(y > 0) || Double.isInfinite(x) || Double.isInfinite(y)) return false;
    physicalX = new Length(x, u);
    physicalY = new Length(y, u);
    return true;
  }

  /** Adds a map annotation (key-value pairs in this order) linked to the image, e.g. its provenance. */
  public OmeTiffWriter imageAnnotation(String namespace, Map<String, String> values) {
    requireNoPlanes();
    imageAnnotations.add(Map.entry(namespace, new LinkedHashMap<>(values)));
    return this;
  }

  /** Sets the map annotation linked to every plane of time point {@code t} (0-based). */
  public OmeTiffWriter timeAnnotation(int t, String namespace, Map<String, String> values) {
    requireNoPlanes();
    if (t < 0 || t >= sizeT) throw new IndexOutOfBoundsException("t=" + t + " of " + sizeT);
    timeAnnotations.put(t, Map.entry(namespace, new LinkedHashMap<>(values)));
    return this;
  }

  private void requireNoPlanes() {
    if (xml != null) throw new IllegalStateException("set the OME metadata before the first plane");
  }

  /** ImageJ's "Info" text, for ImageJ's own reader; may be set any time before {@link #close()}. */
  public OmeTiffWriter info(String info) {
    tiff.info(info);
    return this;
  }

  /** Appends the next plane: channel fastest, then z, then t (XYCZT); row-major. */
  public void writePlane(float[] pixels, String label) {
    if (xml == null) xml = CompletableFuture.supplyAsync(this::omeXml);
    tiff.writePlane(pixels, label);
  }

  public int planesWritten() {
    return tiff.planesWritten();
  }

  public int planeCount() {
    return tiff.planeCount();
  }

  public Path target() {
    return tiff.target();
  }

  /** Whether the closed file is a BigTIFF. */
  public boolean isBigTiff() {
    return tiff.isBigTiff();
  }

  /** Writes the OME-XML and the directories and renames the file into place; see {@link StreamingTiffWriter#close()}. */
  @Override
  public void close() {
    if (tiff.planesWritten() == tiff.planeCount()) {
      try {
        tiff.description(xml.get());
      } catch (InterruptedException e) {
        tiff.abort();
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while building the OME-XML of " + target(), e);
      } catch (ExecutionException e) {
        tiff.abort();
        Throwable cause = e.getCause();
        if (cause instanceof RuntimeException) throw (RuntimeException) cause;
        if (cause instanceof Error) throw (Error) cause;
        throw new IllegalStateException(cause);
      }
    }
    tiff.close();
  }

  /** Deletes the temporary file; safe to call more than once. */
  public void abort() {
    tiff.abort();
  }

  /** The OME-XML of the file, as ASCII. */
  String omeXml() {
    OMEXMLMetadataImpl m = new OMEXMLMetadataImpl();
    m.createRoot();
    m.setCreator("Diffusion XAI for Fiji " + Version.get());
    m.setImageID("Image:0", 0);
    m.setImageName(imageName, 0);
    m.setPixelsID("Pixels:0", 0);
    m.setPixelsDimensionOrder(DimensionOrder.XYCZT, 0);
    m.setPixelsType(PixelType.FLOAT, 0);
    m.setPixelsBigEndian(false, 0);
    m.setPixelsSignificantBits(new PositiveInteger(32), 0);
    m.setPixelsSizeX(new PositiveInteger(width), 0);
    m.setPixelsSizeY(new PositiveInteger(height), 0);
    m.setPixelsSizeC(new PositiveInteger(channelNames.size()), 0);
    m.setPixelsSizeZ(new PositiveInteger(sizeZ), 0);
    m.setPixelsSizeT(new PositiveInteger(sizeT), 0);
    if (physicalX != null) {
      m.setPixelsPhysicalSizeX(physicalX, 0);
      m.setPixelsPhysicalSizeY(physicalY, 0);
    }
    for (int c = 0; c < channelNames.size(); c++) {
      m.setChannelID("Channel:0:" + c, 0, c);
      m.setChannelName(channelNames.get(c), 0, c);
      m.setChannelSamplesPerPixel(new PositiveInteger(1), 0, c);
    }
    m.setTiffDataIFD(new NonNegativeInteger(0), 0, 0);
    m.setTiffDataFirstC(new NonNegativeInteger(0), 0, 0);
    m.setTiffDataFirstZ(new NonNegativeInteger(0), 0, 0);
    m.setTiffDataFirstT(new NonNegativeInteger(0), 0, 0);
    m.setTiffDataPlaneCount(new NonNegativeInteger(tiff.planeCount()), 0, 0);

    int a = 0;
    for (int i = 0; i < imageAnnotations.size(); i++, a++) {
      String id = "Annotation:Image:" + i;
      mapAnnotation(m, a, id, imageAnnotations.get(i));
      m.setImageAnnotationRef(id, 0, i);
    }
    String[] timeIds = new String[sizeT];
    for (Map.Entry<Integer, Map.Entry<String, Map<String, String>>> e : timeAnnotations.entrySet()) {
      timeIds[e.getKey()] = "Annotation:T:" + e.getKey();
      mapAnnotation(m, a++, timeIds[e.getKey()], e.getValue());
    }
    int p = 0;
    for (int t = 0; t < sizeT; t++) {
      for (int z = 0; z < sizeZ; z++) {
        for (int c = 0; c < channelNames.size(); c++, p++) {
          m.setPlaneTheC(new NonNegativeInteger(c), 0, p);
          m.setPlaneTheZ(new NonNegativeInteger(z), 0, p);
          m.setPlaneTheT(new NonNegativeInteger(t), 0, p);
          if (timeIds[t] != null) m.setPlaneAnnotationRef(timeIds[t], 0, p, 0);
        }
      }
    }
    return ascii(m.dumpXML());
  }

  private static void mapAnnotation(OMEXMLMetadataImpl m, int index, String id,
      Map.Entry<String, Map<String, String>> a) {
    m.setMapAnnotationID(id, index);
    m.setMapAnnotationNamespace(a.getKey(), index);
    List<MapPair> pairs = new ArrayList<>();
    for (Map.Entry<String, String> kv : a.getValue().entrySet()) pairs.add(new MapPair(kv.getKey(), kv.getValue()));
    m.setMapAnnotationValue(pairs, index);
  }

  /** Non-ASCII characters as XML character references (valid in attribute values and text, where they can occur). */
  static String ascii(String xml) {
    StringBuilder sb = new StringBuilder(xml.length());
    xml.codePoints().forEach(cp -> {
      if (cp < 128) sb.append((char) cp);
      else sb.append("&#x").append(Integer.toHexString(cp).toUpperCase(Locale.ROOT)).append(';');
    });
    return sb.toString();
  }

  private static Unit<Length> lengthUnit(String unit) {
    if (unit == null) return null;
    switch (unit.trim().toLowerCase(Locale.ROOT)) {
      case "nm":
      case "nanometer":
        return UNITS.NANOMETER;
      case "µm":
      case "\u03bcm":
      case "um":
      case "micron":
      case "microns":
      case "micrometer":
        return UNITS.MICROMETER;
      case "mm":
      case "millimeter":
        return UNITS.MILLIMETER;
      case "cm":
      case "centimeter":
        return UNITS.CENTIMETER;
      case "m":
      case "meter":
        return UNITS.METER;
      case "inch":
      case "inches":
        return UNITS.INCH;
      default:
        return null;
    }
  }
}
