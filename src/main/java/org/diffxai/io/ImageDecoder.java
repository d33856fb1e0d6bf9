package org.diffxai.io;

import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileInfo;
import ij.io.Opener;
import ij.process.ColorProcessor;
import ij.process.ImageProcessor;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.diffxai.core.UserException;

/**
 * Decodes one image file, or converts one open ImageJ image, into grey float planes in the image's own intensity units
 * under the input policy of docs/input-images.md, with a {@link InputImages.Note} saying what was converted. Files are
 * recognised by their first bytes, not their names: TIFF through ImageJ's reader after {@link TiffCheck}; PNG, JPEG,
 * GIF and BMP through Java ImageIO, refusing any decoder warning (a truncated JPEG decodes with grey rows and only a
 * warning); DICOM through {@link DicomReader}; anything else through ImageJ's {@link Opener} (FITS, PGM, ImageJ ZIP,
 * ...).
 */
final class ImageDecoder {
  /** A DICOM attribute line as ImageJ's DICOM reader writes it into labels and the Info property. */
  private static final Pattern DICOM_LINE = Pattern.compile("(?m)^[0-9A-Fa-f]{4},[0-9A-Fa-f]{4}\\s");
  private static final Pattern BITS_STORED = Pattern.compile("(?m)^0028,0101\\s+Bits Stored:\\s*(\\d+)");

  private ImageDecoder() {}

  /** One image's planes and what was done to them. */
  static final class Decoded {
    final FloatStack stack;
    final InputImages.Note note;
    /** DICOM only: InstanceNumber (or null) and position along the slice normal (or NaN), for series order. */
    boolean dicom;
    Integer instance;
    double along = Double.NaN;

    Decoded(FloatStack stack, InputImages.Note note) {
      this.stack = stack;
      this.note = note;
    }
  }

