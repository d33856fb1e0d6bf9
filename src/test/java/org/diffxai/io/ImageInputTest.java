package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.io.Opener;
import ij.process.ByteProcessor;
import ij.process.ShortProcessor;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The input policy on small generated files with the real properties of issue 12's data set: non-square sizes, grey
 * JPEGs with chroma noise, RGBA and palette files, truncated and empty files.
 */
class ImageInputTest {
  @TempDir
  Path dir;

  /** A textured grey image (MRI-like: an ellipse, a sinusoidal texture, noise), values 0..255. */
  static int[] grey(int w, int h, long seed) {
    Random r = new Random(seed);
    int[] v = new int[w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        double dx = (x - w / 2.0) / (0.45 * w), dy = (y - h / 2.0) / (0.45 * h);
        double s = 40 + (dx * dx + dy * dy < 1 ? 110 : 0) + 30 * Math.sin(x / 5.0) * Math.cos(y / 7.0)
            + 8 * r.nextGaussian();
        v[y * w + x] = (int) Math.max(0, Math.min(255, Math.round(s)));
      }
    }
    return v;
  }

  static BufferedImage rgb(int w, int h, int[] r, int[] g, int[] b) {
    BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int i = 0; i < w * h; i++) im.setRGB(i % w, i / w, r[i] << 16 | g[i] << 8 | b[i]);
    return im;
  }

  static void jpeg(BufferedImage im, Path f, float quality) throws Exception {
    ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
    ImageWriteParam p = w.getDefaultWriteParam();
    p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    p.setCompressionQuality(quality);
    try (ImageOutputStream os = ImageIO.createImageOutputStream(f.toFile())) {
      w.setOutput(os);
      w.write(null, new IIOImage(im, null, null), p); // YCbCr with 4:2:0 chroma subsampling, Java's default
    } finally {
      w.dispose();
    }
  }

  static Path cut(Path f, double fraction) throws Exception {
    byte[] b = Files.readAllBytes(f);
    String n = f.getFileName().toString();
    Path out = f.resolveSibling("cut_" + n);
    Files.write(out, Arrays.copyOf(b, (int) (b.length * fraction)));
    return out;
  }

  private static float[] read(Path f) {
    return ImageInput.read(f, ImageInput.Settings.original(), null).stack().plane(0);
  }

  @Test
  void fitRulesOnANonSquareImage() throws Exception {
    // 60x40 image: left half 10, right half 200, a 1-pixel frame of 5 (the background the pad takes).
    ByteProcessor bp = new ByteProcessor(60, 40);
    for (int y = 0; y < 40; y++) {
      for (int x = 0; x < 60; x++) bp.set(x, y, x == 0 || y == 0 || x == 59 || y == 39 ? 5 : x < 30 ? 10 : 200);
    }
    Path f = dir.resolve("wide.png");
    assertTrue(new ij.io.FileSaver(new ImagePlus("w", bp)).saveAsPng(f.toString()));

    InputImages pad = ImageInput.read(f, ImageInput.Settings.size(60, 60).fit(Fit.PAD), null);
    float[] p = pad.stack().plane(0);
    assertEquals(5f, p[0], 0f, "border row takes the frame's value");
    assertEquals(5f, p[9 * 60 + 30], 0f, "rows 0..9 are border");
    assertEquals(10f, p[20 * 60 + 10], 0f, "image row 10 is at row 20");
    assertEquals(200f, p[20 * 60 + 40], 0f);
    assertEquals(1, pad.summary().padded);
    assertEquals(0, pad.summary().stretched);
    assertEquals("padded 60x40 to 60x60", pad.notes().get(0).conversions().get(0));

    InputImages crop = ImageInput.read(f, ImageInput.Settings.size(40, 40).fit(Fit.CROP), null);
    float[] c = crop.stack().plane(0);
    assertEquals(10f, c[20 * 40 + 5], 0f, "column 5 shows image column 15");
    assertEquals(200f, c[20 * 40 + 35], 0f);
    assertEquals(1, crop.summary().cropped);

    InputImages stretch = ImageInput.read(f, ImageInput.Settings.size(32, 32).fit(Fit.STRETCH), null);
    assertEquals(1, stretch.summary().stretched);
    assertTrue(stretch.summary().describe().contains("1 STRETCHED (aspect ratio changed)"),
        stretch.summary().describe());
    assertEquals(1, stretch.summary().toMap().get("input_stretched"));
    // The default is PAD, everywhere.
    assertEquals(Fit.PAD, ImageInput.Settings.size(8, 8).fit);
    assertEquals(Fit.PAD, Fit.of(""));
    assertEquals("fit=squash is not a resize rule. Use fit=pad (keep the whole image, add a border; the default),"
        + " fit=crop (cut the longer side) or fit=stretch (distort to the new aspect ratio).",
        assertThrows(UserException.class, () -> Fit.of("squash")).getMessage());
  }

  @Test
  void placementGeometry() {
    Fit.Placement p = Fit.PAD.place(100, 101, 64, 64);
    assertEquals(101, p.rectWidth);
    assertEquals(101, p.rectHeight);
    assertEquals(-1, p.x0);
    assertFalse(p.stretched());
    Fit.Placement c = Fit.CROP.place(300, 100, 64, 32);
    assertEquals(200, c.rectWidth);
    assertEquals(100, c.rectHeight);
    assertEquals(50, c.x0);
    Fit.Placement s = Fit.STRETCH.place(100, 101, 64, 64);
    assertTrue(s.stretched(), "any change of aspect ratio counts");
    assertFalse(Fit.STRETCH.place(128, 64, 64, 32).stretched());
    // toImage inverts apply's geometry: a map of the rectangle is cut to the image (pad) or framed (crop).
    float[] rect = new float[101 * 101];
    for (int i = 0; i < rect.length; i++) rect[i] = i;
    float[] back = p.toImage(rect, -1);
    assertEquals(100 * 101, back.length);
    assertEquals(1f, back[0], 0f); // image (0, 0) is rectangle (1, 0)
  }

  /**
   * Grey JPEGs whose R, G, B differ by a few levels (a grey image with ±2 levels of per-channel noise, e.g. from a
   * colour-managed export, encoded by Java ImageIO with 4:2:0 chroma subsampling) count as grey.
   */
  @Test
  void greyJpegWithChromaNoiseIsGrey() throws Exception {
    int w = 120, h = 90;
    int[] g = grey(w, h, 1);
    Random r = new Random(2);
    int[][] c = new int[3][w * h];
    for (int k = 0; k < 3; k++) {
      for (int i = 0; i < w * h; i++) c[k][i] = Math.max(0, Math.min(255, g[i] + r.nextInt(5) - 2));
    }
    Path f = dir.resolve("noisy.jpg");
    jpeg(rgb(w, h, c[0], c[1], c[2]), f, 0.95f);
    // The file really has chroma noise: some decoded pixels differ between channels.
    BufferedImage back = ImageIO.read(f.toFile());
    int differ = 0;
    for (int i = 0; i < w * h; i++) {
      int p = back.getRGB(i % w, i / w);
      if (((p >> 16) & 0xff) != (p & 0xff) || ((p >> 8) & 0xff) != (p & 0xff)) differ++;
    }
    assertTrue(differ > w * h / 100, "fixture has chroma noise in " + differ + " pixels");
    InputImages in = ImageInput.read(f, ImageInput.Settings.original(), null);
    assertEquals(1, in.summary().greyAsColour);
    assertEquals(0, in.summary().colour);
    assertTrue(in.notes().get(0).conversions().get(0).startsWith("grey stored as RGB (channel spread <= 3 levels"),
        in.notes().get(0).describe());
    // Values: the mean of the decoded channels.
    int p = back.getRGB(7, 5);
    assertEquals((((p >> 16) & 0xff) + ((p >> 8) & 0xff) + (p & 0xff)) / 3f, in.stack().plane(0)[5 * w + 7], 1e-5f);
  }

  @Test
  void trueColourIsConvertedAndCounted() throws Exception {
    int w = 50, h = 40;
    int[] g = grey(w, h, 3);
    int[] red = g.clone();
    int[] gb = g.clone();
    int[] b = g.clone();
    for (int y = 2; y < 6; y++) {
      for (int x = 2; x < 12; x++) { // a red annotation on 2 % of the pixels
        red[y * w + x] = 255;
        gb[y * w + x] = 0;
        b[y * w + x] = 0;
      }
    }
    Path f = dir.resolve("annotated.png");
    ImageIO.write(rgb(w, h, red, gb, b), "png", f.toFile());
    InputImages in = ImageInput.read(f, ImageInput.Settings.original(), null);
    assertEquals(1, in.summary().colour);
    assertEquals(85f, in.stack().plane(0)[3 * w + 3], 0f);
    assertEquals(g[20 * w + 20], in.stack().plane(0)[20 * w + 20], 0f);
    assertTrue(in.summary().describe().contains("1 colour converted to grey"), in.summary().describe());
  }

  @Test
  void rgbaAlphaIsIgnoredAndCounted() throws Exception {
    int w = 30, h = 20;
    int[] g = grey(w, h, 4);
    BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    for (int i = 0; i < w * h; i++) {
      int a = i % w < 10 ? 0 : 255; // left third transparent
      im.setRGB(i % w, i / w, a << 24 | g[i] << 16 | g[i] << 8 | g[i]);
    }
    Path f = dir.resolve("rgba.png");
    ImageIO.write(im, "png", f.toFile());
    InputImages in = ImageInput.read(f, ImageInput.Settings.original(), null);
    assertEquals(1, in.summary().alpha);
    assertEquals(1, in.summary().greyAsColour);
    float[] expected = new float[w * h];
    for (int i = 0; i < expected.length; i++) expected[i] = g[i];
    assertArrayEquals(expected, in.stack().plane(0), 0f);
    assertTrue(in.notes().get(0).conversions().contains("alpha channel ignored (33.33 % of pixels not opaque)"),
        in.notes().get(0).describe());
  }

  /**
   * Palette images give their colours' grey, not their indices (ImageJ's opener gives the indices of a palette PNG as
   * if they were grey values).
   */
  @Test
  void paletteImagesUseTheirColours() throws Exception {
    int w = 24, h = 16;
    byte[] rr = new byte[16], gg = new byte[16], bb = new byte[16];
    for (int k = 0; k < 16; k++) { // a scrambled palette: index k is colour (17·(15−k), 17·(15−k), 17·(15−k) ± tint)
      int v = 17 * (15 - k);
      rr[k] = (byte) v;
      gg[k] = (byte) v;
      bb[k] = (byte) Math.min(255, v + (k == 3 ? 60 : 0));
    }
    IndexColorModel icm = new IndexColorModel(4, 16, rr, gg, bb);
    BufferedImage im = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_INDEXED, icm);
    WritableRaster ras = im.getRaster();
    for (int i = 0; i < w * h; i++) ras.setSample(i % w, i / w, 0, (i % w) % 16);
    for (String fmt : new String[] {"png", "gif"}) {
      Path f = dir.resolve("palette." + fmt);
      assertTrue(ImageIO.write(im, fmt, f.toFile()), fmt);
      InputImages in = ImageInput.read(f, ImageInput.Settings.original(), null);
      float[] v = in.stack().plane(0);
      assertEquals(255f, v[0], 0f, fmt + ": index 0 is white");
      assertEquals(17f * 14, v[1], 0f, fmt);
      assertEquals((204f + 204 + 255) / 3, v[3], 1e-4f, fmt + ": the tinted entry (blue 204 + 60, capped)");
      assertEquals(1, in.summary().palette, fmt);
      if (fmt.equals("png")) {
        assertEquals(1f, new Opener().openImage(f.toString()).getProcessor().getf(1), 0f, "ImageJ gives the index");
      }
    }
  }

  /**
   * A palette TIFF (photometric palette, written by tifffile) gives its colours; the colour map of a TIFF ImageJ wrote
   * is ImageJ's display LUT over data values, which are kept.
   */
  @Test
  void paletteTiffUsesItsColourMapImageJLutsAreDisplayOnly() throws Exception {
    Path script = dir.resolve("pal.py");
    Files.write(script, String.join("\n",
        "import sys, numpy as np, tifffile",
        "cm = np.zeros((3, 256), np.uint16)",
        "cm[0] = (255 - np.arange(256)) * 257",
        "cm[1] = (np.arange(256) * 7 % 256) * 257",
        "tifffile.imwrite(sys.argv[1], np.array([[0, 1, 2, 3]], np.uint8), photometric='palette', colormap=cm)",
        "").getBytes("UTF-8"));
    Path f = dir.resolve("pal.tif");
    DicomFixtures.run("/usr/bin/python3", script.toString(), f.toString());
    InputImages in = ImageInput.read(f, ImageInput.Settings.original(), null);
    assertArrayEquals(new float[] {255 / 3f, (254 + 7) / 3f, (253 + 14) / 3f, (252 + 21) / 3f}, in.stack().plane(0),
        1e-4f);
    assertEquals(1, in.summary().palette);
    assertEquals(1, in.summary().colour);

    ByteProcessor bp = new ByteProcessor(4, 1, new byte[] {0, 1, 2, 3});
    bp.setColorModel(ij.plugin.LutLoader.getLut("fire"));
    Path lut = dir.resolve("fire.tif");
    assertTrue(new ij.io.FileSaver(new ImagePlus("p", bp)).saveAsTiff(lut.toString()));
    InputImages kept = ImageInput.read(lut, ImageInput.Settings.original(), null);
    assertArrayEquals(new float[] {0, 1, 2, 3}, kept.stack().plane(0), 0f);
    assertEquals(0, kept.summary().palette);
    assertEquals("ImageJ display LUT ignored (values are data)", kept.notes().get(0).conversions().get(0));
  }

  @Test
  void sixteenBitGreyPngAndCalibratedTiffKeepTheirUnits() throws Exception {
    BufferedImage im = new BufferedImage(5, 3, BufferedImage.TYPE_USHORT_GRAY);
    for (int i = 0; i < 15; i++) im.getRaster().setSample(i % 5, i / 5, 0, 4000 * i);
    Path f = dir.resolve("16.png");
    ImageIO.write(im, "png", f.toFile());
    assertEquals(56000f, read(f)[14], 0f);
    assertEquals(0, ImageInput.read(f, ImageInput.Settings.original(), null).summary().converted());
    // A 16-bit TIFF written WhiteIsZero-style is shown through an inverting LUT by ImageJ: inverted, counted.
    ShortProcessor sp = new ShortProcessor(2, 1, new short[] {0, 1000}, null);
    ImagePlus imp = new ImagePlus("s", sp);
    imp.getProcessor().invertLut();
    InputImages inv = ImageInput.of(imp, "s", ImageInput.Settings.original());
    assertArrayEquals(new float[] {65535, 64535}, inv.stack().plane(0), 0f);
    assertEquals(1, inv.summary().inverted);
  }

  @Test
  void truncatedFilesAreRefusedNamingTheFile() throws Exception {
    int w = 64, h = 48;
    int[] g = grey(w, h, 5);
    ByteProcessor bp = new ByteProcessor(w, h);
    for (int i = 0; i < w * h; i++) bp.set(i, g[i]);
    Path tif = dir.resolve("a.tif");
    IJ.saveAsTiff(new ImagePlus("a", bp), tif.toString());
    ImageStack st = new ImageStack(w, h);
    for (int k = 0; k < 3; k++) st.addSlice(bp.duplicate());
    Path stack = dir.resolve("stack.tif");
    IJ.saveAsTiff(new ImagePlus("s", st), stack.toString());
    Path deflate = dir.resolve("deflate.tif");
    try (StreamingTiffWriter wr = StreamingTiffWriter.plain(deflate, w, h, 2,
        StreamingTiffWriter.Compression.DEFLATE)) {
      for (int k = 0; k < 2; k++) wr.writePlane((float[]) bp.convertToFloat().getPixels());
    }
    Path png = dir.resolve("a.png");
    Path jpg = dir.resolve("a.jpg");
    Path gif = dir.resolve("a.gif");
    Path bmp = dir.resolve("a.bmp");
    BufferedImage bi = rgb(w, h, g, g, g);
    ImageIO.write(bi, "png", png.toFile());
    jpeg(bi, jpg, 0.9f);
    ImageIO.write(bi, "gif", gif.toFile());
    ImageIO.write(bi, "bmp", bmp.toFile());
    // ImageJ itself opens the truncated TIFF with zero rows (the bug of issue 12).
    Path tifThird = cut(tif, 1 / 3.0);
    float[] viaImageJ = (float[]) new Opener().openImage(tifThird.toString()).getProcessor().convertToFloat()
        .getPixels();
    assertEquals(0f, viaImageJ[viaImageJ.length - 1], 0f);
    for (Path f : new Path[] {tif, stack, deflate, png, jpg, gif, bmp}) {
      assertEquals(w * h, ImageInput.read(f, ImageInput.Settings.original(), null).stack().plane(0).length);
      for (double fraction : new double[] {1 / 3.0, 0.9}) {
        Path c = cut(f, fraction);
        UserException e = assertThrows(UserException.class, () -> read(c), c.toString());
        assertTrue(e.getMessage().startsWith("Cannot open " + c.toAbsolutePath() + ": the file is truncated or"
            + " damaged ("), e.getMessage());
        if (f.toString().endsWith(".tif")) {
          e = assertThrows(UserException.class, () -> ImageReaders.openVirtual(c), "the Fiji layer's opener");
          assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
      }
    }
  }

  /** An empty file gets one clear message, and nothing of ImageJ reaches the console. */
  @Test
  void emptyFileIsAClearMessageWithoutConsoleOutput() throws Exception {
    Path empty = Files.createFile(dir.resolve("empty.tif"));
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    UserException e;
    UserException e2;
    UserException e3;
    try (PrintStream p = new PrintStream(captured, true, "UTF-8")) {
      System.setOut(p);
      System.setErr(p);
      e = assertThrows(UserException.class, () -> read(empty));
      e2 = assertThrows(UserException.class, () -> ImageReaders.open(empty));
      Path junk = dir.resolve("junk.tif");
      Files.write(junk, "II*\0garbage".getBytes("ISO-8859-1"));
      e3 = assertThrows(UserException.class, () -> read(junk));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    String expected = "Cannot open " + empty + ": the file is empty (0 bytes). Copy the complete file again, or"
        + " remove it.";
    assertEquals(expected, e.getMessage());
    assertEquals(expected, e2.getMessage());
    assertTrue(e3.getMessage().contains("truncated or damaged"), e3.getMessage());
    assertEquals("", captured.toString("UTF-8"));
  }

  @Test
  void aFolderNamesEveryBadFileBeforeReturningAnything() throws Exception {
    Path f = Files.createDirectories(dir.resolve("train/healthy"));
    Path l = Files.createDirectories(dir.resolve("train/lesion"));
    int[] g = grey(20, 20, 6);
    ByteProcessor bp = new ByteProcessor(20, 20);
    for (int i = 0; i < 400; i++) bp.set(i, g[i]);
    for (int k = 0; k < 3; k++) {
      IJ.saveAsTiff(new ImagePlus("a", bp), f.resolve("h" + k + ".tif").toString());
      IJ.saveAsTiff(new ImagePlus("a", bp), l.resolve("l" + k + ".tif").toString());
    }
    Files.move(cut(f.resolve("h1.tif"), 0.4), f.resolve("h1.tif"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Files.write(l.resolve("l2.tif"), new byte[0]);
    ImageIO.write(rgb(20, 20, g, g, g), "png", l.resolve("l9.png").toFile());
    Files.move(cut(l.resolve("l9.png"), 0.5), l.resolve("l9.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    UserException e = assertThrows(UserException.class,
        () -> ImageInput.readClasses(dir.resolve("train"), ImageInput.Settings.size(16, 16), null));
    String m = e.getMessage();
    assertTrue(m.startsWith("3 of the 7 files in " + dir.resolve("train") + " cannot be used."), m);
    for (String bad : new String[] {"healthy/h1.tif", "lesion/l2.tif", "lesion/l9.png"}) {
      assertTrue(m.contains(dir.resolve("train/" + bad).toString()), bad + " in " + m);
    }
    assertFalse(m.contains("h0.tif") || m.contains("l1.tif"), m);
  }

  @Test
  void foldersClassesAndSizes() throws Exception {
    Path root = dir.resolve("data");
    Files.createDirectories(root.resolve("b_lesion"));
    Files.createDirectories(root.resolve("a_healthy"));
    Files.createDirectories(root.resolve("empty_side_folder"));
    int[] g = grey(30, 20, 7);
    ImageIO.write(rgb(30, 20, g, g, g), "png", root.resolve("a_healthy/x.png").toFile());
    ImageIO.write(rgb(30, 20, g, g, g), "png", root.resolve("b_lesion/y.png").toFile());
    ImageIO.write(rgb(30, 20, g, g, g), "png", root.resolve("b_lesion/z.png").toFile());
    Files.write(root.resolve("b_lesion/readme.txt"), "side-car".getBytes("UTF-8"));
    InputImages in = ImageInput.read(root, ImageInput.Settings.size(16, 16), null);
    assertEquals(List.of("a_healthy", "b_lesion"), in.classNames());
    assertArrayEquals(new int[] {0, 1, 1}, in.labels());
    assertEquals("b_lesion/z.png", in.stack().label(2));
    assertEquals(3, in.summary().padded);
    assertEquals(3, in.summary().greyAsColour);
    // Flat folder keeping the size: images must agree, else the message says what to do.
    InputImages flat = ImageInput.read(root.resolve("b_lesion"), ImageInput.Settings.original(), null);
    assertEquals(30, flat.stack().width);
    assertEquals(2, flat.stack().planeCount());
    ImageIO.write(rgb(10, 10, new int[100], new int[100], new int[100]), "png",
        root.resolve("b_lesion/small.png").toFile());
    UserException e = assertThrows(UserException.class,
        () -> ImageInput.read(root.resolve("b_lesion"), ImageInput.Settings.original(), null));
    assertTrue(e.getMessage().contains("differ in size (small.png is 10x10, y.png is 30x20)"), e.getMessage());
  }

  /** The open-image path (the Fiji layer's ImagePlus) gives what the file path gives. */
  @Test
  void openImagesFollowTheSamePolicyAsFiles() throws Exception {
    int[] g = grey(33, 21, 8);
    int[] tinted = new int[g.length];
    for (int i = 0; i < g.length; i++) tinted[i] = Math.min(255, g[i] + 40);
    Path f = dir.resolve("c.png");
    ImageIO.write(rgb(33, 21, tinted, g, g), "png", f.toFile());
    ImagePlus imp = new Opener().openImage(f.toString());
    ImageInput.Settings s = ImageInput.Settings.size(16, 16);
    InputImages fromFile = ImageInput.read(f, s, null);
    InputImages fromImage = ImageInput.of(imp, "c", s);
    assertArrayEquals(fromFile.stack().plane(0), fromImage.stack().plane(0), 0f);
    assertEquals(fromFile.summary().colour, fromImage.summary().colour);
    assertEquals(1, fromImage.summary().padded);
  }

  /** tifffile (an independent writer) makes what ImageJ 1.x cannot read; each gets one clear message. */
  @Test
  void unsupportedTiffVariantsAreRefusedAndWhiteIsZeroIsInverted() throws Exception {
    Path script = dir.resolve("w.py");
    Files.write(script, String.join("\n",
        "import sys, numpy as np, tifffile",
        "d = sys.argv[1]",
        "g = (np.arange(40 * 64) % 251).astype(np.uint8).reshape(40, 64)",
        "tifffile.imwrite(d + '/tiled.tif', np.zeros((64, 64), np.uint8), tile=(32, 32))",
        "tifffile.imwrite(d + '/big.tif', g, bigtiff=True)",
        "tifffile.imwrite(d + '/wiz.tif', g, photometric='miniswhite')",
        "tifffile.imwrite(d + '/rgba.tif', np.dstack([g, g, g, np.full_like(g, 255)]), photometric='rgb',"
            + " extrasamples=['unassalpha'])",
        "").getBytes("UTF-8"));
    DicomFixtures.run("/usr/bin/python3", script.toString(), dir.toString());
    UserException e = assertThrows(UserException.class, () -> read(dir.resolve("tiled.tif")));
    assertTrue(e.getMessage().contains("it is a tiled TIFF, which ImageJ 1.x cannot read"), e.getMessage());
    e = assertThrows(UserException.class, () -> read(dir.resolve("big.tif")));
    assertTrue(e.getMessage().contains("it is a BigTIFF, which ImageJ 1.x cannot read"), e.getMessage());
    InputImages wiz = ImageInput.read(dir.resolve("wiz.tif"), ImageInput.Settings.original(), null);
    assertEquals(255f, wiz.stack().plane(0)[0], 0f, "stored 0 is white");
    assertEquals(255f - 250, wiz.stack().plane(0)[250], 0f);
    assertEquals(1, wiz.summary().inverted);
    InputImages rgba = ImageInput.read(dir.resolve("rgba.tif"), ImageInput.Settings.original(), null);
    assertEquals(1, rgba.summary().alpha);
    assertEquals(1, rgba.summary().greyAsColour);
    assertEquals(250f, rgba.stack().plane(0)[250], 0f);
  }
}
