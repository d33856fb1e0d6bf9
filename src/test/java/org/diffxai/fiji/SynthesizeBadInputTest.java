package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileSaver;
import ij.process.FloatProcessor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.diffxai.model.TestBundles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every user error of Synthesize, through the command line: exit code 1 (2 for option errors), one line
 * {@code Error: <problem and remedy>} on stderr, no stack trace, and nothing written to the output directory.
 */
class SynthesizeBadInputTest {
  @TempDir static Path dir;
  static Path good;

  @BeforeAll
  static void bundles() {
    good = TestBundles.spec().size(8, 8).classes("healthy", "lesion").write(dir.resolve("good"));
  }

  static void assertUserError(int code, String options, String... messageParts) throws IOException {
    Path out = dir.resolve("out-" + Math.abs(options.hashCode()));
    CliTest.Out r = CliTest.inProcess("Synthesize", options + " output=[" + out + "]");
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

  static String model(Path p) {
    return "model=[" + p + "] device=cpu steps=3 samples=2";
  }

  @Test
  void missingBundle() throws IOException {
    assertUserError(1, model(dir.resolve("nope")), "does not exist", "model=sample");
  }

  @Test
  void corruptModelJson() throws IOException {
    Path b = TestBundles.copy(good, dir.resolve("corrupt"));
    Files.writeString(b.resolve("model.json"), "{ this is not json");
    assertUserError(1, model(b), "model.json");
  }

  @Test
  void checksumMismatch() throws IOException {
    Path b = TestBundles.copy(good, dir.resolve("tampered"));
    Files.writeString(b.resolve("scheduler_config.json"),
        Files.readString(b.resolve("scheduler_config.json")).replace("0.02", "0.03"));
    assertUserError(1, model(b), "scheduler_config.json", "modified or damaged");
  }

  @Test
  void missingSignatureInput() throws IOException {
    Path b = TestBundles.spec().size(8, 8).classes("healthy", "lesion").labelInput(false)
        .write(dir.resolve("nolabel"));
    assertUserError(1, model(b), "label");
  }

  @Test
  void channelMismatch() throws IOException {
    Path b = TestBundles.spec().size(8, 8).signatureChannels(2).write(dir.resolve("channels"));
    assertUserError(1, model(b), "channel");
  }

  @Test
  void stepsOutOfRange() throws IOException {
    assertUserError(1, "model=[" + good + "] device=cpu steps=1001", "steps", "1000");
    assertUserError(2, "model=[" + good + "] device=cpu steps=0", "steps", ">= 1"); // caught while parsing options
  }

  @Test
  void nonFiniteInit() throws IOException {
    float[] px = new float[64];
    px[10] = Float.NaN;
    ImageStack st = new ImageStack(8, 8);
    st.addSlice("x_T 1", new FloatProcessor(8, 8, px));
    st.addSlice("x_T 2", new FloatProcessor(8, 8, new float[64]));
    Path init = dir.resolve("init-nan.tif");
    new FileSaver(new ImagePlus("init", st)).saveAsTiffStack(init.toString());
    assertUserError(1, model(good) + " init=[" + init + "]", "non-finite");
  }

  @Test
  void initOfTheWrongSize() throws IOException {
    Path init = dir.resolve("init-small.tif");
    new FileSaver(new ImagePlus("init", new FloatProcessor(4, 4))).saveAsTiff(init.toString());
    assertUserError(1, "model=[" + good + "] device=cpu steps=3 samples=1 init=[" + init + "]", "4x4", "8x8");
  }

  @Test
  void unknownLabel() throws IOException {
    assertUserError(1, model(good) + " label=tumour", "tumour", "healthy, lesion");
  }

  @Test
  void unreadableCondition() throws IOException {
    Path cond = dir.resolve("mask.tif");
    Files.writeString(cond, "not an image");
    assertUserError(1, model(good) + " condition=[" + cond + "]", "mask.tif");
    assertUserError(1, model(good) + " condition=[" + dir.resolve("missing.tif") + "]", "neither an open image");
  }

  @Test
  void unwritableOutput() throws IOException {
    Path file = dir.resolve("a-file");
    Files.writeString(file, "x");
    CliTest.Out r = CliTest.inProcess("Synthesize", model(good) + " output=[" + file.resolve("sub") + "]");
    assertEquals(1, r.code, r.toString());
    assertTrue(r.err.contains("Error: Cannot"), r.toString());
  }

  @Test
  void unknownKeyListsTheValidOnes() throws IOException {
    assertUserError(2, model(good) + " sampels=3", "sampels", "samples", "keep_every");
  }
}