  /** The first bytes of a file (up to 132: enough for TIFF, PNG, JPEG, GIF, BMP and DICOM signatures). */
  static byte[] head(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readNBytes(132);
    } catch (IOException e) {
      throw new UserException("Cannot read " + file + ": " + e.getMessage() + ". Check that the file is readable.", e);
    }
  }

  /** Checks that {@code file} is a readable, non-empty regular file. */
  static void requireFile(Path file) {
    if (!Files.exists(file)) throw new UserException(file + " does not exist. Check the path.");
    if (Files.isDirectory(file)) throw new UserException(file + " is a folder. Choose an image file.");
    if (!Files.isReadable(file)) {
      throw new UserException("Cannot read " + file + ": permission denied. Check the file's permissions.");
    }
    try {
      if (Files.size(file) == 0) {
        throw new UserException("Cannot open " + file + ": the file is empty (0 bytes). Copy the complete file"
            + " again, or remove it.");
      }
    } catch (IOException e) {
      throw new UserException("Cannot read " + file + ": " + e.getMessage() + ". Check that the file is readable.", e);
    }
  }

  /**
   * Decodes a file.
   *
   * @param channels 1 for the grey policy; more to keep that many channels of a multi-channel image
   * @throws UserException naming the file for an empty, truncated, damaged or unsupported file
   */
  static Decoded decode(Path file, String name, int channels) {
    requireFile(file);
    byte[] head = head(file);
    if (TiffCheck.isTiff(head)) return tiff(file, name, channels);
    if (DicomReader.isDicom(head)) return dicom(file, name, channels);
    if (isImageIo(head)) return imageIo(file, name, channels);
    throw new UserException("Cannot open " + file + ": by its content it is not a TIFF, PNG, JPEG, GIF, BMP or DICOM"
        + " image" + (head.length >= 2 && head[0] == 'P' && head[1] == 'K' ? " (it is a ZIP archive: unpack it)" : "")
        + ". Save it in one of these formats (in Fiji: File > Save As > Tiff...).");
  }

  /** PNG, JPEG, GIF or BMP signature. */
  static boolean isImageIo(byte[] h) {
    boolean png = h.length >= 8 && (h[0] & 0xff) == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G';
    boolean jpeg = h.length >= 3 && (h[0] & 0xff) == 0xFF && (h[1] & 0xff) == 0xD8 && (h[2] & 0xff) == 0xFF;
    boolean gif = h.length >= 4 && h[0] == 'G' && h[1] == 'I' && h[2] == 'F' && h[3] == '8';
    boolean bmp = h.length >= 2 && h[0] == 'B' && h[1] == 'M';
    return png || jpeg || gif || bmp;
  }

  // ------------------------------------------------------------------------------------------------------------ TIFF

  private static Decoded tiff(Path file, String name, int channels) {
    TiffCheck.Info info = TiffCheck.check(file);
    String why = info.unsupported();
    if (why != null) throw new UserException("Cannot open " + file + ": " + why + ".");
    ImagePlus imp = ImageReaders.openTiff(file, false);
    try {
      Decoded d = fromImagePlus(imp, name, channels, file.toString());
      if (info.alpha) d.note.alpha("alpha channel ignored (ImageJ reads R, G, B)");
      if (d.stack.sampleCount() > 1) return d;
      // One image: labelled by its file, not by ImageJ's label (file name plus the TIFF description).
      float[][] planes = new float[d.stack.planeCount()][];
      String[] labels = new String[planes.length];
      for (int i = 0; i < planes.length; i++) {
        planes[i] = d.stack.plane(i);
        labels[i] = name;
      }
      FloatStack st = d.stack;
      return new Decoded(new FloatStack(st.width, st.height, st.channels, 1, 1, planes, labels), d.note);
    } finally {
      imp.close();
    }
  }

  // ----------------------------------------------------------------------------------------------------------- DICOM

  private static Decoded dicom(Path file, String name, int channels) {
    DicomReader.Image d = DicomReader.read(file);
    if (channels != 1) {
      throw new UserException(file + " is a DICOM image with one grey channel, but " + channels + " channels are"
          + " needed. Choose a model that takes grey images.");
    }
    InputImages.Note note = new InputImages.Note(name, d.columns, d.rows, d.frames);
    for (String c : d.conversions) note.convert(c);
    note.series = d.seriesHash;
    note.rescaled = d.rescaled;
    note.inverted = d.inverted;
    if (d.colour != null) note.colour(d.colour, "DICOM RGB");
    String[] labels = new String[d.frames];
    for (int f = 0; f < d.frames; f++) labels[f] = d.frames == 1 ? name : name + " frame " + (f + 1);
    requireFinite(d.planes, d.columns, file.toString());
    Decoded out = new Decoded(new FloatStack(d.columns, d.rows, 1, d.frames, 1, d.planes, labels), note);
    out.dicom = true;
    out.instance = d.instance;
    out.along = d.alongNormal();
    return out;
  }

  // ------------------------------------------------------------------------------------------------- PNG JPEG GIF BMP

  private static Decoded imageIo(Path file, String name, int channels) {
    List<String> warnings = new ArrayList<>();
    BufferedImage im;
    String format = "";
    try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
      Iterator<ImageReader> it = in == null ? null : ImageIO.getImageReaders(in);
      if (it == null || !it.hasNext()) {
        throw new UserException("Cannot open " + file + ": no decoder recognises it. Use a TIFF, PNG, JPEG, GIF, BMP"
            + " or DICOM image.");
      }
      ImageReader r = it.next();
      try {
        format = r.getFormatName().toUpperCase(Locale.ROOT);
        r.setInput(in);
        r.addIIOReadWarningListener((src, w) -> warnings.add(w));
        im = r.read(0);
        if (format.equals("GIF") && r.getNumImages(true) > 1) {
          throw new UserException("Cannot use " + file + ": it is an animated GIF with " + r.getNumImages(true)
              + " frames. Save the frame you want as its own image, or save the frames as a TIFF stack.");
        }
      } finally {
        r.dispose();
      }
    } catch (IIOException e) {
      throw TiffCheck.truncated(file, "the " + (format.isEmpty() ? "image" : format) + " decoder says: "
          + e.getMessage());
    } catch (IOException | RuntimeException e) {
      if (e instanceof UserException) throw (UserException) e;
      throw TiffCheck.truncated(file, "the " + (format.isEmpty() ? "image" : format) + " decoder says: " + e);
    }
    if (!warnings.isEmpty()) {
      throw TiffCheck.truncated(file, "the " + format + " decoder says: " + String.join("; ", warnings));
    }
    int w = im.getWidth();
    int h = im.getHeight();
    InputImages.Note note = new InputImages.Note(name, w, h, 1);
    ColorModel cm = im.getColorModel();
    Raster ras = im.getRaster();
    int bands = ras.getNumBands();
    int bits = cm.getComponentSize(0);
    float[][] out;
    if (cm instanceof IndexColorModel) {
      IndexColorModel icm = (IndexColorModel) cm;
      int[] idx = ras.getSamples(0, 0, w, h, 0, (int[]) null);
      int[] rgb = new int[idx.length];
      boolean transparent = false;
      for (int i = 0; i < idx.length; i++) {
        int argb = icm.getRGB(idx[i]);
        rgb[i] = argb;
        transparent |= (argb >>> 24) != 0xff;
      }
      note.palette("palette of " + icm.getMapSize() + " colours: each index replaced by its colour");
      GreyRule.Grey g = GreyRule.ofPacked(rgb);
      note.colour(g, "palette");
      if (transparent) note.alpha("transparency ignored");
      out = channels == 1 ? new float[][] {g.values} : split(rgb, channels, file);
    } else if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
      if (channels != 1) throw channelsNeeded(file, 1, channels);
      float[][] v = bands(ras);
      if (cm.hasAlpha() || bands > 1) note.alpha(alphaNote(v[bands - 1], bits));
      out = new float[][] {v[0]};
    } else if (cm.getColorSpace().getType() == ColorSpace.TYPE_RGB && bands >= 3) {
      float[][] v = bands(ras);
      float[] r = v[0];
      float[] g = v[1];
      float[] b = v[2];
      if (bands > 3) note.alpha(alphaNote(v[3], cm.getComponentSize(3)));
      if (channels == 3) {
        out = new float[][] {r, g, b};
      } else if (channels == 1) {
        GreyRule.Grey grey = GreyRule.ofPlanes(r, g, b, (1 << bits) - 1);
        note.colour(grey, bits > 8 ? bits + "-bit RGB" : "RGB");
        out = new float[][] {grey.values};
      } else {
        throw channelsNeeded(file, 3, channels);
      }
    } else {
      throw new UserException("Cannot open " + file + ": its colour space (" + cm.getColorSpace().getType() + ", "
          + bands + " bands) is not grey or RGB. Convert it to RGB or grey (e.g. in Fiji: Image > Type > RGB Color)"
          + " and save it again.");
    }
    requireFinite(out, w, file.toString());
    return new Decoded(new FloatStack(w, h, out.length, 1, 1, out, new String[] {name}), note);
  }

  private static float[][] split(int[] rgb, int channels, Path file) {
    if (channels != 3) throw channelsNeeded(file, 3, channels);
    float[][] out = new float[3][rgb.length];
    for (int i = 0; i < rgb.length; i++) {
      out[0][i] = (rgb[i] >> 16) & 0xff;
      out[1][i] = (rgb[i] >> 8) & 0xff;
      out[2][i] = rgb[i] & 0xff;
    }
    return out;
  }

  private static String alphaNote(float[] a, int bits) {
    int opaque = (1 << bits) - 1;
    long not = 0;
    for (float v : a) if (v != opaque) not++;
    return String.format(Locale.ROOT, "alpha channel ignored (%.2f %% of pixels not opaque)", 100.0 * not / a.length);
  }

  /**
   * Every band of a raster as float, band order. Byte and unsigned-short rasters with one element per band (what the
   * JPEG, PNG and BMP readers return) are read in one bulk call; others sample by sample.
   */
  static float[][] bands(Raster ras) {
    int w = ras.getWidth();
    int h = ras.getHeight();
    int nb = ras.getNumBands();
    int n = w * h;
    float[][] out = new float[nb][n];
    SampleModel sm = ras.getSampleModel();
    int type = sm.getTransferType();
    if (sm.getNumDataElements() == nb && (type == DataBuffer.TYPE_BYTE || type == DataBuffer.TYPE_USHORT)) {
      Object de = ras.getDataElements(ras.getMinX(), ras.getMinY(), w, h, null);
      if (de instanceof byte[]) {
        byte[] b = (byte[]) de;
        for (int i = 0, k = 0; i < n; i++) for (int c = 0; c < nb; c++) out[c][i] = b[k++] & 0xff;
      } else {
        short[] b = (short[]) de;
        for (int i = 0, k = 0; i < n; i++) for (int c = 0; c < nb; c++) out[c][i] = b[k++] & 0xffff;
      }
      return out;
    }
    for (int c = 0; c < nb; c++) ras.getSamples(ras.getMinX(), ras.getMinY(), w, h, c, out[c]);
    return out;
  }

  private static UserException channelsNeeded(Path file, int has, int need) {
    return new UserException(file + " has " + has + " channel" + (has == 1 ? "" : "s") + " but " + need + " are"
        + " needed. Use images with " + need + " channel" + (need == 1 ? "" : "s") + ".");
  }

  // ------------------------------------------------------------------------------------------------------- ImagePlus

  /**
   * The planes of an ImageJ image under the policy: 8- and 16-bit values through the image's calibration (signed
   * 16-bit, DICOM rescale), an inverting LUT applied to the stored values ({@code (2^bits − 1) − v}, bits = the DICOM
   * Bits Stored when ImageJ's DICOM header says so, else 8 or 16), a palette read from the file (the colour map of a
   * TIFF not written by ImageJ, whose colour maps are display LUTs) replaced by its colours, RGB and 48-bit RGB by the
   * colour rule. Slice labels that carry a DICOM header are cut to
   * their first line (the file name); nothing of the header is kept.
   *
   * @param source the file for messages, or null for an open image
   */
  static Decoded fromImagePlus(ImagePlus imp, String name, int channels, String source) {
    String what = source != null ? source : "The image " + name;
    int c = imp.getNChannels();
    int z = imp.getNSlices();
    int t = imp.getNFrames();
    ImageStack stack = imp.getStack();
    int n = stack.getSize();
    if ((long) c * z * t != n) {
      c = 1;
      z = n;
      t = 1;
    }
    FileInfo fi = imp.getOriginalFileInfo();
    boolean rgb48 = fi != null && fi.fileType == FileInfo.RGB48 && c == 3 && imp.getBitDepth() == 16;
    InputImages.Note note = new InputImages.Note(name, imp.getWidth(), imp.getHeight(), rgb48 ? z * t : n);
    if (channels == 1 && c > 1 && !rgb48) {
      throw new UserException(what + " has " + c + " channels; one grey channel is needed. Keep one channel (Image >"
          + " Color > Split Channels, or Image > Duplicate... with one channel) and use that.");
    }
    if (channels > 1 && c != channels && !(channels == 3 && imp.getBitDepth() == 24)) {
      throw channelsNeeded(source == null ? java.nio.file.Paths.get(name) : java.nio.file.Paths.get(source), c,
          channels);
    }
    String info = imp.getInfoProperty();
    boolean dicomHeader = info != null && isDicomHeader(info);
    int w = imp.getWidth();
    int h = imp.getHeight();
    List<float[]> planes = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    if (rgb48 && channels == 1) {
      for (int s = 0; s < z * t; s++) {
        float[] r = toFloat(stack.getProcessor(s * 3 + 1));
        float[] g = toFloat(stack.getProcessor(s * 3 + 2));
        float[] b = toFloat(stack.getProcessor(s * 3 + 3));
        GreyRule.Grey grey = GreyRule.ofPlanes(r, g, b, 65535);
        note.colour(grey, "48-bit RGB");
        planes.add(grey.values);
        labels.add(safeLabel(stack.getSliceLabel(s * 3 + 1), dicomHeader));
      }
      return finish(w, h, 1, z, t, planes, labels, note, what);
    }
    // A colour map in a TIFF ImageJ wrote is a display LUT over data values (ImageJ saves an 8-bit image's LUT so); in
    // other files it is a palette whose indices mean nothing without it.
    boolean colourMap = fi != null && fi.fileType == FileInfo.COLOR8 && imp.getBitDepth() == 8;
    boolean imagejLut = colourMap && fi.description != null && fi.description.startsWith("ImageJ=");
    boolean palette = colourMap && !imagejLut;
    if (imagejLut && imp.getProcessor().isColorLut()) note.convert("ImageJ display LUT ignored (values are data)");
    boolean invert = !palette && imp.isInvertedLut() && imp.getBitDepth() != 24;
    int invertBits = imp.getBitDepth() == 8 ? 8 : 16;
    if (invert && dicomHeader) {
      Matcher m = BITS_STORED.matcher(info);
      if (m.find()) invertBits = Math.min(16, Integer.parseInt(m.group(1)));
    }
    if (invert && imp.getBitDepth() == 32) {
      invert = false;
      note.convert("inverting LUT of a 32-bit image ignored (values used as they are)");
    } else if (invert) {
      note.inverted = true;
      note.convert("inverting LUT applied: " + ((1 << invertBits) - 1) + " - v");
    }
    float[] ctable = imp.getCalibration().getCTable();
    if (ctable != null && imp.getBitDepth() != 24 && imp.getBitDepth() != 32) {
      note.convert("calibration function applied (" + imp.getCalibration().getValueUnit() + ")");
    }
    for (int i = 0; i < n; i++) {
      ImageProcessor ip = stack.getProcessor(i + 1);
      if (ip instanceof ColorProcessor) {
        if (channels == 3) {
          float[][] s = split((int[]) ip.getPixels(), 3, java.nio.file.Paths.get(name));
          for (float[] p : s) {
            planes.add(p);
            labels.add(safeLabel(stack.getSliceLabel(i + 1), dicomHeader));
          }
          continue;
        }
        GreyRule.Grey g = GreyRule.ofPacked((int[]) ip.getPixels());
        note.colour(g, "RGB");
        planes.add(g.values);
      } else if (palette) {
        int[] rgb = paletteToRgb(ip);
        note.palette("palette (TIFF colour map): each index replaced by its colour");
        GreyRule.Grey g = GreyRule.ofPacked(rgb);
        note.colour(g, "palette");
        planes.add(g.values);
      } else {
        float[] v = new float[w * h];
        int max = (1 << invertBits) - 1;
        for (int k = 0; k < v.length; k++) {
          float raw = ip.getf(k);
          if (invert) raw = max - raw;
          v[k] = ctable != null && imp.getBitDepth() != 32 ? ctable[(int) raw] : raw;
        }
        planes.add(v);
      }
      labels.add(safeLabel(stack.getSliceLabel(i + 1), dicomHeader));
    }
    if (channels > 1 && imp.getBitDepth() == 24) return finish(w, h, 3, n, 1, planes, labels, note, what);
    return finish(w, h, channels > 1 ? c : 1, channels > 1 ? z : n, channels > 1 ? t : 1, planes, labels, note, what);
  }

  private static Decoded finish(int w, int h, int c, int z, int t, List<float[]> planes, List<String> labels,
      InputImages.Note note, String what) {
    float[][] p = planes.toArray(new float[0][]);
    requireFinite(p, w, what);
    return new Decoded(new FloatStack(w, h, c, z, t, p, labels.toArray(new String[0])), note);
  }

  private static float[] toFloat(ImageProcessor ip) {
    float[] v = new float[ip.getPixelCount()];
    for (int k = 0; k < v.length; k++) v[k] = ip.getf(k);
    return v;
  }

  private static int[] paletteToRgb(ImageProcessor ip) {
    IndexColorModel cm = (IndexColorModel) ip.getColorModel();
    byte[] idx = (byte[]) ip.getPixels();
    int[] out = new int[idx.length];
    for (int i = 0; i < idx.length; i++) out[i] = cm.getRGB(idx[i] & 0xff);
    return out;
  }

  /** Whether text holds DICOM attribute lines as ImageJ's DICOM reader writes them ("0010,0010  Patient's Name: ..."). */
  static boolean isDicomHeader(String text) {
    return DICOM_LINE.matcher(text).find();
  }

  /**
   * A slice label without any DICOM header: ImageJ's DICOM reader puts the file name and then the whole header
   * (patient name included) into each slice label; only a first line that is not an attribute is kept.
   */
  static String safeLabel(String label, boolean dicomImage) {
    if (label == null) return null;
    if (!dicomImage && !DICOM_LINE.matcher(label).find()) return label;
    String first = label.split("\n", 2)[0].trim();
    return first.isEmpty() || DICOM_LINE.matcher(first + " ").find() || first.contains(":") ? null : first;
  }

  /**
   * Every value must be finite.
   *
   * @throws UserException naming the image, the plane and the pixel
   */
  static void requireFinite(float[][] planes, int width, String what) {
    for (int s = 0; s < planes.length; s++) {
      float[] p = planes[s];
      for (int i = 0; i < p.length; i++) {
        if (!Float.isFinite(p[i])) {
          throw new UserException(what + (planes.length > 1 ? ", plane " + (s + 1) + "," : "") + " has a "
              + (Float.isNaN(p[i]) ? "NaN" : "infinite") + " value at x=" + (i % width) + ", y=" + (i / width)
              + ". Replace non-finite values (Process > Math > Remove NaNs...) first.");
        }
      }
    }
  }
}
