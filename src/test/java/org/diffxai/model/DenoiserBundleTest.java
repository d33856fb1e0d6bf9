package org.diffxai.model;

import org.diffxai.io.Checksums;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DenoiserBundleTest {
  @TempDir
  Path tmp;

  private static String message(Runnable r) {
    return assertThrows(UserException.class, r::run).getMessage();
  }

  private static JsonObject readModelJson(Path dir) throws IOException {
    return JsonParser.parseString(new String(Files.readAllBytes(dir.resolve("model.json")), StandardCharsets.UTF_8))
        .getAsJsonObject();
  }

  @Test
  void opensBundleAndExposesDescriptor() {
    DenoiserBundle b = DenoiserBundle.open(Fixtures.conditional().toString());
    assertTrue(b.hasDescriptor());
    assertEquals("conditional", b.name());
    assertEquals(8, b.height());
    assertEquals(8, b.width());
    assertEquals(1, b.channels());
    assertEquals(Arrays.asList("a", "b", "c"), b.classNames());
    assertEquals(2, b.conditionChannels());
    assertTrue(b.checksumsVerified());
    assertEquals(TestBundles.SCHEDULER_CONFIG, b.schedulerConfigJson());
    assertEquals(Fixtures.conditional().resolve("scheduler_config.json"), b.schedulerConfigPath());
    assertEquals("Diffusion XAI test suite", b.authors());
    assertEquals("BSD-2-Clause", b.license());
    assertTrue(b.trainingJson().contains("analytic fixture"));
    assertEquals(64, b.checksum().length());
    Map<String, String> p = b.provenance();
    assertEquals(b.checksum(), p.get("model.checksum"));
    assertEquals("a,b,c", p.get("model.class_names"));
    assertEquals("yes (4 files)", p.get("model.checksums_verified"));
    assertEquals(DenoiserBundle.FORMAT, p.get("model.format"));
  }

  @Test
  void intensityMappingFromModelJsonElseIdentity() {
    DenoiserBundle b = DenoiserBundle.open(Fixtures.plain());
    assertEquals(2.0, b.intensity().scale);
    assertEquals(-1.0, b.intensity().offset);
    assertEquals("scale=2.0,offset=-1.0", b.provenance().get("model.intensity"));
    assertEquals(1.0, DenoiserBundle.open(Fixtures.conditional()).intensity().scale);
    assertEquals(0.0, DenoiserBundle.open(Fixtures.conditional()).intensity().offset);
  }

  @Test
  void bundleChecksumEqualsShellRecipe() throws Exception {
    Path dir = Fixtures.conditional();
    Process pr = new ProcessBuilder("bash", "-c",
        "cd '" + dir + "' && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum")
        .redirectErrorStream(true).start();
    String out = new String(readAll(pr.getInputStream()), StandardCharsets.UTF_8).trim();
    assertEquals(0, pr.waitFor(), out);
    assertEquals(out.split("\\s+")[0], DenoiserBundle.open(dir).checksum());
  }

  private static byte[] readAll(java.io.InputStream in) throws IOException {
    java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    for (int r; (r = in.read(buf)) > 0;) bo.write(buf, 0, r);
    return bo.toByteArray();
  }

  @Test
  void checksumChangesWithAnyFile() throws IOException {
    Path dir = Fixtures.copy(Fixtures.dynamic(), tmp);
    String before = DenoiserBundle.open(dir).checksum();
    Files.write(dir.resolve("README.txt"), "notes".getBytes(StandardCharsets.UTF_8));
    assertNotEquals(before, DenoiserBundle.open(dir).checksum());
  }

  @Test
  void bundleWithoutModelJson() {
    DenoiserBundle b = DenoiserBundle.open(Fixtures.dynamic());
    assertFalse(b.hasDescriptor());
    assertEquals("dynamic", b.name());
    assertEquals(0, b.height());
    assertEquals(0, b.channels());
    assertFalse(b.checksumsVerified());
    assertEquals("no (no model.json)", b.provenance().get("model.checksums_verified"));
  }

  @Test
  void missingDirectory() {
    Path p = tmp.resolve("x");
    assertEquals("Model directory " + p + " does not exist. Give model=sample or the path of a bundle directory.",
        message(() -> DenoiserBundle.open(p.toString())));
  }

  @Test
  void blankKey() {
    assertEquals("No model given. Give model=sample or the path of a bundle directory.",
        message(() -> DenoiserBundle.open(" ")));
  }

  @Test
  void fileInsteadOfDirectory() {
    Path f = Fixtures.plain().resolve("saved_model.pb");
    String m = message(() -> DenoiserBundle.open(f.toString()));
    assertTrue(m.contains("is a file, not a directory") && m.contains(Fixtures.plain().toString()), m);
  }

  @Test
  void notASavedModel() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("empty"));
    String m = message(() -> DenoiserBundle.open(dir.toString()));
    assertTrue(m.startsWith("Model directory " + dir + " is not a TensorFlow SavedModel: it has no saved_model.pb."),
        m);
    // one level too high: the message points at the bundle inside
    TestBundles.copy(Fixtures.plain(), dir.resolve("inner"));
    m = message(() -> DenoiserBundle.open(dir.toString()));
    assertTrue(m.endsWith("Did you mean " + dir.resolve("inner") + "?"), m);
  }

  @Test
  void missingSchedulerConfig() throws IOException {
    Path dir = Fixtures.copy(Fixtures.dynamic(), tmp);
    Files.delete(dir.resolve("scheduler_config.json"));
    String m = message(() -> DenoiserBundle.open(dir.toString()));
    assertTrue(m.startsWith("Model bundle " + dir + " has no scheduler_config.json"), m);
  }

  @Test
  void corruptModelJson() throws IOException {
    Path dir = Fixtures.copy(Fixtures.plain(), tmp);
    byte[] b = Files.readAllBytes(dir.resolve("model.json"));
    Files.write(dir.resolve("model.json"), Arrays.copyOf(b, b.length / 2));
    String m = message(() -> DenoiserBundle.open(dir.toString()));
    assertTrue(m.startsWith(dir.resolve("model.json") + " is not valid JSON ("), m);
    assertTrue(m.endsWith("Fix the file, or remove it to use the model's own signature; see docs/bundles.md."), m);

    Files.write(dir.resolve("model.json"), "{'name': bare}".getBytes(StandardCharsets.UTF_8)); // lenient JSON
    assertTrue(message(() -> DenoiserBundle.open(dir)).contains("is not valid JSON"));
    Files.write(dir.resolve("model.json"), "[1, 2]".getBytes(StandardCharsets.UTF_8));
    assertTrue(message(() -> DenoiserBundle.open(dir)).contains("must be a JSON object"));
  }

  @Test
  void wrongFieldTypes() throws IOException {
    Path dir = Fixtures.copy(Fixtures.dynamic(), tmp);
    JsonObject o = TestBundles.modelJson(TestBundles.spec());
    o.addProperty("channels", "two");
    TestBundles.writeModelJson(dir, o, false);
    assertEquals(dir.resolve("model.json") + " has \"channels\": \"two\"; it must be a whole number >= 1. Fix the "
        + "file; see docs/bundles.md.", message(() -> DenoiserBundle.open(dir)));

    o = TestBundles.modelJson(TestBundles.spec());
    JsonArray size = new JsonArray();
    size.add(8);
    o.add("sample_size", size);
    TestBundles.writeModelJson(dir, o, false);
    assertTrue(message(() -> DenoiserBundle.open(dir)).contains("it must be [height, width]"));

    o = TestBundles.modelJson(TestBundles.spec());
    o.addProperty("sample_size", 16); // diffusers style: one number for a square
    TestBundles.writeModelJson(dir, o, false);
    assertEquals(16, DenoiserBundle.open(dir).width());

    o = TestBundles.modelJson(TestBundles.spec());
    o.addProperty("format", "diffusion-xai-denoiser/2");
    TestBundles.writeModelJson(dir, o, false);
    assertTrue(message(() -> DenoiserBundle.open(dir)).contains("Update the plugin"));

    o = TestBundles.modelJson(TestBundles.spec().intensity(0, 1));
    TestBundles.writeModelJson(dir, o, false);
    assertTrue(message(() -> DenoiserBundle.open(dir)).contains("non-zero scale"));

    o = TestBundles.modelJson(TestBundles.spec().classes("a", "a"));
    TestBundles.writeModelJson(dir, o, false);
    assertTrue(message(() -> DenoiserBundle.open(dir)).contains("lists class name \"a\" twice"));

    o = TestBundles.modelJson(TestBundles.spec());
    JsonObject sums = new JsonObject();
    sums.addProperty("../etc/passwd", "00");
    o.add("sha256", sums);
    TestBundles.writeModelJson(dir, o, false);
    assertTrue(message(() -> DenoiserBundle.open(dir)).contains("keys must be relative paths inside the bundle"));
  }

  @Test
  void checksumMismatchNamesTheFile() throws IOException {
    Path dir = Fixtures.copy(Fixtures.plain(), tmp);
    Path data = dir.resolve("variables/variables.data-00000-of-00001");
    byte[] b = Files.readAllBytes(data);
    b[b.length - 1] ^= 1;
    Files.write(data, b);
    assertEquals("Checksum mismatch for variables/variables.data-00000-of-00001 in model bundle " + dir + ": the file "
        + "was modified or damaged after the bundle was made. Restore the original bundle (or, if you changed it on "
        + "purpose, update the sha256 entry of model.json; see docs/bundles.md).",
        message(() -> DenoiserBundle.open(dir.toString())));
  }

  @Test
  void checksumListedFileMissingOrModelFileUnlisted() throws IOException {
    Path dir = Fixtures.copy(Fixtures.plain(), tmp);
    Files.move(dir.resolve("variables/variables.index"), dir.resolve("variables/other.index"));
    String m = message(() -> DenoiserBundle.open(dir));
    assertTrue(m.startsWith("File variables/variables.index listed in the sha256 entry of model.json is missing"), m);
    Files.move(dir.resolve("variables/other.index"), dir.resolve("variables/variables.index"));
    DenoiserBundle.open(dir); // restored
    Files.write(dir.resolve("variables/extra.data"), new byte[] {1});
    m = message(() -> DenoiserBundle.open(dir));
    assertTrue(m.startsWith("File variables/extra.data in model bundle " + dir + " is not listed"), m);
    Files.delete(dir.resolve("variables/extra.data"));
    Files.write(dir.resolve("README.txt"), new byte[] {1}); // documentation next to the model is fine
    DenoiserBundle.open(dir);
  }

  // ---------------------------------------------------------------------------------------------- bundled models

  /** A class-path root holding {@code org/diffxai/sample-models/<key>/} copies of fixture bundles. */
  private int roots;

  private Path resourceRoot(String... keys) throws IOException {
    Path root = tmp.resolve("classes-" + (++roots));
    for (String k : keys) {
      TestBundles.copy(Fixtures.plain(), root.resolve(DenoiserBundle.SAMPLE_RESOURCE_ROOT + k));
    }
    SampleManifestTest.writeManifest(root.resolve(DenoiserBundle.SAMPLE_RESOURCE_ROOT));
    return root;
  }

  private static URLClassLoader loader(Path root) throws IOException {
    return new URLClassLoader(new URL[] {root.toUri().toURL()}, null);
  }

  @Test
  void sampleIsExtractedOnceAndVerified() throws IOException {
    Path cache = tmp.resolve("cache");
    try (URLClassLoader cl = loader(resourceRoot("sample", "sample-proto"))) {
      DenoiserBundle b = DenoiserBundle.open("sample", cl, cache);
      String hash = Checksums.sha256Hex(Files.readAllBytes(Fixtures.plain().resolve("model.json")));
      assertEquals(cache.resolve("sample-" + hash.substring(0, 12)), b.directory());
      assertEquals("sample", b.key());
      assertEquals(DenoiserBundle.open(Fixtures.plain()).checksum(), b.checksum());
      try (java.util.stream.Stream<Path> st = Files.list(cache)) {
        assertEquals(1, st.count(), "no temporary directories left");
      }

      // a second open reuses the extracted copy
      Path data = b.directory().resolve("saved_model.pb");
      Files.setLastModifiedTime(data, java.nio.file.attribute.FileTime.fromMillis(0));
      DenoiserBundle.open("sample", cl, cache);
      assertEquals(0, Files.getLastModifiedTime(data).toMillis());

      // a damaged cached copy is extracted again, and so is one with an extra file
      Files.write(data, new byte[] {1, 2, 3});
      DenoiserBundle again = DenoiserBundle.open("sample", cl, cache);
      assertEquals(b.checksum(), again.checksum());
      assertTrue(again.checksumsVerified());
      Path marker = b.directory().resolve("variables/extra");
      Files.write(marker, new byte[] {1});
      assertEquals(b.checksum(), DenoiserBundle.open("sample", cl, cache).checksum());
      assertFalse(Files.exists(marker));

      assertEquals("sample-proto", DenoiserBundle.open("sample-proto", cl, cache).key());
      assertEquals(Arrays.asList("sample", "sample-proto"), DenoiserBundle.availableSamples(cl));
      assertEquals("Unknown bundled model 'sample-nope'. Available: sample, sample-proto. Give one of these or the "
          + "path of a bundle directory (a directory called sample-nope is given as ./sample-nope).",
          message(() -> DenoiserBundle.open("sample-nope", cl, cache)));
    }
  }

  @Test
  void samplesListedFromJar() throws IOException {
    samplesListedFromJar(true);
    samplesListedFromJar(false);
  }

  private void samplesListedFromJar(boolean directoryEntries) throws IOException {
    Path root = resourceRoot("sample", "sample-x");
    Path jar = tmp.resolve("plugin-" + directoryEntries + ".jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      if (directoryEntries) {
        String dir = "";
        for (String part : (DenoiserBundle.SAMPLE_RESOURCE_ROOT + "sample-x/variables/").split("/")) {
          dir += part + "/";
          out.putNextEntry(new JarEntry(dir));
          out.closeEntry();
        }
      }
      for (String rel : Checksums.relativeFiles(root)) {
        out.putNextEntry(new JarEntry(rel));
        out.write(Files.readAllBytes(root.resolve(rel)));
        out.closeEntry();
      }
    }
    try (URLClassLoader cl = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      assertEquals(Arrays.asList("sample", "sample-x"), DenoiserBundle.availableSamples(cl));
      assertTrue(message(() -> DenoiserBundle.open("sample-y", cl, tmp.resolve("c")))
          .contains("Available: sample, sample-x."));
      assertEquals("plain", DenoiserBundle.open("sample-x", cl, tmp.resolve("c" + directoryEntries)).name());
    }
  }

  @Test
  void sampleMissingOrWithoutManifest() throws IOException {
    try (URLClassLoader cl = loader(Files.createDirectories(tmp.resolve("nothing")))) {
      String m = message(() -> DenoiserBundle.open("sample", cl, tmp.resolve("c")));
      assertTrue(m.startsWith("The bundled sample model is missing from this build of the plugin"), m);
      assertTrue(message(() -> DenoiserBundle.open("sample-x", cl, tmp.resolve("c")))
          .contains("Available: none in this build."));
    }
    // without the jar's manifest a bundled model cannot be verified, even when its model.json lists checksums
    Path root = tmp.resolve("nosums");
    TestBundles.copy(Fixtures.plain(), root.resolve(DenoiserBundle.SAMPLE_RESOURCE_ROOT + "sample"));
    try (URLClassLoader cl = loader(root)) {
      assertEquals("The plugin jar has no checksum manifest of its bundled models (resource "
          + "/org/diffxai/sample-models/SHA256SUMS), so the bundled model 'sample' cannot be verified. This is a build "
          + "problem; reinstall the plugin.", message(() -> DenoiserBundle.open("sample", cl, tmp.resolve("c"))));
    }
  }

  @Test
  void damagedSampleInTheJar() throws IOException {
    Path root = resourceRoot("sample");
    Files.write(root.resolve(DenoiserBundle.SAMPLE_RESOURCE_ROOT + "sample/saved_model.pb"), new byte[] {1});
    Path cache = tmp.resolve("cache");
    try (URLClassLoader cl = loader(root)) {
      assertEquals("The bundled model 'sample' in the plugin jar is damaged: saved_model.pb does not match its "
          + "checksum. Reinstall the plugin.", message(() -> DenoiserBundle.open("sample", cl, cache)));
    }
    try (java.util.stream.Stream<Path> st = Files.list(cache)) {
      assertEquals(0, st.count(), "the damaged copy is not kept");
    }
  }

  @Test
  void sampleKeys() {
    assertTrue(DenoiserBundle.isSampleKey("sample"));
    assertTrue(DenoiserBundle.isSampleKey("sample-proto_v2.1"));
    assertFalse(DenoiserBundle.isSampleKey("./sample"));
    assertFalse(DenoiserBundle.isSampleKey("sample-"));
    assertFalse(DenoiserBundle.isSampleKey("sample-../x"));
    assertFalse(DenoiserBundle.isSampleKey("samples"));
  }

  @Test
  void unwritableCacheIsAClearError() throws IOException {
    Path blocker = tmp.resolve("file");
    try (OutputStream o = Files.newOutputStream(blocker)) {
      o.write(1);
    }
    try (URLClassLoader cl = loader(resourceRoot("sample"))) {
      String m = message(() -> DenoiserBundle.open("sample", cl, blocker.resolve("cache")));
      assertTrue(m.startsWith("Cannot extract the bundled model 'sample' to " + blocker.resolve("cache")), m);
    }
  }
}
