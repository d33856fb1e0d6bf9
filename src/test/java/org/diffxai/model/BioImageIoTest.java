package org.diffxai.model;

import org.diffxai.io.Checksums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.diffxai.core.Classifier;
import org.diffxai.core.Denoiser;
import org.diffxai.core.UserException;
import org.diffxai.io.ImageReaders;
import org.diffxai.io.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * bioimage.io export and import: packages of a project-trained prototype network, of ONNX and TorchScript classifiers
 * and of denoisers validate against the bioimage.io JSON Schema (checked by Debian's python3-jsonschema, offline),
 * re-import as bundles whose test tensors reproduce within the declared tolerance, and compute what the original
 * bundle computes. Broken packages give one message each.
 */
class BioImageIoTest {
  static final OffsetDateTime WHEN = OffsetDateTime.of(2026, 12, 1, 12, 0, 0, 0, ZoneOffset.UTC);

  @TempDir Path tmp;

  /** Validates a package's bioimageio.yaml against the schema copied into the test resources; returns the errors. */
  static String schemaErrors(Path pkg, Path work) throws Exception {
    Path schema = work.resolve("bioimageio_schema.json");
    if (!Files.exists(schema)) {
      try (InputStream in = BioImageIoTest.class.getResourceAsStream("bioimageio/bioimageio_schema.json")) {
        Files.copy(in, schema);
      }
    }
    String script = "import json, sys, yaml, jsonschema\n"
        + "schema = json.load(open(sys.argv[1]))\n"
        + "doc = json.loads(json.dumps(yaml.safe_load(open(sys.argv[2])), default=str))\n"
        + "errs = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))\n"
        + "sub = dict(schema); sub.pop('oneOf'); sub.pop('discriminator')\n"
        + "sub['$ref'] = '#/$defs/bioimageio__spec__model__v0_5__ModelDescr'\n"
        + "errs += list(jsonschema.Draft202012Validator(sub).iter_errors(doc))\n"
        + "print('\\n'.join(list(e.json_path) and e.json_path + ': ' + e.message[:300] for e in errs) or 'VALID')\n";
    Process p = new ProcessBuilder(TorchFixtures.PYTHON, "-c", script, schema.toString(),
        pkg.resolve(BioImageIo.DESCRIPTION).toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), "validator failed (needs python3-yaml and python3-jsonschema):\n" + out);
    return out;
  }

  private static void assertValid(Path pkg, Path work) throws Exception {
    String errors = schemaErrors(pkg, work);
    assertEquals("VALID", errors, pkg + "/bioimageio.yaml:\n" + Files.readString(pkg.resolve(BioImageIo.DESCRIPTION)));
  }

  private static float[][] logits(ClassifierBundle b, float[] x, int n) {
    try (Classifier c = Models.classifier(b, "cpu")) {
      return c.logits(x, n);
    }
  }

  private static double maxDiff(float[][] a, float[][] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[i].length; j++) m = Math.max(m, Math.abs(a[i][j] - b[i][j]));
    }
    return m;
  }

  @Test
  void prototypeNetworkExportValidatesReimportsAndReproduces() throws Exception {
    ClassifierBundle ppnet = ClassifierBundle.open("sample-ppnet");
    Path pkg = BioImageIo.exportClassifier(ppnet, null, tmp.resolve("ppnet-package"), "cpu",
        new BioImageIo.Extras().timestamp(WHEN).license("BSD-2-Clause").authors("Diffusion XAI developers"));
    List<String> files = list(pkg);
    assertEquals(Arrays.asList("README.md", "bioimageio.yaml", "cover.png", "diffusion-xai-model.json",
        "test_input.npy", "test_output.npy", "tf_saved_model.zip"), files);
    assertValid(pkg, tmp);
    String yaml = Files.readString(pkg.resolve(BioImageIo.DESCRIPTION));
    assertTrue(yaml.contains("tensorflow_saved_model_bundle:"), yaml);
    assertTrue(yaml.contains("id: scale_linear"), yaml);
    assertTrue(yaml.contains("doi: 10.48550/arXiv.1806.10574"), yaml);

    // re-import (from the .zip, as bioimage.io distributes packages); the test tensors are checked on import
    Path zip = BioImageIo.zip(pkg, tmp.resolve("ppnet.zip"));
    Path bundle = BioImageIo.importPackage(zip, BioImageIo.Role.CLASSIFIER, tmp.resolve("cache"));
    ClassifierBundle imported = ClassifierBundle.open(bundle);
    assertEquals(ppnet.classNames(), imported.classNames());
    float[] images = ImageReaders.readFloatStack(ppnet.galleryPath()).toNHWC();
    int n = Math.min(6, images.length / (64 * 64));
    float[] x = Arrays.copyOf(images, n * 64 * 64);
    double d = maxDiff(logits(ppnet, x, n), logits(imported, x, n));
    System.out.println("sample-ppnet vs its bioimage.io re-import, logits on " + n + " gallery images: max |diff| " + d);
    assertTrue(d <= BioImageIo.TOLERANCE, "" + d);

    // the test tensors as written reproduce within the declared tolerance
    float[] in = Npy.read(pkg.resolve("test_input.npy")).floats();
    float[] want = Npy.read(pkg.resolve("test_output.npy")).floats();
    float[] got = logits(imported, in, 1)[0];
    for (int j = 0; j < want.length; j++) {
      assertTrue(Math.abs(got[j] - want[j]) <= BioImageIo.TOLERANCE * (1 + Math.abs(want[j])), j + ": " + got[j]);
    }
  }

  @Test
  void onnxAndTorchScriptClassifiersRoundTrip() throws Exception {
    Path c = TorchFixtures.classifier();
    float[] images = Npy.read(c.resolve("reference/images.npy")).floats();
    for (String f : new String[] {"onnx", "torchscript"}) {
      ClassifierBundle b = ClassifierBundle.open(c.resolve(f));
      Path pkg = BioImageIo.exportClassifier(b, Arrays.copyOf(images, 64 * 64), tmp.resolve(f + "-package"), "cpu",
          new BioImageIo.Extras().timestamp(WHEN));
      assertValid(pkg, tmp);
      String yaml = Files.readString(pkg.resolve(BioImageIo.DESCRIPTION));
      assertTrue(yaml.contains(f.equals("onnx") ? "opset_version: 17" : "pytorch_version: 1.13"), yaml);
      Path bundle = BioImageIo.importPackage(pkg, BioImageIo.Role.CLASSIFIER, tmp.resolve("cache"));
      assertEquals(ModelFormat.detect(c.resolve(f)), ModelFormat.detect(bundle));
      double d = maxDiff(logits(b, images, 5), logits(ClassifierBundle.open(bundle), images, 5));
      assertTrue(d <= 1e-6, f + ": " + d);
    }
  }

  @Test
  void denoisersRoundTripThroughTheModelArgument() throws Exception {
    Path ref = TorchFixtures.unet().resolve("reference");
    float[] x = Npy.read(ref.resolve("x_call.npy")).floats();
    float[] t = Npy.read(ref.resolve("t_call.npy")).floats();
    int[] label = Npy.read(ref.resolve("label_call.npy")).ints();
    for (String key : new String[] {"sample", TorchFixtures.unet().resolve("onnx").toString()}) {
      DenoiserBundle b = DenoiserBundle.open(key);
      Path pkg = BioImageIo.exportDenoiser(b, tmp.resolve(b.name() + "-package"), 1, "cpu",
          new BioImageIo.Extras().timestamp(WHEN));
      assertValid(pkg, tmp);
      assertTrue(Files.isRegularFile(pkg.resolve("scheduler_config.json")));
      // a package path is accepted wherever a bundle path is
      String old = System.getProperty(DenoiserBundle.CACHE_DIR_PROPERTY);
      System.setProperty(DenoiserBundle.CACHE_DIR_PROPERTY, tmp.resolve("cache").toString());
      DenoiserBundle imported;
      try {
        imported = Models.denoiserBundle(pkg.toString());
      } finally {
        if (old == null) System.clearProperty(DenoiserBundle.CACHE_DIR_PROPERTY);
        else System.setProperty(DenoiserBundle.CACHE_DIR_PROPERTY, old);
      }
      assertEquals(b.schedulerConfigJson(), imported.schedulerConfigJson());
      assertEquals(b.classNames(), imported.classNames());
      float[] a;
      float[] e;
      try (Denoiser d = Models.denoiser(b, "cpu", null)) {
        a = d.predict(x, t, label, null, 3);
      }
      try (Denoiser d = Models.denoiser(imported, "cpu", null)) {
        e = d.predict(x, t, label, null, 3);
      }
      assertEquals(0.0, EngineDenoiserTest.maxAbsDiff(a, e), b.name());
    }
  }

  @Test
  void perImagePreprocessingIsHonoured() throws Exception {
    Path c = TorchFixtures.classifier();
    float[] images = Npy.read(c.resolve("reference/images.npy")).floats();
    Path pkg = BioImageIo.exportClassifier(ClassifierBundle.open(c.resolve("onnx")), Arrays.copyOf(images, 64 * 64),
        tmp.resolve("base"), "cpu", null);
    for (String op : new String[] {"zero_mean_unit_variance", "scale_range"}) {
      Path p = copy(pkg, tmp.resolve(op));
      Map<String, Object> rdf = load(p);
      Map<String, Object> input = first(rdf, "inputs");
      Map<String, Object> kw = new LinkedHashMap<>();
      if (op.equals("scale_range")) {
        kw.put("min_percentile", 1.0);
        kw.put("max_percentile", 99.8);
      }
      kw.put("axes", Arrays.asList("channel", "y", "x"));
      Map<String, Object> pre = new LinkedHashMap<>();
      pre.put("id", op);
      pre.put("kwargs", kw);
      input.put("preprocessing", new ArrayList<>(Arrays.asList(pre)));
      // the package's own files are the raw image and PyTorch's logits of the preprocessed image
      float[] want = Arrays.copyOf(Npy.read(c.resolve("reference/logits_" + (op.startsWith("zero") ? "zmuv" : "range")
          + ".npy")).floats(), 2);
      setTestOutput(p, rdf, want);
      Path bundle = BioImageIo.importPackage(p, BioImageIo.Role.CLASSIFIER, tmp.resolve("cache"));
      assertTrue(Files.isRegularFile(bundle.resolve(EngineModels.PREPROCESSING_JSON)), op);
      try (Classifier m = Models.classifier(ClassifierBundle.open(bundle), "cpu")) {
        float[] got = m.logits(Arrays.copyOf(images, 64 * 64), 1)[0];
        for (int j = 0; j < 2; j++) assertTrue(Math.abs(got[j] - want[j]) <= 1e-5, op + " " + got[j] + " " + want[j]);
      }
      // the batch key reaches the engine model behind the preprocessing
      try (LoadedModel<Classifier> m = Models.classifier(bundle.toString(), TensorFlowRuntime.DeviceChoice.CPU, 3, false,
          org.diffxai.core.Progress.NONE)) {
        assertEquals(3, ((EngineClassifier) ((Preprocessing.Wrapped) m.get()).inner()).batchSize(), op);
      }
      UserException e = assertThrows(UserException.class, () -> Models.differentiableClassifier(
          ClassifierBundle.open(bundle), "cpu"));
      assertTrue(e.getMessage().contains("gradient-free"), e.getMessage());
    }
  }

  @Test
  void exportWithoutATestImageIsOneMessageAndNoFolder() {
    UserException e = assertThrows(UserException.class, () -> BioImageIo.exportClassifier(ClassifierBundle.open(
        TorchFixtures.classifier().resolve("onnx")), null, tmp.resolve("p"), "cpu", null));
    assertEquals("Model small-cnn has no gallery.tif to take a test image from. Give a test image (64x64, 1 "
        + "channel(s)) for the package's test tensors.", e.getMessage());
    assertFalse(Files.exists(tmp.resolve("p")));
  }

  @Test
  void packageBrokenInOneWayIsOneMessage() throws Exception {
    Path c = TorchFixtures.classifier();
    float[] images = Npy.read(c.resolve("reference/images.npy")).floats();
    Path pkg = BioImageIo.exportClassifier(ClassifierBundle.open(c.resolve("onnx")), Arrays.copyOf(images, 64 * 64),
        tmp.resolve("base"), "cpu", null);

    Path p = copy(pkg, tmp.resolve("state-dict"));
    Map<String, Object> rdf = load(p);
    @SuppressWarnings("unchecked")
    Map<String, Object> weights = (Map<String, Object>) rdf.get("weights");
    weights.put("pytorch_state_dict", weights.remove("onnx"));
    save(p, rdf);
    UserException e = assertThrows(UserException.class, () -> BioImageIo.importPackage(p, BioImageIo.Role.CLASSIFIER,
        tmp.resolve("cache")));
    assertEquals("bioimage.io package " + p + " has weights in pytorch_state_dict; this plugin runs "
        + "tensorflow_saved_model_bundle, onnx and torchscript. Convert the weights to one of these (bioimageio.core can "
        + "convert pytorch_state_dict to torchscript and onnx); see docs/bring-your-model.md.", e.getMessage());

    Path q = copy(pkg, tmp.resolve("mismatch"));
    Map<String, Object> rq = load(q);
    float[] out = Npy.read(q.resolve("test_output.npy")).floats();
    out[1] += 0.5f;
    setTestOutput(q, rq, out);
    Path cache = tmp.resolve("cache2");
    e = assertThrows(UserException.class, () -> BioImageIo.importPackage(q, BioImageIo.Role.CLASSIFIER, cache));
    assertTrue(e.getMessage().startsWith("bioimage.io package " + q + " failed its test (\"Test model\"): on the "
        + "package's test input the model's output differs from the test output in 1 of 2 values (largest difference "
        + "0.5"), e.getMessage());
    assertTrue(e.getMessage().endsWith("it was not imported."), e.getMessage());
    assertEquals(0, list(cache).size(), "a package that fails its test leaves no bundle behind");

    Path r = copy(pkg, tmp.resolve("damaged"));
    Files.write(r.resolve("weights.onnx"), new byte[] {1, 2, 3});
    e = assertThrows(UserException.class, () -> BioImageIo.importPackage(r, BioImageIo.Role.CLASSIFIER, cache));
    assertEquals("bioimage.io package " + r + ": weights.onnx does not match its sha256 in the description; the file "
        + "was changed or damaged. Download the package again.", e.getMessage());
  }

  // ------------------------------------------------------------------------------------------------ helpers

  @SuppressWarnings("unchecked")
  private static Map<String, Object> first(Map<String, Object> rdf, String key) {
    return ((List<Map<String, Object>>) rdf.get(key)).get(0);
  }

  /** Replaces the test output and its sha256 (so the package reaches its test). */
  private static void setTestOutput(Path pkg, Map<String, Object> rdf, float[] values) throws IOException {
    byte[] npy = Npy.float32(values, 1, values.length);
    Files.write(pkg.resolve("test_output.npy"), npy);
    @SuppressWarnings("unchecked")
    Map<String, Object> tt = (Map<String, Object>) first(rdf, "outputs").get("test_tensor");
    tt.put("sha256", Checksums.sha256Hex(npy));
    save(pkg, rdf);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> load(Path pkg) throws IOException {
    return (Map<String, Object>) new Yaml().load(Files.readString(pkg.resolve(BioImageIo.DESCRIPTION)));
  }

  private static void save(Path pkg, Map<String, Object> rdf) throws IOException {
    DumperOptions o = new DumperOptions();
    o.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    Files.writeString(pkg.resolve(BioImageIo.DESCRIPTION), new Yaml(o).dump(rdf));
  }

  private static Path copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(from)) {
      for (Path f : (Iterable<Path>) s::iterator) Files.copy(f, to.resolve(f.getFileName()),
          StandardCopyOption.REPLACE_EXISTING);
    }
    return to;
  }

  private static List<String> list(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) return new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      List<String> out = new ArrayList<>();
      s.forEach(f -> out.add(f.getFileName().toString()));
      out.sort(null);
      return out;
    }
  }
}
