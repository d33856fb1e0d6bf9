package org.diffxai.phantom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.IJ;
import ij.ImagePlus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.run.OutputFolder;
import org.diffxai.core.CancelledException;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.fiji.GeneratePhantomsCommand;
import org.diffxai.fiji.Ui;
import org.diffxai.io.External;
import org.diffxai.io.MaskFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.command.CommandInfo;
import org.scijava.command.CommandService;
import org.scijava.module.Module;
import org.scijava.module.ModuleService;

/** Runs {@link GeneratePhantomsCommand} through SciJava with its macro keys as input names. */
class GeneratePhantomsCommandTest {
  static Context context;

  @TempDir
  Path dir;

  @BeforeAll
  static void start() {
    System.setProperty("diffxai.headless", "true");
    context = new Context(CommandService.class);
  }

  @AfterAll
  static void stop() {
    context.dispose();
  }

  static Map<String, Object> inputs(Object... kv) {
    Map<String, Object> m = new HashMap<>();
    m.put("count", 2);
    m.put("size", 16);
    m.put("seed", 5L);
    m.put("classes", "healthy,lesion");
    m.put("contrast", "T1");
    m.put("output", "");
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  /**
   * Runs the command synchronously on this thread, as a blocking macro call does: the module is created from the
   * plugin index and its inputs are set by their macro keys.
   */
  static ImagePlus run(Map<String, Object> in) {
    CommandInfo info = context.service(CommandService.class).getCommand(GeneratePhantomsCommand.class);
    Module m = context.service(ModuleService.class).createModule(info);
    for (Map.Entry<String, Object> e : in.entrySet()) {
      assertTrue(info.getInput(e.getKey()) != null, "no input " + e.getKey());
      m.setInput(e.getKey(), e.getValue());
    }
    m.run();
    return (ImagePlus) m.getOutput("phantoms");
  }

  @Test
  void pluginIsHeadlessWithoutMenuAndKeysAreTheFieldNames() {
    CommandInfo info = context.service(CommandService.class).getCommand(GeneratePhantomsCommand.class);
    assertEquals("Generate Phantoms", info.getLabel());
    assertTrue(info.canRunHeadless());
    assertTrue(info.getMenuPath() == null || info.getMenuPath().isEmpty(), "menus come from plugins.config");
    List<String> keys = new ArrayList<>();
    info.inputs().forEach(i -> keys.add(i.getName()));
    // SciJava lists a superclass's fields first (the shared output keys); dialogs and help list the command's own first
    assertEquals(List.of("output", "overwrite", "count", "size", "seed", "classes", "contrast", "ground_truth",
        "shortcut", "shortcut_class", "shortcut_share", "shortcut_corner"), keys);
    assertEquals(List.of("healthy,lesion", "healthy", "lesion"), info.getInput("classes").getChoices());
    assertEquals(ImagePlus.class, info.getOutput("phantoms").getType());
  }

  @Test
  void returnsLabelledStackAndWritesOneAtomicTiffPerSliceIntoClassFolders() throws Exception {
    ImagePlus imp = run(inputs("count", 3, "output", dir.toString()));
    assertEquals("Phantoms", imp.getTitle());
    assertEquals(6, imp.getStackSize());
    assertEquals(16, imp.getWidth());
    assertEquals(32, imp.getBitDepth());
    String[] expected = {"healthy_0000", "healthy_0001", "healthy_0002", "lesion_0000", "lesion_0001", "lesion_0002"};
    for (int i = 0; i < 6; i++) assertEquals(expected[i], imp.getStack().getSliceLabel(i + 1));
    assertEquals(List.of(OutputFolder.MANIFEST, "healthy", "lesion", "phantoms.json"), listing(dir));
    assertEquals(List.of("phantom_0000.tif", "phantom_0000_labels.tif", "phantom_0000_mask.tif", "phantom_0001.tif",
        "phantom_0001_labels.tif", "phantom_0001_mask.tif", "phantom_0002.tif", "phantom_0002_labels.tif",
        "phantom_0002_mask.tif"), listing(dir.resolve("lesion")));
    ImagePlus file = IJ.openImage(dir.resolve("lesion/phantom_0001.tif").toString());
    assertEquals(32, file.getBitDepth());
    assertEquals(1, file.getStackSize());
    assertEquals("lesion_0001", file.getStack().getSliceLabel(1));
    assertEquals("lesion", file.getProp("phantom.class"));
    assertArrayEquals((float[]) imp.getStack().getPixels(5), (float[]) file.getProcessor().getPixels(), 0f);
    // the stack is what the generator makes
    Phantom p = new PhantomGenerator(16, 16, Contrast.T1).generate(5, 1, true);
    assertArrayEquals(p.pixels, (float[]) imp.getStack().getPixels(5), 0f);
  }

  @Test
  void singleClassAndT2() throws Exception {
    ImagePlus imp = run(inputs("classes", "lesion", "contrast", "T2"));
    assertEquals(2, imp.getStackSize());
    assertEquals("lesion_0001", imp.getStack().getSliceLabel(2));
    Phantom p = new PhantomGenerator(16, 16, Contrast.T2).generate(5, 1, true);
    assertArrayEquals(p.pixels, (float[]) imp.getStack().getPixels(2), 0f);
  }

  @Test
  void badInputIsAUserErrorWithARemedy() {
    // names the key, the bad value and what to give instead
    assertMessage(run -> run(inputs("classes", "tumour")), "classes", "tumour", "healthy,lesion");
    assertMessage(run -> run(inputs("size", 8)), "size", "8", "16");
    assertMessage(run -> run(inputs("count", 0)), "count", "0", "1");
    assertMessage(run -> run(inputs("contrast", "PD")), "contrast", "PD", "T1");
  }

  interface Run {
    void accept(Object unused) throws Exception;
  }

  private static void assertMessage(Run call, String... parts) {
    String m = assertThrows(UserException.class, () -> call.accept(null)).getMessage();
    for (String part : parts) assertTrue(m.contains(part), m + " should mention " + part);
  }

  @Test
  void outputBelowAFileIsRefusedBeforeAnyWork() throws Exception {
    Path file = dir.resolve("file.txt");
    Files.write(file, new byte[] {1});
    UserException e = assertThrows(UserException.class, () -> run(inputs("output", file.resolve("out").toString())));
    assertTrue(e.getMessage().contains("is a file, not a folder"), e.getMessage());
  }

  @Test
  void cancelLeavesNoFile() throws Exception {
    int[] polls = {0};
    Ui.setProgress(new Progress() {
      @Override
      public void report(String message, double fraction) {}

      @Override
      public boolean isCancelled() {
        return ++polls[0] > 3;
      }
    });
    try {
      assertThrows(CancelledException.class, () -> run(inputs("count", 5, "output", dir.toString())));
    } finally {
      Ui.setProgress(null);
    }
    // the run's files appear together at its end: a cancelled run leaves none, not even a temporary one
    assertEquals(List.of(), listing(dir));
  }

  /**
   * Ground truth beside each image: the lesion mask and the tissue label map hold exactly the generator's arrays at the
   * size asked for (read back by python3-tifffile), healthy masks are empty, and a mask read at another size with
   * {@link MaskFiles#read} stays on the lesion.
   */
  @Test
  void writesLesionMaskAndLabelMapBesideEachImage() throws Exception {
    for (int size : new int[] {48, 100}) {
      Path out = dir.resolve("s" + size);
      run(inputs("count", 3, "size", size, "seed", 21L, "output", out.toString()));
      PhantomGenerator g = new PhantomGenerator(size, size, Contrast.T1);
      List<String> files = new ArrayList<>();
      for (String cls : new String[] {"healthy", "lesion"}) {
        for (int i = 0; i < 3; i++) {
          Path image = out.resolve(cls).resolve(String.format("phantom_%04d.tif", i));
          files.add(MaskFiles.companion(image, MaskFiles.Kind.LESION).toString());
          files.add(MaskFiles.companion(image, MaskFiles.Kind.LABELS).toString());
        }
      }
      List<String> lines = External.python("import sys, tifffile\n"
          + "for f in sys.argv[1:]:\n"
          + "    a = tifffile.imread(f)\n"
          + "    print(a.dtype, a.shape[0], a.shape[1], a.tobytes().hex())", files.toArray(new String[0]));
      assertEquals(12, lines.size());
      int at = 0;
      for (String cls : new String[] {"healthy", "lesion"}) {
        for (int i = 0; i < 3; i++) {
          Phantom p = g.generate(21, i, cls.equals("lesion"));
          byte[] mask = new byte[size * size];
          for (int k = 0; k < mask.length; k++) mask[k] = p.lesionPixels[k] ? (byte) 255 : 0;
          assertEquals("uint8 " + size + " " + size + " " + hex(mask), lines.get(at++), cls + " " + i + " mask");
          assertEquals("uint8 " + size + " " + size + " " + hex(p.tissue), lines.get(at++), cls + " " + i + " labels");
          assertEquals(cls.equals("lesion"), LesionMaskTest.any(p.lesionPixels));
        }
      }
      // the mask of the 100x100 file, read at 64x64 as a model of that size sees it, lies on the 64x64 lesion
      if (size == 100) {
        for (int i = 0; i < 3; i++) {
          Path image = out.resolve("lesion").resolve(String.format("phantom_%04d.tif", i));
          boolean[] resized = MaskFiles.read(MaskFiles.find(image, "auto", MaskFiles.Kind.LESION).get(), 0, 64, 64);
          boolean[] at64 = new PhantomGenerator(64).generate(21, i, true).lesionPixels;
          double[] c1 = LesionMaskTest.centroid(resized, 64), c2 = LesionMaskTest.centroid(at64, 64);
          assertTrue(Math.hypot(c1[0] - c2[0], c1[1] - c2[1]) < 0.75, "slice " + i);
          assertTrue(LesionMaskTest.iou(resized, at64) > 0.7, "slice " + i + ": " + LesionMaskTest.iou(resized, at64));
        }
      }
    }
    run(inputs("count", 1, "output", dir.resolve("bare").toString(), "ground_truth", "none"));
    assertEquals(List.of("phantom_0000.tif"), listing(dir.resolve("bare").resolve("lesion")));
  }

  /** A planted shortcut: in the image, in its own mask, in the label map and in the metadata; never on the other class. */
  @Test
  void plantsARecordedShortcutWithItsOwnMask() throws Exception {
    ImagePlus stack = run(inputs("count", 3, "size", 64, "output", dir.toString(), "shortcut", "mark",
        "shortcut_share", 1.0, "shortcut_corner", "bottom-right"));
    assertTrue(((String) stack.getProperty("Info")).contains("shortcut=mark shortcut_class=lesion shortcut_share=1.0"
        + " shortcut_corner=bottom-right"));
    for (String cls : new String[] {"healthy", "lesion"}) {
      boolean lesion = cls.equals("lesion");
      for (int i = 0; i < 3; i++) {
        Path image = dir.resolve(cls).resolve(String.format("phantom_%04d.tif", i));
        ImagePlus imp = IJ.openImage(image.toString());
        assertEquals(lesion ? "mark" : "none", imp.getProp("phantom.shortcut"));
        boolean[] sc = MaskFiles.read(MaskFiles.companion(image, MaskFiles.Kind.SHORTCUT), 0, 64, 64);
        float[] px = (float[]) imp.getProcessor().getPixels();
        Phantom plain = new PhantomGenerator(64).generate(5, i, lesion);
        int n = 0;
        for (int k = 0; k < px.length; k++) {
          if (sc[k]) n++;
          if (sc[k]) assertEquals(Shortcut.VALUE, px[k], 0f);
          else assertEquals(plain.pixels[k], px[k], 0f);
        }
        assertEquals(lesion ? 16 : 0, n, cls + " " + i); // a 4x4 mark at 64x64
        int[] labels = MaskFiles.readLabels(MaskFiles.companion(image, MaskFiles.Kind.LABELS));
        for (int k = 0; k < px.length; k++) assertEquals(sc[k], labels[k] == Tissue.SHORTCUT.code());
        if (lesion) {
          String[] box = imp.getProp("phantom.shortcut_box").split(",");
          int x = Integer.parseInt(box[0]), y = Integer.parseInt(box[1]);
          assertTrue(x >= 64 - 4 - 4 && y >= 64 - 4 - 4 && sc[y * 64 + x], imp.getProp("phantom.shortcut_box"));
        }
      }
    }
    assertMessage(r -> run(inputs("shortcut", "logo")), "shortcut", "logo", "mark");
    assertMessage(r -> run(inputs("shortcut", "mark", "shortcut_share", 2.0)), "shortcut_share", "1");
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder(b.length * 2);
    for (byte x : b) sb.append(String.format("%02x", x & 0xff));
    return sb.toString();
  }

  /** The committed example set is exactly what the documented command produces. */
  @Test
  void committedSampleSetMatchesTheDocumentedParameters() throws Exception {
    Path samples = Paths.get("sample-data", "phantoms");
    assertTrue(Files.isDirectory(samples), "run from the project directory: " + samples.toAbsolutePath());
    PhantomGenerator g = new PhantomGenerator(64, 64, Contrast.T1);
    for (String cls : new String[] {"healthy", "lesion"}) {
      assertEquals(3 * 8, listing(samples.resolve(cls)).size(), cls); // image, mask, label map
      for (int i = 0; i < 8; i++) {
        Path image = samples.resolve(cls).resolve(String.format("phantom_%04d.tif", i));
        ImagePlus imp = IJ.openImage(image.toString());
        assertEquals(String.format("%s_%04d", cls, i), imp.getStack().getSliceLabel(1));
        Phantom p = g.generate(1, i, cls.equals("lesion"));
        assertArrayEquals(p.pixels, (float[]) imp.getProcessor().getPixels(), 0f, cls + " " + i);
        assertArrayEquals(p.lesionPixels, MaskFiles.read(MaskFiles.companion(image, MaskFiles.Kind.LESION), 0, 64, 64));
        int[] labels = MaskFiles.readLabels(MaskFiles.companion(image, MaskFiles.Kind.LABELS));
        for (int k = 0; k < labels.length; k++) assertEquals(p.tissue[k], labels[k], cls + " " + i);
      }
    }
  }

  private static List<String> listing(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }
}
