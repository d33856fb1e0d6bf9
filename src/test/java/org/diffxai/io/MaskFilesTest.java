package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileSaver;
import ij.process.ByteProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.phantom.Contrast;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomSet;
import org.diffxai.phantom.Shortcut;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MaskFilesTest {
  @TempDir
  Path dir;

  /** Every slice of the set written below dir (what Generate Phantoms writes), the phantoms returned. */
  static Phantom[] write(PhantomSet set, Path dir) {
    Phantom[] out = new Phantom[set.total()];
    for (int k = 0; k < out.length; k++) {
      out[k] = set.generate(k);
      PhantomFiles.write(dir, set, k, out[k], true);
    }
    return out;
  }

  private PhantomSet set(int count, int size) {
    return new PhantomSet(count, size, 8, List.of(false, true), Contrast.T1, Shortcut.NONE);
  }

  @Test
  void findsCompanionsACollectedFolderAMirrorAndOneFile() throws Exception {
    PhantomSet set = set(2, 32);
    write(set, dir.resolve("images"));
    Path image = dir.resolve("images/lesion/phantom_0001.tif");
    Path companion = dir.resolve("images/lesion/phantom_0001_mask.tif");
    assertEquals(companion, MaskFiles.companion(image, MaskFiles.Kind.LESION));
    assertEquals(Optional.of(companion.toAbsolutePath()), MaskFiles.find(image, "auto", MaskFiles.Kind.LESION));
    assertEquals(Optional.of(dir.resolve("images/lesion/phantom_0001_labels.tif").toAbsolutePath()),
        MaskFiles.find(image, " AUTO ", MaskFiles.Kind.LABELS));
    assertEquals(Optional.empty(), MaskFiles.find(image, "auto", MaskFiles.Kind.SHORTCUT), "no shortcut planted");
    assertEquals(Optional.empty(), MaskFiles.find(image, "", MaskFiles.Kind.LESION));
    assertEquals(Optional.empty(), MaskFiles.find(image, "none", MaskFiles.Kind.LESION));

    // a folder of collected companions
    Path collected = Files.createDirectories(dir.resolve("collected"));
    Files.copy(companion, collected.resolve("phantom_0001_mask.tif"));
    assertEquals(Optional.of(collected.resolve("phantom_0001_mask.tif")),
        MaskFiles.find(image, collected.toString(), MaskFiles.Kind.LESION));
    // a mirror of the class folders with the images' own names
    Path mirror = Files.createDirectories(dir.resolve("mirror/lesion"));
    Files.copy(companion, mirror.resolve("phantom_0001.tif"));
    assertEquals(Optional.of(mirror.resolve("phantom_0001.tif")),
        MaskFiles.find(image, dir.resolve("mirror").toString(), MaskFiles.Kind.LESION));
    // a flat folder with the images' own names
    Path flat = Files.createDirectories(dir.resolve("flat"));
    Files.copy(companion, flat.resolve("phantom_0001.tif"));
    assertEquals(Optional.of(flat.resolve("phantom_0001.tif")),
        MaskFiles.find(image, flat.toString(), MaskFiles.Kind.LESION));
    assertEquals(Optional.empty(), MaskFiles.find(dir.resolve("images/lesion/phantom_0000.tif"), flat.toString(),
        MaskFiles.Kind.LESION));
    // one file for every image
    assertEquals(Optional.of(companion), MaskFiles.find(dir.resolve("x.tif"), companion.toString(),
        MaskFiles.Kind.LESION));
    UserException e = assertThrows(UserException.class,
        () -> MaskFiles.find(image, dir.resolve("nowhere").toString(), MaskFiles.Kind.LESION));
    assertTrue(e.getMessage().contains("masks=auto"), e.getMessage());
  }

  @Test
  void readsNonZeroAsInsideResizesAlignedAndPicksPlanes() throws Exception {
    // a label image (values 1, 2, 4 like a tumour segmentation) is a mask of its non-zero pixels
    byte[] px = new byte[8 * 8];
    px[9] = 1;
    px[10] = 2;
    px[18] = 4;
    Path f = dir.resolve("seg.tif");
    assertTrue(new FileSaver(new ImagePlus("seg", new ByteProcessor(8, 8, px))).saveAsTiff(f.toString()));
    boolean[] m = MaskFiles.read(f, 5, 8, 8); // a single plane serves every index
    for (int k = 0; k < 64; k++) assertEquals(k == 9 || k == 10 || k == 18, m[k], "pixel " + k);

    // a square block at 32x32 read at 16x16 and 64x64 stays the same region (half-pixel centres)
    boolean[] block = new boolean[32 * 32];
    for (int y = 8; y < 16; y++) for (int x = 12; x < 20; x++) block[y * 32 + x] = true;
    Path b = dir.resolve("block_mask.tif");
    MaskFiles.writeMask(b, block, 32, 32, "test", Map.of("k", "v"));
    assertArrayEquals(block, MaskFiles.read(b, 0, 32, 32));
    boolean[] small = MaskFiles.read(b, 0, 16, 16);
    boolean[] large = MaskFiles.read(b, 0, 64, 64);
    for (int y = 0; y < 16; y++) {
      for (int x = 0; x < 16; x++) assertEquals(y >= 4 && y < 8 && x >= 6 && x < 10, small[y * 16 + x], x + "," + y);
    }
    int n = 0;
    for (int y = 0; y < 64; y++) {
      for (int x = 0; x < 64; x++) {
        n += large[y * 64 + x] ? 1 : 0;
        if (large[y * 64 + x]) assertTrue(y >= 15 && y <= 32 && x >= 23 && x <= 40, x + "," + y);
      }
    }
    assertTrue(Math.abs(n - 256) <= 34, n + " pixels for 16x16 at twice the size");

    // a stack gives plane i to image i
    ImageStack st = new ImageStack(4, 4);
    for (int i = 0; i < 3; i++) {
      byte[] p = new byte[16];
      p[i] = (byte) 255;
      st.addSlice(new ByteProcessor(4, 4, p));
    }
    Path s = dir.resolve("stack.tif");
    assertTrue(new FileSaver(new ImagePlus("s", st)).saveAsTiffStack(s.toString()));
    for (int i = 0; i < 3; i++) assertTrue(MaskFiles.read(s, i, 4, 4)[i]);
    assertTrue(assertThrows(UserException.class, () -> MaskFiles.read(s, 3, 4, 4)).getMessage().contains("3 planes"));
    assertTrue(assertThrows(UserException.class, () -> MaskFiles.read(b, 0, 32, 16)).getMessage()
        .contains("aspect ratio"));
  }

  @Test
  void imageFoldersSkipCompanionsButKeepLookalikesWithoutAnImage() throws Exception {
    PhantomSet set = new PhantomSet(3, 32, 8, List.of(false, true), Contrast.T1,
        new Shortcut(Shortcut.Kind.TEXT, true, 1.0, Shortcut.Corner.TOP_RIGHT));
    Path images = dir.resolve("images");
    write(set, images);
    try (java.util.stream.Stream<Path> all = Files.walk(images)) {
      assertEquals(6 + 6 + 6 + 6, all.filter(Files::isRegularFile).count()); // image, mask, labels, shortcut
    }
    ImageFolder f = ImageFolder.load(images, 32, true);
    assertEquals(6, f.count());
    assertEquals(List.of("healthy", "lesion"), f.classNames());
    for (Path p : f.files()) assertTrue(p.getFileName().toString().matches("phantom_000\\d\\.tif"), p.toString());
    // a file that merely ends in _mask is an image when no x.* is beside it
    List<Path> kept = MaskFiles.withoutCompanions(Arrays.asList(dir.resolve("a/brain_mask.tif"),
        dir.resolve("a/scan.tif"), dir.resolve("a/scan_labels.png"), dir.resolve("b/scan_mask.tif")));
    assertEquals(Arrays.asList(dir.resolve("a/brain_mask.tif"), dir.resolve("a/scan.tif"),
        dir.resolve("b/scan_mask.tif")), kept);
    assertFalse(kept.contains(dir.resolve("a/scan_labels.png")));
  }

  @Test
  void writtenMasksCarryTheirMetadata() throws Exception {
    PhantomSet set = set(1, 32);
    Phantom[] got = write(set, dir);
    ImagePlus imp = ImageReaders.open(dir.resolve("lesion/phantom_0000_mask.tif"));
    assertEquals(8, imp.getBitDepth());
    assertEquals("lesion", imp.getProp("phantom.mask"));
    assertEquals("8", imp.getProp("phantom.seed"));
    assertTrue(((String) imp.getProperty("Info")).contains("image=phantom_0000.tif"));
    ImagePlus labels = ImageReaders.open(dir.resolve("lesion/phantom_0000_labels.tif"));
    assertTrue(((String) labels.getProperty("Info")).contains("7=white matter"), (String) labels.getProperty("Info"));
    assertArrayEquals(got[1].lesionPixels, MaskFiles.read(dir.resolve("lesion/phantom_0000_mask.tif"), 0, 32, 32));
  }
}
