package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileSaver;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.diffxai.io.DicomFixtures;
import org.diffxai.model.TestBundles;
import org.diffxai.model.TestClassifiers;
import org.diffxai.tf.TinyPrototypeBundles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every user error of Explain with Prototypes, through the command line: exit code 1 (2 for option errors), one line
 * {@code Error: <problem and remedy>} on stderr, no stack trace, and nothing written to the output directory.
 */
class ExplainBadInputTest {
  @TempDir static Path dir;
  static Path ppnet;
  static Path gray;

  @BeforeAll
  static void fixtures() {
    ppnet = TinyPrototypeBundles.train(dir, "PPNet");
    gray = dir.resolve("gray.tif");
    new FileSaver(new ImagePlus("gray", new ByteProcessor(32, 32))).saveAsTiff(gray.toString());
  }

  static void assertUserError(int code, String options, String... messageParts) throws IOException {
    Path out = dir.resolve("out-" + Math.abs(options.hashCode()));
    CliTest.Out r = CliTest.inProcess("Explain with Prototypes", options + " output=[" + out + "]");
    assertEquals(code, r.code, r.toString());
    long errorLines = r.err.lines().filter(l -> l.startsWith("Error: ")).count();
    assertEquals(1, errorLines, r.toString());
    assertFalse(r.err.contains("\tat "), "no stack trace\n" + r);
    String line = r.err.lines().filter(l -> l.startsWith("Error: ")).findFirst().get();
    for (String part : messageParts) assertTrue(line.contains(part), "'" + part + "' missing in: " + line);
    if (Files.isDirectory(out)) {
      try (Stream<Path> s = Files.list(out)) {
        assertEquals(0, s.count(), "no partial output in " + out);
      }
    }
  }

  static String on(Path image) {
    return "image=[" + image + "] model=[" + ppnet + "] device=cpu";
  }

  /**
   * Issue 12: colour images and other aspect ratios are converted by the one input policy (colour rule, fit=pad), not
   * refused; a 16-bit MR DICOM with RescaleSlope 2 opens; no patient-identifying DICOM value reaches any file written.
   */
  @Test
  void colourOtherAspectRatiosAndDicomAreExplained() throws IOException {
    ColorProcessor cp = new ColorProcessor(32, 32);
    cp.set(5, 7, 0x20ff40);
    Path colour = dir.resolve("colour.png");
    new FileSaver(new ImagePlus("colour", cp)).saveAsPng(colour.toString());
    Path wide = dir.resolve("wide.tif");
    new FileSaver(new ImagePlus("wide", new FloatProcessor(48, 32))).saveAsTiff(wide.toString());
    DicomFixtures.Spec spec = new DicomFixtures.Spec();
    spec.rows = 32;
    spec.columns = 32;
    spec.slope = 2.0;
    spec.phi = true;
    Path dcm = DicomFixtures.write(dir.resolve("v.dcm"), spec);
    for (Path f : new Path[] {colour, wide, dcm}) {
      Path out = dir.resolve("ok-" + f.getFileName());
      CliTest.Out r = CliTest.inProcess("Explain with Prototypes", on(f) + " output=[" + out + "]");
      assertEquals(0, r.code, r.toString());
      assertTrue(Files.isRegularFile(out.resolve("explain.csv")), r.toString());
      DicomFixtures.assertNoPhiInFiles(out);
      DicomFixtures.assertNoPhi(r.out + r.err, "console");
    }
  }

  @Test
  void truncatedAndEmptyImages() throws IOException {
    Path full = dir.resolve("full.tif");
    new FileSaver(new ImagePlus("full", new FloatProcessor(32, 32))).saveAsTiff(full.toString());
    byte[] b = Files.readAllBytes(full);
    Path cut = dir.resolve("cut.tif");
    Files.write(cut, java.util.Arrays.copyOf(b, b.length / 3));
    assertUserError(1, on(cut), cut.toString(), "truncated");
    Path empty = dir.resolve("empty.tif");
    Files.write(empty, new byte[0]);
    assertUserError(1, on(empty), empty.toString(), "the file is empty (0 bytes)");
  }

  @Test
  void multiChannelImage() throws IOException {
    ImageStack st = new ImageStack(32, 32);
    st.addSlice(new FloatProcessor(32, 32));
    st.addSlice(new FloatProcessor(32, 32));
    ImagePlus imp = new ImagePlus("two channels", st);
    imp.setDimensions(2, 1, 1);
    Path f = dir.resolve("channels.tif");
    new FileSaver(imp).saveAsTiffStack(f.toString());
    assertUserError(1, on(f), "2 channels", "Split Channels");
  }

  @Test
  void nonFiniteImage() throws IOException {
    float[] px = new float[32 * 32];
    px[3] = Float.POSITIVE_INFINITY;
    Path f = dir.resolve("inf.tif");
    new FileSaver(new ImagePlus("inf", new FloatProcessor(32, 32, px))).saveAsTiff(f.toString());
    assertUserError(1, on(f), "infinite value at x=3, y=0", "Remove NaNs");
  }

  @Test
  void missingImage() throws IOException {
    assertUserError(1, on(dir.resolve("nope.tif")), "nope.tif", "neither an open image nor an existing file");
    assertUserError(1, "model=[" + ppnet + "] device=cpu", "No image given", "image=");
  }

  @Test
  void unreadableImage() throws IOException {
    Path f = dir.resolve("text.tif");
    Files.writeString(f, "not an image");
    assertUserError(1, on(f), "text.tif", "Cannot open");
  }

  @Test
  void unknownTarget() throws IOException {
    assertUserError(1, on(gray) + " target=tumour", "target=tumour", "healthy, lesion");
    assertUserError(1, on(gray) + " target=2", "target=2", "index 0 to 1");
  }

  @Test
  void notAPrototypeNetwork() throws IOException {
    Path linear = TestClassifiers.writeLinear(dir.resolve("linear"), new float[][] {new float[1024],
        new float[1024]}, 32, 32);
    assertUserError(1, "image=[" + gray + "] model=[" + linear + "] device=cpu", "is not a prototype network",
        "prototypes.json");
    Path denoiser = TestBundles.spec().size(8, 8).write(dir.resolve("denoiser"));
    assertUserError(1, "image=[" + gray + "] model=[" + denoiser + "] device=cpu", "denoiser");
  }

  @Test
  void missingOrDamagedBundle() throws IOException {
    assertUserError(1, "image=[" + gray + "] model=[" + dir.resolve("no-bundle") + "] device=cpu", "does not exist");
    Path b = TinyPrototypeBundles.copy(ppnet, dir.resolve("no-gallery"));
    Files.delete(b.resolve("gallery.tif"));
    assertUserError(1, "image=[" + gray + "] model=[" + b + "] device=cpu", "gallery.tif");
  }

  @Test
  void unknownKey() throws IOException {
    assertUserError(2, on(gray) + " tpo=3", "tpo", "top");
  }
}
