package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.IJ;
import ij.ImagePlus;
import ij.ImageStack;
import ij.process.FloatProcessor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.CancelledException;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StreamingTiffWriterTest {
  static final int W = 5, H = 4, C = 2, Z = 3, T = 2;

  @TempDir
  Path dir;

  /** Distinct values per plane and pixel, including a negative, a tiny and a non-integer value. */
  static float value(int plane, int i) {
    if (plane == 1 && i == 2) return -1.5e-7f;
    return plane * 100 + i * 0.25f - 3.125f;
  }

  static float[] plane(int p) {
    float[] px = new float[W * H];
    for (int i = 0; i < px.length; i++) px[i] = value(p, i);
    return px;
  }

  static String label(int p) {
    return p == 1 ? null : "plane_" + p; // one plane without a label
  }

  /** The 2x3x2 hyperstack with labels, calibration, info and properties. */
  Path writeHyperstack(String name) {
    Path f = dir.resolve(name);
    try (StreamingTiffWriter w = new StreamingTiffWriter(f, W, H, C, Z, T)) {
      w.calibration(0.5, 0.5, "mm").info("made by a test\nsecond line").property("diffxai.kind", "test");
      for (int p = 0; p < C * Z * T; p++) w.writePlane(plane(p), label(p));
    }
    return f;
  }

  @Test
  void imageJ154OpensHyperstackWithExactValuesAndLabels() {
    Path f = writeHyperstack("h.tif");
    ImagePlus imp = IJ.openImage(f.toString());
    assertEquals(32, imp.getBitDepth());
    assertEquals(W, imp.getWidth());
    assertEquals(H, imp.getHeight());
    assertEquals(C, imp.getNChannels());
    assertEquals(Z, imp.getNSlices());
    assertEquals(T, imp.getNFrames());
    assertTrue(imp.isHyperStack());
    assertEquals("mm", imp.getCalibration().getUnit());
    assertEquals(0.5, imp.getCalibration().pixelWidth, 1e-9);
    assertEquals("made by a test\nsecond line", imp.getInfoProperty());
    assertEquals("test", imp.getProp("diffxai.kind"));
    for (int p = 0; p < C * Z * T; p++) {
      assertArrayEquals(plane(p), (float[]) imp.getStack().getPixels(p + 1), 0f);
      assertEquals(label(p), imp.getStack().getSliceLabel(p + 1));
    }
    // plane order: c fastest, then z, then t
    imp.setPosition(2, 3, 1);
    assertEquals(value(StreamingTiffWriter.planeIndex(1, 2, 0, C, Z), 0), imp.getProcessor().getf(0), 0f);
    // display range = range of the data
    assertEquals(-3.125, imp.getDisplayRangeMin(), 1e-6);
  }

  @Test
  void debianImageJOpensTheSameHyperstack() throws Exception {
    Path f = writeHyperstack("h.tif");
    Map<String, String> r = External.debianImageJ(f);
    assertEquals("32", r.get("bitDepth"), r.toString());
    assertEquals(W + " " + H + " " + C + " " + Z + " " + T, r.get("dims"));
    assertEquals("true", r.get("hyperstack"));
    assertEquals("mm 0.5", r.get("unit"));
    for (int p = 0; p < C * Z * T; p++) {
      assertEquals(String.valueOf(label(p)), r.get("label" + (p + 1)));
      String[] bits = r.get("bits" + (p + 1)).split(",");
      assertEquals(W * H, bits.length);
      for (int i = 0; i < bits.length; i++) {
        assertEquals(Float.floatToRawIntBits(value(p, i)), Integer.parseUnsignedInt(bits[i], 16), "plane " + p);
      }
    }
  }

  @Test
  void tifffileReadsImageJAxesShapeValuesAndLabels() throws Exception {
    External.assumeTifffile();
    Path f = writeHyperstack("h.tif");
    // expected values in TZCYX order, little-endian float32
    ByteBuffer b = ByteBuffer.allocate(C * Z * T * W * H * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int t = 0; t < T; t++) {
      for (int z = 0; z < Z; z++) {
        for (int c = 0; c < C; c++) {
          for (float v : plane(StreamingTiffWriter.planeIndex(c, z, t, C, Z))) b.putFloat(v);
        }
      }
    }
    Path expected = dir.resolve("expected.f32");
    Files.write(expected, b.array());
    List<String> out = External.python(String.join("\n",
        "import sys, tifffile, numpy as np",
        "with tifffile.TiffFile(sys.argv[1]) as tf:",
        "    s = tf.series[0]",
        "    a = s.asarray()",
        "    md = tf.imagej_metadata",
        "    print(tf.is_imagej, s.axes, ','.join(map(str, a.shape)), a.dtype, len(tf.pages))",
        "    e = np.fromfile(sys.argv[2], '<f4').reshape(a.shape)",
        "    print(np.array_equal(a, e))",
        "    print('|'.join(md.get('Labels', [])))",
        "    print(md['images'], md['channels'], md['slices'], md['frames'], md['unit'], md['Properties'])"),
        f.toString(), expected.toString());
    assertEquals("True TZCYX 2,3,2,4,5 float32 12", out.get(0));
    assertEquals("True", out.get(1), "pixel values differ");
    List<String> labels = new ArrayList<>();
    for (int p = 0; p < C * Z * T; p++) labels.add(label(p) == null ? "" : label(p));
    assertEquals(String.join("|", labels), out.get(2));
    assertEquals("12 2 3 2 mm {'diffxai.kind': 'test'}", out.get(3));
  }

  @Test
  void tiffinfoSeesOneDirectoryPerPlane() throws Exception {
    Path f = writeHyperstack("h.tif");
    Path tiffinfo = Path.of("/usr/bin/tiffinfo");
    assertTrue(Files.isExecutable(tiffinfo), "tiffinfo is needed for this test: apt-get install libtiff-tools");
    String out = External.run(Arrays.asList(tiffinfo.toString(), f.toString()));
    assertEquals(C * Z * T, out.split("TIFF Directory at offset", -1).length - 1);
  }

  @Test
  void singlePlaneAndPlainStack() throws Exception {
    Path one = dir.resolve("one.tif");
    try (StreamingTiffWriter w = new StreamingTiffWriter(one, W, H, 1, 1, 1)) {
      w.property("k", "v").info("i"); // with properties, the label must travel as the property Slice_Label
      w.writePlane(plane(0), "only");
    }
    ImagePlus imp = IJ.openImage(one.toString());
    assertEquals(1, imp.getStackSize());
    assertEquals("only", imp.getStack().getSliceLabel(1));
    assertEquals("v", imp.getProp("k"));
    assertArrayEquals(plane(0), (float[]) imp.getProcessor().getPixels(), 0f);
    Map<String, String> debian = External.debianImageJ(one);
    assertEquals("only", debian.get("label1"));
    assertEquals(W + " " + H + " 1 1 1", debian.get("dims"));
    Path stack = dir.resolve("stack.tif");
    StreamingTiffWriter.writeStack(stack, W, H, List.of(plane(0), plane(1), plane(2)), null);
    ImagePlus s = IJ.openImage(stack.toString());
    assertEquals(3, s.getStackSize());
    assertEquals(3, s.getNSlices());
    assertEquals(1, s.getNChannels());
    assertNull(s.getStack().getSliceLabel(2));
    assertArrayEquals(plane(2), (float[]) s.getStack().getPixels(3), 0f);
  }

  @Test
  void writeStackOfImagePlusKeepsDimensionsLabelsAndCalibration() {
    ImageStack st = new ImageStack(W, H);
    for (int p = 0; p < 6; p++) st.addSlice("s" + p, new FloatProcessor(W, H, plane(p)));
    ImagePlus imp = new ImagePlus("x", st);
    imp.setDimensions(2, 1, 3);
    imp.getCalibration().setUnit("cm");
    imp.getCalibration().pixelWidth = 0.25;
    imp.getCalibration().pixelHeight = 0.25;
    Path f = dir.resolve("imp.tif");
    StreamingTiffWriter.writeStack(f, imp);
    ImagePlus back = IJ.openImage(f.toString());
    assertEquals(2, back.getNChannels());
    assertEquals(1, back.getNSlices());
    assertEquals(3, back.getNFrames());
    assertEquals("cm", back.getCalibration().getUnit());
    assertEquals(0.25, back.getCalibration().pixelWidth, 1e-6);
    for (int p = 0; p < 6; p++) {
      assertEquals("s" + p, back.getStack().getSliceLabel(p + 1));
      assertArrayEquals(plane(p), (float[]) back.getStack().getPixels(p + 1), 0f);
    }
  }

  @Test
  void thousandPlanesStreamWithFlatHeap() throws Exception {
    int w = 256, h = 256, n = 1000;
    Path f = dir.resolve("big.tif");
    Runtime rt = Runtime.getRuntime();
    System.gc();
    long base = rt.totalMemory() - rt.freeMemory();
    long maxGrowth = 0;
    float[] px = new float[w * h];
    try (StreamingTiffWriter wr = new StreamingTiffWriter(f, w, h, 1, n, 1)) {
      for (int p = 0; p < n; p++) {
        px[0] = p;
        px[px.length - 1] = -p;
        wr.writePlane(px, "p" + p);
        if (p % 100 == 99) {
          System.gc();
          maxGrowth = Math.max(maxGrowth, rt.totalMemory() - rt.freeMemory() - base);
        }
      }
    }
    System.gc();
    maxGrowth = Math.max(maxGrowth, rt.totalMemory() - rt.freeMemory() - base);
    // 1000 planes are 262 MB: holding them would blow far past this bound.
    assertTrue(maxGrowth < 100L << 20, "heap grew by " + (maxGrowth >> 20) + " MB");
    long planeBytes = (long) w * h * 4;
    assertTrue(Files.size(f) > n * planeBytes);
    // spot check with ImageJ's reader: virtual open of plane 1000
    ImagePlus v = IJ.openVirtual(f.toString());
    assertEquals(n, v.getStackSize());
    float[] last = (float[]) v.getStack().getPixels(n);
    assertEquals(n - 1, last[0], 0f);
    assertEquals(-(n - 1), last[last.length - 1], 0f);
    assertEquals("p999", v.getStack().getSliceLabel(n));
  }

  @Test
  void abortLeavesNoFile() throws IOException {
    Path f = dir.resolve("a.tif");
    StreamingTiffWriter w = new StreamingTiffWriter(f, W, H, 1, 3, 1);
    w.writePlane(plane(0));
    assertEquals(1, listing().size(), "only the temporary file exists while writing: " + listing());
    assertTrue(listing().get(0).startsWith(".a.tif."), listing().toString());
    w.abort();
    w.close(); // no-op after abort
    assertEquals(List.of(), listing());
  }

  @Test
  void exceptionInsideTryWithResourcesLeavesNoFileAndKeepsTheCause() throws IOException {
    Path f = dir.resolve("c.tif");
    Files.write(f, new byte[] {1, 2, 3}); // an older version must survive
    CancelledException thrown = assertThrows(CancelledException.class, () -> {
      try (StreamingTiffWriter w = new StreamingTiffWriter(f, W, H, 1, 5, 1)) {
        w.writePlane(plane(0));
        w.writePlane(plane(1));
        throw new CancelledException();
      }
    });
    assertEquals(1, thrown.getSuppressed().length); // close() reports the missing planes, suppressed
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(f));
    assertEquals(List.of("c.tif"), listing());
  }

  @Test
  void closingTooEarlyDeletesAndComplains() throws IOException {
    Path f = dir.resolve("d.tif");
    StreamingTiffWriter w = new StreamingTiffWriter(f, W, H, 1, 2, 1);
    w.writePlane(plane(0));
    IllegalStateException e = assertThrows(IllegalStateException.class, w::close);
    assertTrue(e.getMessage().contains("only 1 of 2 planes"), e.getMessage());
    assertEquals(List.of(), listing());
    assertThrows(IllegalStateException.class, () -> w.writePlane(plane(1)));
  }

  @Test
  void rejectsTooManyPlanesAndWrongSizes() throws IOException {
    StreamingTiffWriter w = new StreamingTiffWriter(dir.resolve("e.tif"), W, H, 1, 1, 1);
    assertThrows(IllegalArgumentException.class, () -> w.writePlane(new float[3]));
    w.writePlane(plane(0));
    assertThrows(IllegalStateException.class, () -> w.writePlane(plane(1)));
    w.close();
    assertEquals(List.of("e.tif"), listing());
  }

  @Test
  void refusesMoreThanFourGigabytesBeforeWritingAnything() throws IOException {
    // 17000 planes of 256x256 float32 = 4.46 GB
    UserException e = assertThrows(UserException.class,
        () -> new StreamingTiffWriter(dir.resolve("huge.tif"), 256, 256, 1, 17000, 1));
    assertTrue(e.getMessage().contains("4 GB") && e.getMessage().contains("BigTIFF"), e.getMessage());
    assertEquals(List.of(), listing());
  }

  @Test
  void replacesAnExistingFileAtomically() throws IOException {
    Path f = dir.resolve("r.tif");
    StreamingTiffWriter.writeStack(f, W, H, List.of(plane(0)), null);
    StreamingTiffWriter.writeStack(f, W, H, List.of(plane(5)), null);
    assertArrayEquals(plane(5), (float[]) IJ.openImage(f.toString()).getProcessor().getPixels(), 0f);
    assertEquals(List.of("r.tif"), listing());
  }

  @Test
  void nonFiniteValuesAreWrittenButKeptOutOfTheDisplayRange() {
    float[] px = plane(0);
    px[0] = Float.NaN;
    px[1] = Float.POSITIVE_INFINITY;
    px[2] = Float.NEGATIVE_INFINITY;
    Path f = dir.resolve("nan.tif");
    StreamingTiffWriter.writeStack(f, W, H, List.of(px, plane(1)), null);
    ImagePlus imp = IJ.openImage(f.toString());
    float[] back = (float[]) imp.getStack().getPixels(1);
    assertTrue(Float.isNaN(back[0]));
    assertEquals(Float.POSITIVE_INFINITY, back[1]);
    assertEquals(Float.NEGATIVE_INFINITY, back[2]);
    assertEquals(value(0, 3), imp.getDisplayRangeMin(), 1e-6); // the finite minimum; -Infinity is ignored
    assertEquals(value(1, W * H - 1), imp.getDisplayRangeMax(), 1e-4);
  }

  @Test
  void planeIndexIsImageJOrder() {
    ImageStack st = new ImageStack(1, 1);
    for (int i = 0; i < C * Z * T; i++) st.addSlice(new FloatProcessor(1, 1));
    ImagePlus imp = new ImagePlus("o", st);
    imp.setDimensions(C, Z, T);
    for (int t = 0; t < T; t++) {
      for (int z = 0; z < Z; z++) {
        for (int c = 0; c < C; c++) {
          assertEquals(imp.getStackIndex(c + 1, z + 1, t + 1) - 1, StreamingTiffWriter.planeIndex(c, z, t, C, Z));
        }
      }
    }
  }

  private List<String> listing() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }
}
