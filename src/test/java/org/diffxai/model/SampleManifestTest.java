package org.diffxai.model;

import org.diffxai.io.Checksums;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar's checksum manifest of the bundled models: equal to sample-data/ (so it cannot drift) and in the jar's
 * resources, and a cached copy replaced together with its model.json is extracted again.
 */
class SampleManifestTest {
  /** Where the bundled models live in the source tree (the tests run in the project directory). */
  static final Path SAMPLES = Paths.get("sample-data", "models");

  @TempDir
  Path tmp;

  /**
   * The manifest of every file below {@code modelsDir}: what {@code cd sample-data/models && find . -type f ! -name
   * SHA256SUMS -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum > SHA256SUMS} writes.
   */
  static String render(Path modelsDir) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (String rel : Checksums.relativeFiles(modelsDir)) {
      if (rel.equals(BundleDirs.SAMPLE_MANIFEST)) continue;
      sb.append(Checksums.sha256Hex(modelsDir.resolve(rel))).append("  ").append(rel).append('\n');
    }
    return sb.toString();
  }

  static void writeManifest(Path modelsDir) throws IOException {
    Files.write(modelsDir.resolve(BundleDirs.SAMPLE_MANIFEST), render(modelsDir).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void manifestMatchesSampleDataAndIsInTheJar() throws IOException {
    String want = render(SAMPLES);
    String have = new String(Files.readAllBytes(SAMPLES.resolve(BundleDirs.SAMPLE_MANIFEST)), StandardCharsets.UTF_8);
    assertEquals(want, have, "sample-data/models/SHA256SUMS is out of date. Regenerate it with: cd sample-data/models "
        + "&& find . -type f ! -name SHA256SUMS -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum > "
        + "SHA256SUMS");
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(DenoiserBundle.SAMPLE_RESOURCE_ROOT
        + BundleDirs.SAMPLE_MANIFEST)) {
      assertTrue(in != null, "the manifest is a class-path resource");
      assertEquals(want, new String(readAll(in), StandardCharsets.UTF_8));
    }
    for (String key : new String[] {"sample", "sample-ppnet", "sample-eppnet", "sample-protopool"}) {
      assertTrue(BundleDirs.sampleManifest(getClass().getClassLoader(), key).containsKey("model.json"), key);
    }
  }

  /** An attacker replaces the cached saved_model.pb and recomputes model.json's sha256: the next open notices. */
  @Test
  void aCacheTamperedTogetherWithItsModelJsonIsExtractedAgain() throws IOException {
    ClassLoader cl = getClass().getClassLoader();
    Path cache = tmp.resolve("cache");
    ClassifierBundle first = ClassifierBundle.open("sample-ppnet", cl, cache);
    byte[] original = Files.readAllBytes(first.dir().resolve("saved_model.pb"));
    Path foreign = TestClassifiers.writeLinear(tmp.resolve("foreign"), new float[][] {new float[64 * 64],
        new float[64 * 64]}, 64, 64);
    Files.copy(foreign.resolve("saved_model.pb"), first.dir().resolve("saved_model.pb"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    rewriteChecksums(first.dir());
    // the tampered copy is consistent with its own model.json
    assertTrue(ClassifierBundle.open(first.dir()).checksumsVerified());

    ClassifierBundle again = ClassifierBundle.open("sample-ppnet", cl, cache);
    assertEquals(first.dir(), again.dir());
    assertArrayEquals(original, Files.readAllBytes(again.dir().resolve("saved_model.pb")));
    assertEquals(first.checksum(), again.checksum());

    // the same for the denoiser, with an extra file instead of a replaced one
    DenoiserBundle d = DenoiserBundle.open("sample", cl, cache);
    Files.write(d.directory().resolve("assets-note.txt"), new byte[] {1});
    rewriteChecksums(d.directory());
    DenoiserBundle d2 = DenoiserBundle.open("sample", cl, cache);
    assertFalse(Files.exists(d2.directory().resolve("assets-note.txt")));
    assertEquals(d.checksum(), d2.checksum());
  }

  /** Rewrites the sha256 map of model.json for the files now in {@code dir}, keeping every other key. */
  private static void rewriteChecksums(Path dir) throws IOException {
    com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(new String(Files.readAllBytes(
        dir.resolve("model.json")), StandardCharsets.UTF_8)).getAsJsonObject();
    o.remove("sha256");
    TestBundles.writeModelJson(dir, o, true);
  }

  private static byte[] readAll(InputStream in) throws IOException {
    java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    for (int r; (r = in.read(buf)) > 0;) bo.write(buf, 0, r);
    return bo.toByteArray();
  }
}
