package org.diffxai.tf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.io.FileSaver;
import ij.ImagePlus;
import ij.ImageStack;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ShortProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.UserException;
import org.diffxai.io.ImageFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** org.diffxai.io.ImageFolder: formats, classes from sub-folders, resizing, intensity mapping and clear errors. */
class ImageFolderTest {

  @TempDir
  Path tmp;

  private static void save(ImagePlus imp, Path p) {
    FileSaver fs = new FileSaver(imp);
    boolean ok = p.toString().endsWith(".png") ? fs.saveAsPng(p.toString())
        : imp.getStackSize() > 1 ? fs.saveAsTiffStack(p.toString()) : fs.saveAsTiff(p.toString());
    assertTrue(ok, "could not write " + p);
  }

  private static ShortProcessor ramp16(int w, int h, int base) {
    ShortProcessor sp = new ShortProcessor(w, h);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) sp.set(x, y, base + x + y);
    }
    return sp;
  }

  @Test
  void loadsTiffAndPngWithSubfolderClasses() throws Exception {
    Path root = tmp.resolve("data");
    Files.createDirectories(root.resolve("lesion"));
    Files.createDirectories(root.resolve("healthy"));
    save(new ImagePlus("a", ramp16(8, 8, 100)), root.resolve("healthy/a.tif"));
    ByteProcessor bp = new ByteProcessor(16, 16);
    bp.setValue(200);
    bp.fill();
    save(new ImagePlus("b", bp), root.resolve("healthy/b.png"));
    ColorProcessor cp = new ColorProcessor(8, 8);
    cp.setColor(new java.awt.Color(30, 60, 90));
    cp.fill();
    save(new ImagePlus("c", cp), root.resolve("lesion/c.png"));
    Files.write(root.resolve("lesion/notes.txt"), "ignored side-car".getBytes("UTF-8"));
    Files.write(root.resolve("lesion/.hidden.tif"), new byte[] {1, 2, 3});

    ImageFolder f = ImageFolder.load(root, 8, true);
    assertEquals(Arrays.asList("healthy", "lesion"), f.classNames());
    assertEquals(3, f.count());
    assertArrayEquals(new int[] {0, 0, 1}, f.labels());
    assertEquals("a.tif", f.files().get(0).getFileName().toString());
    assertEquals(100f, f.image(0)[0]);
    assertEquals(114f, f.image(0)[63]);
    // 16×16 → 8×8 by averaging; constant stays constant.
    assertEquals(64, f.image(1).length);
    assertEquals(200f, f.image(1)[27], 1e-4);
    // RGB → gray with ImageJ's (unweighted) conversion: (30+60+90)/3.
    assertEquals(60f, f.image(2)[5], 1e-4);

    ImageFolder u = ImageFolder.load(root, 8, false);
    assertNull(u.labels());
    assertTrue(u.classNames().isEmpty());
    assertEquals(3, u.count());
  }

  @Test
  void resizeAveragesWhenDownsizing() throws Exception {
    // One-pixel stripes 0/10: plain resampling would alias to 0 or 10; ImageJ's averaging downsize blends them.
    FloatProcessor fp = new FloatProcessor(16, 16);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) fp.setf(x, y, (x % 2 == 0) ? 0 : 10);
    }
    save(new ImagePlus("stripes", fp), tmp.resolve("s.tif"));
    ImageFolder f = ImageFolder.load(tmp, 4, false);
    assertEquals(16, f.image(0).length);
    for (float v : f.image(0)) assertTrue(v > 2 && v < 8, "averaged value expected, got " + v);
  }

  @Test
  void percentileMappingToModelSpace() throws Exception {
    save(new ImagePlus("r", ramp16(100, 1, 0)), tmp.resolve("r.tif"));
    ImageFolder f = ImageFolder.load(tmp, 1, false); // 1×1 → 1 value; use a bigger size for a range
    ImageFolder g = ImageFolder.load(tmp, 10, false);
    IntensityMapping m = g.percentileMapping(0, 100);
    float[] img = g.image(0);
    float lo = Float.MAX_VALUE;
    float hi = -Float.MAX_VALUE;
    for (float v : img) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assertEquals((hi - lo) / 2, m.scale, 1e-4);
    assertEquals((hi + lo) / 2, m.offset, 1e-4);
    List<float[]> model = g.toModelSpace(g.percentileMapping(10, 90));
    float mn = Float.MAX_VALUE;
    float mx = -Float.MAX_VALUE;
    for (float v : model.get(0)) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    assertEquals(-1f, mn, 1e-6);
    assertEquals(1f, mx, 1e-6);
    UserException e = assertThrows(UserException.class, () -> f.percentileMapping(0.5, 99.5));
    assertTrue(e.getMessage().contains("intensity range"), e.getMessage());
  }

  @Test
  void clearErrors() throws Exception {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    assertMessage(() -> ImageFolder.load(empty, 8, false), "No images found");
    assertMessage(() -> ImageFolder.load(tmp.resolve("missing"), 8, false), "not found");

    Path bad = Files.createDirectories(tmp.resolve("bad"));
    Files.write(bad.resolve("broken.tif"), "this is not a TIFF".getBytes("UTF-8"));
    assertMessage(() -> ImageFolder.load(bad, 8, false), "broken.tif");

    Path one = Files.createDirectories(tmp.resolve("one/only"));
    save(new ImagePlus("a", ramp16(8, 8, 0)), one.resolve("a.tif"));
    assertMessage(() -> ImageFolder.load(tmp.resolve("one"), 8, true), "at least 2 class");

    Path loose = Files.createDirectories(tmp.resolve("loose"));
    save(new ImagePlus("a", ramp16(8, 8, 0)), loose.resolve("a.tif"));
    Files.createDirectories(loose.resolve("x"));
    assertMessage(() -> ImageFolder.load(loose, 8, true), "sub-folder per class");

    Path emptyClass = Files.createDirectories(tmp.resolve("ec/a"));
    Files.createDirectories(tmp.resolve("ec/b"));
    save(new ImagePlus("a", ramp16(8, 8, 0)), emptyClass.resolve("a.tif"));
    assertMessage(() -> ImageFolder.load(tmp.resolve("ec"), 8, true), "contains no images");

    Path stack = Files.createDirectories(tmp.resolve("stack"));
    ImageStack st = new ImageStack(8, 8);
    st.addSlice(ramp16(8, 8, 0));
    st.addSlice(ramp16(8, 8, 5));
    save(new ImagePlus("st", st), stack.resolve("st.tif"));
    assertMessage(() -> ImageFolder.load(stack, 8, false), "2 planes");
  }

  private static void assertMessage(org.junit.jupiter.api.function.Executable r, String part) {
    UserException e = assertThrows(UserException.class, r);
    assertTrue(e.getMessage().contains(part), "message should mention '" + part + "': " + e.getMessage());
  }
}
