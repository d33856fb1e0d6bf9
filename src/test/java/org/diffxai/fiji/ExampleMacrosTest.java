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
import org.diffxai.model.TestBundles;
import org.diffxai.tf.TinyPrototypeBundles;
import org.diffxai.run.OutputFolder;
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
    // 240 s per macro: on a machine shared by several jobs (load average 20-30) Optimise Conditioning's macro took
    // 106 s once and over 120 s once, most of it starting ImageJ, TensorFlow and the two models
    app = ImageJApp.builder().timeout(java.time.Duration.ofSeconds(240)).build();
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
    assertEquals(List.of(OutputFolder.MANIFEST, "healthy", "lesion", "phantoms.json"), list(out));
    assertEquals(List.of("phantom_0000.tif", "phantom_0000_labels.tif", "phantom_0000_mask.tif", "phantom_0001.tif",
        "phantom_0001_labels.tif", "phantom_0001_mask.tif", "phantom_0002.tif", "phantom_0002_labels.tif",
        "phantom_0002_mask.tif"), list(out.resolve("healthy"))); // each image with its ground truth
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
    assertEquals(List.of(OutputFolder.MANIFEST, "samples.tif", "synthesis.csv", "synthesis.json", "trajectory.ome.tif",
        "trajectory.tif"),
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

  /** Optimise Conditioning on the bundled sample denoiser and sample-ppnet, cut to 1 iteration of 2 DDIM steps. */
  @Test
  void optimiseConditioningMacro(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("conditioning");
    ImageJApp.Result r = app.runMacro(macro("optimise_conditioning.ijm", out, "iterations=10 steps=10 samples=2",
        "iterations=1 steps=2 samples=1"));
    assertTrue(r.completed(), r.toString());
    assertTrue(r.log().contains("Optimised conditioning: 2 slices"), r.toString()); // learned, optimised
    assertEquals(List.of(OutputFolder.MANIFEST, "conditioning.csv", "conditioning.json", "conditioning_embeddings.csv",
        "conditioning_objective.png", "conditioning_samples.csv", "conditioning_samples.tif"), list(out));
    List<String> csv = Files.readAllLines(out.resolve("conditioning.csv"));
    assertEquals(3, csv.size(), String.join("\n", csv)); // iterations 0, 1
    assertTrue(csv.get(0).startsWith("iteration,objective,log_p_lesion,p_lesion,penalty,distance,"), csv.get(0));
    assertEquals("(2, 64, 64) float32", python("import tifffile,sys; a=tifffile.imread(sys.argv[1]);"
        + " print(a.shape, a.dtype)", out.resolve("conditioning_samples.tif").toString()));
  }

  /** Bias Report on phantoms with a planted mark, with a real tiny PPNet: the files, the table and the Log's verdict. */
  @Test
  void biasReportMacro(@TempDir Path tmp) throws Exception {
    Path bundle = TinyPrototypeBundles.train(tmp, "PPNet");
    Path out = tmp.resolve("bias");
    ImageJApp.Result r = app.runMacro(macro("bias_report.ijm", out, "model=sample-ppnet", "model=[" + bundle + "]",
        "phantomDir = base + File.separator + \"bias-phantoms\";", "phantomDir = \""
        + tmp.resolve("phantoms").toString().replace("\\", "/") + "\";"));
    assertTrue(r.completed(), r.toString());
    assertTrue(r.log().contains("Bias Report: "), r.toString());
    List<String> files = list(out);
    for (String f : new String[] {OutputFolder.MANIFEST, "bias_prototypes.csv", "bias_report.csv", "bias_report.json",
        "bias_report.md"}) {
      assertTrue(files.contains(f), files.toString());
    }
    List<String> csv = Files.readAllLines(out.resolve("bias_report.csv"));
    assertEquals(9, csv.size(), String.join("\n", csv)); // 4 healthy + 4 lesion phantoms
    assertTrue(csv.get(0).startsWith("image,slice,predicted,anatomy,anatomy_fraction,mass_outside,"), csv.get(0));
    assertTrue(csv.get(1).contains(",mask,"), csv.get(1)); // masks=auto read the label maps
    String md = Files.readString(out.resolve("bias_report.md"));
    assertTrue(md.startsWith("# Bias report"), md);
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
    assertEquals(List.of(OutputFolder.MANIFEST, "explain.csv", "explain.json", "overlays.tif"), list(out));
    List<String> csv = Files.readAllLines(out.resolve("explain.csv"));
    assertEquals("image,slice,predicted,probability,p_healthy,p_lesion,ood,target,rank,prototype,prototype_class,"
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

  /** Integrated Gradients of the bundled sample PPNet on four phantoms (8 steps to keep it short). */
  @Test
  void attributionMapsMacroOnTheBundledSample(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("attributions");
    ImageJApp.Result r = app.runMacro(macro("attribution_maps.ijm", out, "steps=32", "steps=8"));
    assertTrue(r.completed(), r.toString());
    assertTrue(r.log().contains("Attribution maps: 8 planes in Attribution maps (integrated_gradients)"), r.toString());
    assertEquals(List.of(OutputFolder.MANIFEST, "attributions.csv", "attributions.json", "attributions.tif"),
        list(out));
    String shapes = python("import tifffile, json, sys\n"
        + "a = tifffile.imread(sys.argv[1]); print(a.shape, a.dtype)\n"
        + "d = json.load(open(sys.argv[2])); print(d['attribution.method'], d['attribution.steps'], d['model.name'])",
        out.resolve("attributions.tif").toString(), out.resolve("attributions.json").toString());
    assertEquals("(4, 2, 64, 64) float32\nintegrated_gradients 8 sample-ppnet", shapes);
    assertEquals(5, Files.readAllLines(out.resolve("attributions.csv")).size());
  }

  @Test
  void faithfulnessScoreMacroOnATinyTrainedPrototypeNetwork(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("faithfulness");
    Path bundle = TinyPrototypeBundles.train(tmp, "PPNet");
    ImageJApp.Result r = app.runMacro(macro("faithfulness_score.ijm", out,
        "\"sample-ppnet\"", "\"" + bundle.toString().replace("\\", "/") + "\"", "imageSize = 64;", "imageSize = 32;"));
    assertTrue(r.completed(), r.toString());
    assertTrue(r.log().contains("image,slice,target,metric,value,ci_low,ci_high,forwards,note"), r.toString());
    assertEquals(List.of(OutputFolder.MANIFEST, "faithfulness.csv", "faithfulness.json", "faithfulness_curves.csv",
        "faithfulness_deletion.png", "faithfulness_faithfulness_correlation.png", "faithfulness_insertion.png",
        "faithfulness_monotonicity.png", "faithfulness_prototype_perturbation.png",
        "faithfulness_prototype_similarity_drop.png", "faithfulness_region_perturbation.png"), list(out));
    // 4 phantoms x 8 metrics, then 8 mean rows; read by Python's csv module
    String counts = python("import csv,sys,collections\n"
        + "rows = list(csv.DictReader(open(sys.argv[1])))\n"
        + "print(len(rows), sorted(collections.Counter(r['slice'] for r in rows).items()))",
        out.resolve("faithfulness.csv").toString());
    assertEquals("40 [('1', 8), ('2', 8), ('3', 8), ('4', 8), ('mean', 8)]", counts);
  }

  @Test
  void compareMethodsMacroOnTinyBundles(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("compare");
    List<String> models = new java.util.ArrayList<>();
    for (String m : new String[] {"PPNet", "EPPNet", "ProtoPool"}) {
      models.add(TinyPrototypeBundles.train(tmp, m).toString());
    }
    Path denoiser = TestBundles.spec().size(32, 32).classes("healthy", "lesion").write(tmp.resolve("denoiser"));
    ImageJApp.Result r = app.runMacro(macro("compare_methods.ijm", out,
        "denoiser=sample samples=32 steps=50", "denoiser=[" + denoiser + "] samples=3 steps=4",
        "models=[sample-ppnet,sample-eppnet,sample-protopool]", "models=[" + String.join(",", models) + "]",
        "runs=100", "runs=10"));
    assertTrue(r.completed(), r.toString());
    // 3 models x (8 metrics of their own map + 5 of the random map + 2 x 2 randomisation similarities)
    assertTrue(r.log().contains("Compared 51 rows"), r.toString());
    assertTrue(r.log().contains("tiny-EPPNet  random  deletion  "), r.toString());
    List<String> files = list(out);
    assertTrue(files.containsAll(List.of("compare.csv", "compare.json", "compare_images.csv", "compare_deletion.png",
        "compare_spearman_vs_real.png")), files.toString());
    assertEquals(52, Files.readAllLines(out.resolve("compare.csv")).size());
  }

  @Test
  void explainTrajectoryMacroOnATinyBundle(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("explain");
    Path ppnet = TinyPrototypeBundles.train(tmp, "PPNet");
    Path denoiser = TestBundles.spec().size(32, 32).classes("healthy", "lesion").write(tmp.resolve("denoiser"));
    ImageJApp.Result r = app.runMacro(macro("explain_trajectory.ijm", out,
        "model=sample samples=2 steps=50", "model=[" + denoiser + "] samples=2 steps=7",
        "keep_every=5", "keep_every=2", "model=sample-ppnet", "model=[" + ppnet + "]"));
    assertTrue(r.completed(), r.toString());
    // kept steps 1, 3, 5, 7 of 2 samples; one decision line per sample; Synthesized, Trajectory, Heatmaps and one
    // plot per sample open
    assertTrue(r.log().contains("Explained 8 steps; heatmaps: 5 image(s) open"), r.toString());
    assertEquals(2, r.log().lines().filter(l -> l.matches("sample \\d: (\\w+ from step \\d \\(t=\\d+\\) on|undecided .*)"))
        .count(),
        r.toString());
    assertTrue(list(out).contains("trajectory.tif"), list(out).toString());
    Path explained = out.resolve("explained");
    assertEquals(List.of(OutputFolder.MANIFEST, "explain_trajectory.csv", "explain_trajectory.json",
        "explain_trajectory_sample_1.png", "explain_trajectory_sample_2.png", "heatmaps.ome.tif", "heatmaps.tif"),
        list(explained));
    String shape = python("import tifffile,sys; a=tifffile.imread(sys.argv[1]); print(a.shape, a.dtype)",
        explained.resolve("heatmaps.tif").toString());
    assertEquals("(4, 2, 5, 32, 32) float32", shape);
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
    assertEquals(List.of(OutputFolder.MANIFEST, "trajectory_profile.csv", "trajectory_profile.json",
        "trajectory_profile.png"), list(out));
    List<String> csv = Files.readAllLines(out.resolve("trajectory_profile.csv"));
    assertEquals(7, csv.size(), String.join("\n", csv));
    assertTrue(csv.get(6).startsWith("10,0,"), csv.get(6));
    java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(out.resolve("trajectory_profile.png").toFile());
    assertTrue(png.getWidth() > 400 && png.getHeight() > 200, png.getWidth() + "x" + png.getHeight());
  }

  @Test
  void trainPrototypesMacro(@TempDir Path tmp) throws Exception {
    Path out = tmp.resolve("prototypes");
    ImageJApp.Result r = app.runMacro(macro("train_prototypes.ijm", out, "count=60 size=64", "count=6 size=32",
        "prototypes_per_class=5 size=64", "prototypes_per_class=2 size=32",
        "epochs=10 batch=32 push_every=5 last_layer_epochs=2", "epochs=2 batch=8 push_every=1 last_layer_epochs=1"));
    assertTrue(r.completed(), r.toString());
    Path bundle = out.resolve("ppnet");
    assertEquals(List.of(OutputFolder.MANIFEST, "gallery.tif", "model.json", "prototypes.json", "saved_model.pb",
        "training.csv", "variables"), list(bundle));
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
