package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.diffxai.tf.TinyPrototypeBundles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example macros of {@code macros/}, unchanged but for their output folder (and sizes, to keep the test short),
 * run in the real ImageJ application under Xvfb with the plugin jar and its dependencies installed; then the files
 * they wrote are checked with independent readers.
 */
class ExampleMacrosTest {
  static ImageJApp app;

  @BeforeAll
  static void install() {
    app = ImageJApp.builder().build();
  }

  @AfterAll
  static void remove() {
    if (app != null) app.close();
  }

  /** The macro file with its {@code outputDir = ...;} line pointed at {@code out}. */
  static String macro(String name, Path out, String... replacements) throws Exception {
    String text = Files.readString(Paths.get("macros", name));
    String line = text.lines().filter(l -> l.startsWith("outputDir = ")).findFirst().get();
    text = text.replace(line, "outputDir = \"" + out.toString().replace("\\", "/") + "\";\nFile.makeDirectory(outputDir);");
    for (int i = 0; i < replacements.length; i += 2) {
      assertTrue(text.contains(replacements[i]), name + " should contain " + replacements[i]);
      text = text.replace(replacements[i], replacements[i + 1]);
    }
    return text;
  }

  static List<String> list(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  static String python(String script, String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/python3", "-c", script));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  @Test
  void generatePhantomsMacro(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("phantoms");
    ImageJApp.Result r = app.runMacro(macro("generate_phantoms.ijm", out, "count=16 size=128", "count=3 size=64"));
    assertTrue(r.completed(), r.toString());
    assertEquals(List.of("healthy", "lesion"), list(out));
    assertEquals(3, list(out.resolve("healthy")).size());
    String shape = python("import tifffile,sys; a=tifffile.imread(sys.argv[1]); print(a.shape, a.dtype)",
        out.resolve("lesion").resolve("phantom_0002.tif").toString());
    assertEquals("(64, 64) float32", shape);
  }

  @Test
  void synthesizeMacroOnTheBundledSampleModel(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("synthesis");
    ImageJApp.Result r = app.runMacro(macro("synthesize.ijm", out, "samples=4 steps=50", "samples=2 steps=10",
        "keep_every=10", "keep_every=3"));
    assertTrue(r.completed(), r.toString());
    assertTrue(r.log().contains("Synthesized 2 image(s)"), r.toString()); // samples and trajectory
    assertEquals(List.of("samples.tif", "synthesis.csv", "synthesis.json", "trajectory.tif"), list(out));
    String shapes = python("import tifffile,sys\n"
        + "for f in sys.argv[1:]:\n"
        + "    a = tifffile.imread(f); print(a.shape, a.dtype)",
        out.resolve("samples.tif").toString(), out.resolve("trajectory.tif").toString());
    // 2 samples of 64x64; trajectory: kept steps 0,3,6,9 = 4 frames x 2 samples x (x_t, x0_pred)
    assertEquals("(2, 64, 64) float32" + "\n" + "(4, 2, 2, 64, 64) float32", shapes);
    List<String> csv = Files.readAllLines(out.resolve("synthesis.csv"));
    assertEquals(3, csv.size(), String.join(File.separator, csv));
  }

  /** On a real tiny PPNet (32×32) instead of the bundled sample: the 64×64 phantoms go through the resize path. */
  @Test
  void explainPrototypesMacro(@TempDir Path tmp) throws Exception {
    Path bundle = TinyPrototypeBundles.train(tmp, "PPNet");
    Path out = tmp.resolve("explain");
    Path active = tmp.resolve("explain-active");
    // Appended: image=[] explains the active image (the phantoms again, selected by title), top 1.
    ImageJApp.Result r = app.runMacro(macro("explain_prototypes.ijm", out, "model=sample-ppnet",
        "model=[" + bundle + "]", "setBatchMode(false);", "selectImage(\"Phantoms\");\nrun(\"Explain with Prototypes\","
        + " \"image=[] model=[" + bundle + "] top=1 device=cpu output=[" + active + "]\");\nsetBatchMode(false);"));
    assertTrue(r.completed(), r.toString());
    List<String> activeCsv = Files.readAllLines(active.resolve("explain.csv"));
    assertEquals(5, activeCsv.size(), String.join("\n", activeCsv));
    assertTrue(activeCsv.get(1).startsWith("Phantoms,1,"), activeCsv.get(1));
    // 4 slices x top 3 panels; the first panel's label names slice, rank and prototype
    assertTrue(r.log().contains("Prototype explanation: 12 panels; first: slice 1 rank 1 prototype "), r.toString());
    assertEquals(List.of("explain.csv", "explain.json", "overlays.tif"), list(out));
    List<String> csv = Files.readAllLines(out.resolve("explain.csv"));
    assertEquals("image,slice,predicted,probability,p_healthy,p_lesion,target,rank,prototype,prototype_class,"
        + "similarity,weight,contribution,source_image,source_box,box", csv.get(0));
    assertEquals(13, csv.size());
    assertTrue(csv.get(1).startsWith("Phantoms,1,"), csv.get(1));
    String shapes = python("import tifffile, json, sys\n"
        + "with tifffile.TiffFile(sys.argv[1]) as t:\n"
        + "    a = t.asarray(); print(a.shape, a.dtype, len(t.imagej_metadata['Labels']))\n"
        + "d = json.load(open(sys.argv[2])); print(d['image_size'], d['model_input'], d['model.name'])",
        out.resolve("overlays.tif").toString(), out.resolve("explain.json").toString());
    // 64 px slice + 2 px gap + the 32 px gallery image scaled to 64 px
    assertEquals("(12, 64, 130, 3) uint8 12\n64x64 32x32 tiny-PPNet", shapes);
  }

  @Test
  void trainPrototypesMacro(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("prototypes");
    ImageJApp.Result r = app.runMacro(macro("train_prototypes.ijm", out, "count=60 size=64", "count=6 size=32",
        "prototypes_per_class=5 size=64", "prototypes_per_class=2 size=32",
        "epochs=10 batch=32 push_every=5 last_layer_epochs=2", "epochs=2 batch=8 push_every=1 last_layer_epochs=1"));
    assertTrue(r.completed(), r.toString());
    Path bundle = out.resolve("ppnet");
    assertEquals(List.of("gallery.tif", "model.json", "prototypes.json", "saved_model.pb", "training.csv",
        "variables"), list(bundle));
    // independent readers: 4 gallery planes of 32x32, each prototype's boxes inside its 32x32 source image
    String check = python("import json,sys,tifffile\n"
        + "g = tifffile.imread(sys.argv[1]); p = json.load(open(sys.argv[2]))\n"
        + "ok = all(b[0] >= 0 and b[1] >= 0 and b[0] + b[2] <= 32 and b[1] + b[3] <= 32\n"
        + "         for q in p['prototypes'] for b in (q['receptive_box'], q['activation_box']))\n"
        + "print(g.shape, g.dtype, p['method'], len(p['prototypes']), ok)",
        bundle.resolve("gallery.tif").toString(), bundle.resolve("prototypes.json").toString());
    assertEquals("(4, 32, 32) float32 PPNet 4 True", check);
  }
}
