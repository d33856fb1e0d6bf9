package org.diffxai.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.io.FileSaver;
import ij.process.FloatProcessor;
import ij.process.ImageProcessor;
import ij.process.ShortProcessor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.diffxai.core.PrototypeActivations;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.io.ImageReaders;
import org.diffxai.model.ClassifierBundle;
import org.diffxai.model.ClassifierModels;
import org.diffxai.tf.TinyPrototypeBundles;
import org.diffxai.run.OutputFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Explain with Prototypes end to end through the command line, on real tiny prototype networks trained by the
 * project's trainer (PPNet, EPPNet, ProtoPool) and loaded through TensorFlow: the table is checked against the
 * network's own outputs, and the files against independent readers.
 */
class ExplainPrototypesCommandTest {
  static final String LABEL = "Explain with Prototypes";
  @TempDir static Path dir;
  static Path ppnet;
  static Path stack;
  static float[][] planes;

  /** Three phantoms of the tiny networks' training folder (healthy 0, lesion 0, healthy 1) as one 32-bit stack. */
  @BeforeAll
  static void fixtures() {
    ppnet = TinyPrototypeBundles.train(dir, "PPNet");
    Path phantoms = TinyPrototypeBundles.phantomFolder();
    List<Path> files = List.of(phantoms.resolve("healthy/phantom_0000.tif"), phantoms.resolve("lesion/phantom_0000.tif"),
        phantoms.resolve("healthy/phantom_0001.tif"));
    ImageStack st = new ImageStack(TinyPrototypeBundles.SIZE, TinyPrototypeBundles.SIZE);
    planes = new float[files.size()][];
    for (int i = 0; i < files.size(); i++) {
      planes[i] = ImageReaders.readPlane(files.get(i)).plane(0);
      st.addSlice(files.get(i).getParent().getFileName() + " " + i, new FloatProcessor(32, 32, planes[i].clone()));
    }
    stack = dir.resolve("three phantoms.tif");
    new FileSaver(new ImagePlus("three", st)).saveAsTiffStack(stack.toString());
  }

