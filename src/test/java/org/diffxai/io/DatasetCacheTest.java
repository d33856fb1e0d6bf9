package org.diffxai.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.IJ;
import ij.ImagePlus;
import ij.process.ByteProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.core.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decoded folders cached on disk: hits, misses on any change, damage detected, least recently used evicted. */
class DatasetCacheTest {
  @TempDir
  Path tmp;

  private Path folder() throws Exception {
    Path root = tmp.resolve("data");
    for (String c : new String[] {"healthy", "lesion"}) {
      Files.createDirectories(root.resolve(c));
      for (int k = 0; k < 3; k++) write(root.resolve(c + "/" + k + ".tif"), 30 + k, c.length() * 10 + k);
    }
    return root;
  }

  private static void write(Path f, int w, int value) {
    ByteProcessor bp = new ByteProcessor(w, 20);
    for (int i = 0; i < w * 20; i++) bp.set(i, (value + i) % 256);
    IJ.saveAsTiff(new ImagePlus("x", bp), f.toString());
  }

  private List<Path> cacheFiles(Path cache) throws Exception {
    if (!Files.isDirectory(cache)) return new ArrayList<>();
    try (Stream<Path> s = Files.list(cache)) {
      return s.filter(p -> p.toString().endsWith(DatasetCache.SUFFIX)).sorted().collect(Collectors.toList());
    }
  }

  private static void assertSame(InputImages a, InputImages b) {
    assertEquals(a.stack().planeCount(), b.stack().planeCount());
    for (int p = 0; p < a.stack().planeCount(); p++) {
      assertArrayEquals(a.stack().plane(p), b.stack().plane(p), 0f);
      assertEquals(a.stack().label(p), b.stack().label(p));
    }
    assertArrayEquals(a.labels(), b.labels());
    assertEquals(a.classNames(), b.classNames());
    assertEquals(a.summary().describe(), b.summary().describe());
    assertEquals(a.summary().toMap(), b.summary().toMap());
    for (int i = 0; i < a.notes().size(); i++) assertEquals(a.notes().get(i).describe(), b.notes().get(i).describe());
  }

  @Test
  void secondReadComesFromTheCacheUntilAFileChanges() throws Exception {
    Path root = folder();
    Path cache = tmp.resolve("cache");
    ImageInput.Settings s = ImageInput.Settings.size(16, 16).cache(cache);
    InputImages first = ImageInput.readClasses(root, s, Progress.NONE);
    assertEquals(1, cacheFiles(cache).size());
    assertSame(first, ImageInput.readClasses(root, ImageInput.Settings.size(16, 16), Progress.NONE));

    // Same size and modification time, other pixels: the key cannot see it, so the cached pixels come back. This
    // shows the cache was used (and documents what the key covers).
    Path f = root.resolve("healthy/0.tif");
    FileTime t = Files.getLastModifiedTime(f);
    write(f, 30, 99);
    Files.setLastModifiedTime(f, t);
    InputImages cached = ImageInput.readClasses(root, s, Progress.NONE);
    assertSame(first, cached);
    // Touching the file changes the key: read again, new pixels.
    Files.setLastModifiedTime(f, FileTime.fromMillis(t.toMillis() + 2000));
    InputImages fresh = ImageInput.readClasses(root, s, Progress.NONE);
    assertNotEquals(first.stack().plane(0)[100], fresh.stack().plane(0)[100]);
    assertEquals(2, cacheFiles(cache).size());
    // Other settings are another dataset.
    ImageInput.readClasses(root, ImageInput.Settings.size(16, 16).fit(Fit.STRETCH).cache(cache), Progress.NONE);
    ImageInput.readClasses(root, ImageInput.Settings.size(8, 8).cache(cache), Progress.NONE);
    assertEquals(4, cacheFiles(cache).size());
    // The training view uses the same cache.
    ImageFolder folder = ImageFolder.load(root, ImageInput.Settings.size(8, 8).cache(cache), true, Progress.NONE);
    assertEquals(4, cacheFiles(cache).size());
    assertEquals(root.resolve("lesion/2.tif"), folder.files().get(5));
    assertEquals(6, folder.input().summary().padded);
  }

  @Test
  void damagedCacheIsDetectedDeletedAndRebuilt() throws Exception {
    Path root = folder();
    Path cache = tmp.resolve("cache");
    ImageInput.Settings s = ImageInput.Settings.size(16, 16).cache(cache);
    InputImages first = ImageInput.readClasses(root, s, Progress.NONE);
    Path file = cacheFiles(cache).get(0);
    byte[] b = Files.readAllBytes(file);
    b[b.length / 2] ^= 0x10; // one bit of one pixel
    Files.write(file, b);
    List<String> messages = new ArrayList<>();
    Progress p = new Progress() {
      @Override
      public void report(String message, double fraction) {
        messages.add(message);
      }

      @Override
      public boolean isCancelled() {
        return false;
      }
    };
    assertSame(first, ImageInput.readClasses(root, s, p));
    assertTrue(messages.stream().anyMatch(m -> m.contains("is damaged (checksum mismatch)")), messages.toString());
    assertEquals(1, cacheFiles(cache).size());
    // Truncated cache file.
    byte[] ok = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(ok, ok.length - 40));
    messages.clear();
    assertSame(first, ImageInput.readClasses(root, s, p));
    assertTrue(messages.stream().anyMatch(m -> m.contains("is damaged")), messages.toString());
    assertArrayEquals(ok, Files.readAllBytes(file), "rebuilt identically");
  }

  @Test
  void leastRecentlyUsedDatasetsAreEvictedBeyondTheBudget() throws Exception {
    Path root = folder();
    Path cache = tmp.resolve("cache");
    String old = System.getProperty(DatasetCache.MAX_BYTES_PROPERTY);
    try {
      ImageInput.readClasses(root, ImageInput.Settings.size(16, 16).cache(cache), Progress.NONE);
      long one = Files.size(cacheFiles(cache).get(0));
      System.setProperty(DatasetCache.MAX_BYTES_PROPERTY, Long.toString(2 * one + 100));
      Path first = cacheFiles(cache).get(0);
      Files.setLastModifiedTime(first, FileTime.fromMillis(System.currentTimeMillis() - 100_000));
      ImageInput.readClasses(root, ImageInput.Settings.size(16, 16).fit(Fit.CROP).cache(cache), Progress.NONE);
      assertEquals(2, cacheFiles(cache).size());
      ImageInput.readClasses(root, ImageInput.Settings.size(16, 16).fit(Fit.STRETCH).cache(cache), Progress.NONE);
      List<Path> left = cacheFiles(cache);
      assertEquals(2, left.size());
      assertTrue(!left.contains(first), "the oldest went");
    } finally {
      if (old == null) System.clearProperty(DatasetCache.MAX_BYTES_PROPERTY);
      else System.setProperty(DatasetCache.MAX_BYTES_PROPERTY, old);
    }
  }
}
