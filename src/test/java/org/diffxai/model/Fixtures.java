package org.diffxai.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Bundles shared by this package's tests, each exported once per JVM (exporting costs ~0.3 s). Tests that modify a
 * bundle work on a {@link TestBundles#copy copy}.
 */
final class Fixtures {
  private static final AtomicInteger COPIES = new AtomicInteger();
  private static Path root;
  private static Path plain;
  private static Path conditional;
  private static Path dynamic;

  private Fixtures() {}

  static synchronized Path root() {
    if (root == null) {
      try {
        root = Files.createTempDirectory("diffxai-model-fixtures");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      final Path r = root;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(r)));
    }
    return root;
  }

  /** 8x8x1, unconditional, static shape, model.json with checksums and an intensity mapping. */
  static synchronized Path plain() {
    if (plain == null) {
      plain = TestBundles.spec().name("plain").intensity(2.0, -1.0).write(root().resolve("plain"));
    }
    return plain;
  }

  /** 8x8x1 with classes (a, b, c) and K = 2 condition channels, static shape. */
  static synchronized Path conditional() {
    if (conditional == null) {
      conditional = TestBundles.spec().name("conditional").classes("a", "b", "c").conditionChannels(2)
          .write(root().resolve("conditional"));
    }
    return conditional;
  }

  /** Unconditional, signature without static H, W, C, and no model.json. */
  static synchronized Path dynamic() {
    if (dynamic == null) {
      dynamic = TestBundles.spec().staticShape(false).modelJson(false).write(root().resolve("dynamic"));
    }
    return dynamic;
  }

  /** A fresh copy of a fixture bundle, to be modified by one test. */
  static Path copy(Path bundle, Path tempDir) {
    return TestBundles.copy(bundle, tempDir.resolve(bundle.getFileName() + "-copy" + COPIES.incrementAndGet()));
  }

  static void delete(Path p) {
    try (Stream<Path> st = Files.walk(p)) {
      st.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | RuntimeException ignored) {
      // best effort
    }
  }
}