  static List<Map<String, String>> csv(Path file) throws Exception {
    List<String> lines = Files.readAllLines(file);
    String[] head = lines.get(0).split(",");
    List<Map<String, String>> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      List<String> cells = new ArrayList<>();
      StringBuilder cell = new StringBuilder();
      boolean quoted = false;
      for (char ch : line.toCharArray()) {
        if (ch == '"') quoted = !quoted;
        else if (ch == ',' && !quoted) {
          cells.add(cell.toString());
          cell.setLength(0);
        } else cell.append(ch);
      }
      cells.add(cell.toString());
      assertEquals(head.length, cells.size(), line);
      Map<String, String> m = new java.util.LinkedHashMap<>();
      for (int i = 0; i < head.length; i++) m.put(head[i], cells.get(i));
      rows.add(m);
    }
    return rows;
  }

  static CliTest.Out explain(String options) {
    return CliTest.inProcess(LABEL, options);
  }

  @Test
  void explainsEverySliceAndTheTableIsTheNetworksOwnArithmetic() throws Exception {
    Path out = dir.resolve("out-ppnet");
    int top = 3;
    CliTest.Out r = explain("image=[" + stack + "] model=[" + ppnet + "] top=" + top + " device=cpu output=[" + out
        + "]");
    assertEquals(0, r.code, r.toString());
    assertEquals(List.of(OutputFolder.MANIFEST, "explain.csv", "explain.json", "overlays.tif"),
        ExampleMacrosTest.list(out));
    List<Map<String, String>> rows = csv(out.resolve("explain.csv"));
    assertEquals("[image, slice, predicted, probability, p_healthy, p_lesion, ood, target, rank, prototype,"
        + " prototype_class, similarity, weight, contribution, source_image, source_box, box]",
        rows.get(0).keySet().toString());
    assertEquals(3 * top, rows.size());

    try (PrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(ppnet.toString()), "cpu")) {
      float[] x = new float[3 * 32 * 32];
      for (int i = 0; i < 3; i++) System.arraycopy(planes[i], 0, x, i * 1024, 1024);
      PrototypeActivations a = c.activations(x, 3);
      float[][] w = c.lastLayer();
      for (Map<String, String> row : rows) {
        int s = Integer.parseInt(row.get("slice")) - 1;
        int k = a.logits[s][0] >= a.logits[s][1] ? 0 : 1;
        assertEquals(c.classNames().get(k), row.get("predicted"), row.toString());
        assertEquals(row.get("predicted"), row.get("target"));
        int p = Integer.parseInt(row.get("prototype"));
        assertEquals(a.scores[s][p], Double.parseDouble(row.get("similarity")), 1e-5, row.toString());
        assertEquals(w[k][p], Double.parseDouble(row.get("weight")), 1e-6);
        assertEquals((double) a.scores[s][p] * w[k][p], Double.parseDouble(row.get("contribution")), 1e-5);
        // calibrated: softmax(logits / T) with the bundle's temperature
        double pk = 1 / (1 + Math.exp((a.logits[s][1 - k] - a.logits[s][k]) / c.confidence().temperature()));
        assertEquals(pk, Double.parseDouble(row.get("probability")), 1e-5);
        assertEquals(a.ood[s] ? "1" : "0", row.get("ood"), row.toString());
        assertEquals(c.prototype(p).sourceImage, row.get("source_image"));
        int[] sb = c.prototype(p).activationBox;
        assertEquals(sb[0] + "," + sb[1] + "," + sb[2] + "," + sb[3], row.get("source_box"));
        int[] box = Arrays.stream(row.get("box").split(",")).mapToInt(Integer::parseInt).toArray();
        assertTrue(box[0] >= 0 && box[1] >= 0 && box[2] >= 1 && box[3] >= 1 && box[0] + box[2] <= 32
            && box[1] + box[3] <= 32, row.toString());
      }
      // Ranks are by contribution, largest first.
      for (int i = 1; i < rows.size(); i++) {
        if (rows.get(i).get("slice").equals(rows.get(i - 1).get("slice"))) {
          assertTrue(Double.parseDouble(rows.get(i).get("contribution"))
              <= Double.parseDouble(rows.get(i - 1).get("contribution")), rows.get(i).toString());
        }
      }
    }
    String tif = ExampleMacrosTest.python("import tifffile, sys\n"
        + "with tifffile.TiffFile(sys.argv[1]) as t:\n"
        + "    a = t.asarray(); print(a.shape, a.dtype, 'model.checksum' in t.imagej_metadata['Info'])",
        out.resolve("overlays.tif").toString());
    assertEquals("(9, 32, 66, 3) uint8 True", tif); // 32 px image + 2 px gap + 32 px gallery image
    String json = ExampleMacrosTest.python("import json, sys\n"
        + "d = json.load(open(sys.argv[1])); print(d['model.name'], d['model.checksum'], d['method'], d['top'])",
        out.resolve("explain.json").toString());
    assertEquals("tiny-PPNet " + ClassifierBundle.open(ppnet.toString()).checksum() + " PPNet 3", json);
  }

  /**
   * For every method the network's logit is the sum of all P contributions (the last layer is linear in the scores):
   * with top = P (asked as top=100: more than P shows all P) the table's contributions add up to the logit TensorFlow
   * computed.
   */
  @Test
  void allContributionsAddUpToTheLogitForEveryMethod() throws Exception {
    for (String method : new String[] {"PPNet", "EPPNet", "ProtoPool"}) {
      Path bundle = TinyPrototypeBundles.train(dir, method);
      Path out = dir.resolve("out-all-" + method);
      try (PrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(bundle.toString()), "cpu")) {
        int p = c.prototypes();
        CliTest.Out r = explain("image=[" + stack + "] model=[" + bundle + "] top=100 target=lesion device=cpu"
            + " output=[" + out + "]");
        assertEquals(0, r.code, r.toString());
        float[] x = new float[3 * 1024];
        for (int i = 0; i < 3; i++) System.arraycopy(planes[i], 0, x, i * 1024, 1024);
        float[][] logits = c.logits(x, 3);
        List<Map<String, String>> rows = csv(out.resolve("explain.csv"));
        assertEquals(3 * p, rows.size());
        for (int s = 0; s < 3; s++) {
          final int slice = s + 1;
          double sum = rows.stream().filter(m -> Integer.parseInt(m.get("slice")) == slice)
              .mapToDouble(m -> Double.parseDouble(m.get("contribution"))).sum();
          assertEquals(logits[s][1], sum, 1e-3 * Math.max(1, Math.abs(logits[s][1])), method + " slice " + slice);
        }
        assertTrue(rows.stream().allMatch(m -> m.get("target").equals("lesion")), method);
      }
    }
  }

  /** A 16-bit image twice the model's size goes through the resize path; boxes come back in its own pixels. */
  @Test
  void largerSixteenBitImageIsResizedAndBoxesAreInItsPixels() throws Exception {
    float[] p = planes[1];
    float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
    for (float v : p) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    ImageProcessor fp = new FloatProcessor(32, 32, p.clone());
    fp.setInterpolationMethod(ImageProcessor.BILINEAR);
    FloatProcessor big = (FloatProcessor) fp.resize(64, 64);
    ShortProcessor sp = new ShortProcessor(64, 64);
    for (int i = 0; i < 64 * 64; i++) sp.set(i, Math.round(1000 + 3000 * (big.getf(i) - min) / (max - min)));
    Path file = dir.resolve("big16.tif");
    new FileSaver(new ImagePlus("big16", sp)).saveAsTiff(file.toString());
    Path out = dir.resolve("out-big");
    CliTest.Out r = explain("image=[" + file + "] model=[" + ppnet + "] top=2 device=cpu output=[" + out + "]");
    assertEquals(0, r.code, r.toString());
    List<Map<String, String>> rows = csv(out.resolve("explain.csv"));
    assertEquals(2, rows.size());
    for (Map<String, String> row : rows) {
      int[] box = Arrays.stream(row.get("box").split(",")).mapToInt(Integer::parseInt).toArray();
      assertTrue(box[0] + box[2] <= 64 && box[1] + box[3] <= 64, row.toString());
    }
    String json = ExampleMacrosTest.python("import json, sys\n"
        + "d = json.load(open(sys.argv[1])); print(d['image_size'], d['model_input'], d['input_scale'])",
        out.resolve("explain.json").toString());
    assertEquals("64x64 32x32 2,2", json);
    assertEquals("(2, 64, 130, 3)", ExampleMacrosTest.python("import tifffile, sys; print(tifffile.imread(sys.argv[1])"
        + ".shape)", out.resolve("overlays.tif").toString()));
  }
}
