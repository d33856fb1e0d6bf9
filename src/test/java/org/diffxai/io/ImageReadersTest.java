package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.IJ;
import ij.ImagePlus;
import ij.io.FileSaver;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageReadersTest {
  @TempDir
  Path dir;

  @Test
  void readsFloatHyperstackWithLabelsAsNhwc() {
    int w = 4, h = 3, c = 2, n = 3;
    List<float[]> planes = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (int s = 0; s < n; s++) {
      for (int ch = 0; ch < c; ch++) {
        float[] p = new float[w * h];
        for (int i = 0; i < p.length; i++) p[i] = s * 1000 + ch * 100 + i;
        planes.add(p);
        labels.add("x" + s + "c" + ch);
      }
    }
    Path f = dir.resolve("init.tif");
    StreamingTiffWriter.writeStack(f, w, h, c, n, 1, planes, labels);
    FloatStack s = ImageReaders.readFloatStack(f);
    assertEquals(w, s.width);
    assertEquals(h, s.height);
    assertEquals(c, s.channels);
    assertEquals(n, s.sampleCount());
    assertEquals("x2c1", s.label(5));
    assertArrayEquals(planes.get(5), s.plane(1, 2, 0), 0f);
    float[] nhwc = s.toNHWC();
    // sample 2, pixel (x=3, y=1), channel 1
    assertEquals(2 * 1000 + 100 + (1 * w + 3), nhwc[((2 * h + 1) * w + 3) * c + 1], 0f);
  }

  @Test
  void nonFiniteValuesNameTheSlice() {
    List<float[]> planes = new ArrayList<>();
    for (int i = 0; i < 4; i++) planes.add(new float[12]);
    planes.get(2)[7] = Float.NaN;
    planes.get(2)[8] = Float.NaN;
    Path f = dir.resolve("bad.tif");
    StreamingTiffWriter.writeStack(f, 4, 3, planes, List.of("a", "b", "noise_2", "d"));
    UserException e = assertThrows(UserException.class, () -> ImageReaders.readFloatStack(f));
    assertTrue(e.getMessage().contains("slice 3 (label 'noise_2') has 2 non-finite values (first: NaN at x=3, y=1)"),
        e.getMessage());
  }

  @Test
  void nonFloatTiffIsRejectedForFloatReading() {
    Path f = dir.resolve("eight.tif");
    IJ.saveAsTiff(new ImagePlus("e", new ByteProcessor(8, 8)), f.toString());
    UserException e = assertThrows(UserException.class, () -> ImageReaders.readFloatStack(f));
    assertTrue(e.getMessage().contains("8-bit") && e.getMessage().contains("32-bit"), e.getMessage());
  }

  @Test
  void readsPngAndJpegAsOneFloatPlane() {
    ByteProcessor bp = new ByteProcessor(16, 8);
    Random r = new Random(1);
    for (int i = 0; i < 128; i++) bp.set(i, r.nextInt(256));
    Path png = dir.resolve("a.png");
    assertTrue(new FileSaver(new ImagePlus("a", bp)).saveAsPng(png.toString()));
    FloatStack s = ImageReaders.readPlane(png);
    assertEquals(16, s.width);
    assertEquals(8, s.height);
    for (int i = 0; i < 128; i++) assertEquals(bp.get(i), s.plane(0)[i], 0f);
    ColorProcessor cp = new ColorProcessor(16, 8);
    cp.setColor(new java.awt.Color(200, 200, 200));
    cp.fill();
    Path jpg = dir.resolve("b.jpg");
    assertTrue(new FileSaver(new ImagePlus("b", cp)).saveAsJpeg(jpg.toString()));
    FloatStack j = ImageReaders.readPlane(jpg);
    assertEquals(200, j.plane(0)[5], 2f); // lossy, grey
  }

  @Test
  void unreadableFilesGiveOneClearMessage() throws Exception {
    Path missing = dir.resolve("nope.tif");
    assertEquals(missing.toAbsolutePath() + " does not exist. Check the path.",
        assertThrows(UserException.class, () -> ImageReaders.open(missing)).getMessage());
    assertTrue(assertThrows(UserException.class, () -> ImageReaders.open(dir)).getMessage().contains("is a folder"));
    byte[] junk = new byte[2000];
    new Random(2).nextBytes(junk);
    for (String name : new String[] {"junk.tif", "junk.png", "junk.dcm", "junk.xyz"}) {
      Path f = dir.resolve(name);
      Files.write(f, junk);
      UserException e = assertThrows(UserException.class, () -> ImageReaders.open(f));
      assertEquals("Cannot open " + f.toAbsolutePath() + ": by its content it is not a TIFF, PNG, JPEG, GIF, BMP or"
          + " DICOM image. Save it in one of these formats (in Fiji: File > Save As > Tiff...).", e.getMessage());
    }
  }

  @Test
  void stacksAreRejectedWhereOnePlaneIsNeeded() {
    Path f = dir.resolve("two.tif");
    StreamingTiffWriter.writeStack(f, 2, 2, List.of(new float[4], new float[4]), null);
    UserException e = assertThrows(UserException.class, () -> ImageReaders.readPlane(f));
    assertTrue(e.getMessage().contains("holds 2 images"), e.getMessage());
    FloatProcessor fp = new FloatProcessor(2, 2);
    assertEquals(1, ImageReaders.toFloatStack(new ImagePlus("x", fp)).planeCount());
  }
}
