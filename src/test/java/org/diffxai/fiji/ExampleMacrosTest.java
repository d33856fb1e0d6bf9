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
    assertEquals(List.of("samples.tif", "synthesis.csv", "synthesis.json", "trajectory.ome.tif", "trajectory.tif"),
        list(out));
    String shapes = python("import tifffile,sys\n"
        + "for f in sys.argv[1:]:\n"
        + "    a = tifffile.imread(f); print(a.shape, a.dtype)",
        out.resolve("samples.tif").toString(), out.resolve("trajectory.tif").toString(),
        out.resolve("trajectory.ome.tif").toString());
    // 2 samples of 64x64; trajectory: kept steps 0,3,6,9 = 4 frames x 2 samples x (x_t, x0_pred)
    assertEquals("(2, 64, 64) float32" + "\n" + "(4, 2, 2, 64, 64) float32" + "\n" + "(4, 2, 2, 64, 64) float32",
        shapes);
    List<String> csv = Files.readAllLines(out.resolve("synthesis.csv"));
    assertEquals(3, csv.size(), String.join(File.separator, csv));
  }

  @Test
  void exportTrajectoryMacroWritesAnOmeTiffWithTimestepsPerPlane(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("export");
    ImageJApp.Result r = app.runMacro(macro("export_trajectory.ijm", out, "samples=2 steps=20", "samples=2 steps=10"));
    assertTrue(r.completed(), r.toString());
    assertTrue(r.log().contains("Trajectory exported to"), r.toString());
    assertEquals(List.of("trajectory.ome.tif"), list(out));
    String info = python(String.join("\n",
        "import sys, tifffile, xml.etree.ElementTree as ET",
        "ns = {'o': 'http://www.openmicroscopy.org/Schemas/OME/2016-06'}",
        "with tifffile.TiffFile(sys.argv[1]) as tf:",
        "    a = tf.series[0].asarray()",
        "    root = ET.fromstring(tf.ome_metadata)",
        "    px = root.find('o:Image/o:Pixels', ns)",
        "    maps = {m.get('ID'): {x.get('K'): x.text for x in m.findall('o:Value/o:M', ns)}",
        "            for m in root.findall('o:StructuredAnnotations/o:MapAnnotation', ns)}",
        "    t = {}",
        "    for p in px.findall('o:Plane', ns):",
        "        t[int(p.get('TheT'))] = maps[p.find('o:AnnotationRef', ns).get('ID')]['timestep']",
        "    print(tf.is_ome, tf.series[0].axes, a.shape, a.dtype, tf.pages[0].compression.name)",
        "    print(','.join(c.get('Name') for c in px.findall('o:Channel', ns)), ','.join(t[k] for k in sorted(t)))"),
        out.resolve("trajectory.ome.tif").toString());
    // DDIM 10 steps over 1000 training steps: t = 900, 800, ..., 0; kept steps 0, 5 and the last
    assertEquals("True TZCYX (3, 2, 3, 64, 64) float32 ADOBE_DEFLATE\nx_t,x0_pred,eps_pred 900,400,0", info);
  }

  @Test
  void trajectoryProfileMacroWritesTableAndPlot(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("profile");
    ImageJApp.Result r = app.runMacro(macro("trajectory_profile.ijm", out, "samples=2 steps=20", "samples=2 steps=10"));
    assertTrue(r.completed(), r.toString());
    assertTrue(r.log().contains("Kept steps profiled: 6"), r.toString()); // steps 0, 2, 4, 6, 8 and the last
    assertEquals(List.of("trajectory_profile.csv", "trajectory_profile.png"), list(out));
    List<String> csv = Files.readAllLines(out.resolve("trajectory_profile.csv"));
    assertEquals(7, csv.size(), String.join("\n", csv));
    assertTrue(csv.get(6).startsWith("10,0,"), csv.get(6));
    java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(out.resolve("trajectory_profile.png").toFile());
    assertTrue(png.getWidth() > 400 && png.getHeight() > 200, png.getWidth() + "x" + png.getHeight());
  }
}
