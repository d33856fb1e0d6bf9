package org.diffxai.tf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.diffxai.io.AtomicFiles;
import org.diffxai.io.Checksums;
import org.diffxai.io.ImageFolder;
import org.diffxai.io.StreamingTiffWriter;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomGenerator;
import org.diffxai.tf.proto.ProtoBundleWriter;
import org.diffxai.tf.proto.ProtoConfig;
import org.diffxai.tf.proto.ProtoTrainingOptions;
import org.diffxai.tf.proto.PrototypeTraining;

/**
 * Real, tiny prototype-network bundles for tests of any package: trained by the project's own trainer for a few epochs
 * on generated 32×32 phantoms (healthy, lesion), pushed, and written by {@link ProtoBundleWriter} — a few seconds each,
 * cached per JVM and method. They are not accurate; they are real.
 *
 * <pre>
 *   Path bundle = TinyPrototypeBundles.train(tmp, "PPNet");   // or "EPPNet", "ProtoPool"
 *   try (PrototypeClassifier c = ClassifierModels.loadPrototypes(ClassifierBundle.open(bundle), "cpu")) { ... }
 * </pre>
 */
public final class TinyPrototypeBundles {
  /** Side length of the images and phantoms. */
  public static final int SIZE = 32;
  /** Phantoms per class in the training folder. */
  public static final int PER_CLASS = 10;

  private static final Map<String, Path> CACHE = Collections.synchronizedMap(new HashMap<>());
  private static Path phantoms;
  private static Path jvmDir;

  private TinyPrototypeBundles() {}

  /**
   * Returns {@code dir/tiny-<method>}: a copy of a bundle of a tiny network of the given method, trained once per JVM
   * (the first call takes a few seconds; later calls only copy). Callers may modify their copy.
   */
  public static synchronized Path train(Path dir, String method) {
    ProtoConfig.Method m = ProtoConfig.Method.parse(method);
    Path target = dir.resolve("tiny-" + m.label().toLowerCase(Locale.ROOT));
    if (Files.isDirectory(target)) return target;
    Path trained = CACHE.get(m.label());
    if (trained == null) {
      trained = jvmDir().resolve("tiny-" + m.label().toLowerCase(Locale.ROOT));
      PrototypeTraining.run(phantomFolder(), SIZE, config(m), options(), 0.2, trained,
          new ProtoBundleWriter.Metadata().name("tiny-" + m.label()).description("test fixture")
              .input(ImageFolder.load(phantomFolder(), SIZE, true).input().summary().toMap()), null);
      CACHE.put(m.label(), trained);
    }
    return copy(trained, target);
  }

  /** The tiny architecture: base 4 channels, depth 8, 2 prototypes per class (ProtoPool: pool 4, 2 slots). */
  public static ProtoConfig config(ProtoConfig.Method m) {
    return new ProtoConfig().method(m).baseChannels(4).featureDepth(8).prototypesPerClass(2).poolSize(4)
        .slotsPerClass(2);
  }

  /** Three epochs (one warm-up), a push after each joint epoch, one last-layer epoch per push. */
  public static ProtoTrainingOptions options() {
    return new ProtoTrainingOptions().epochs(3).warmupEpochs(1).pushEvery(1).lastLayerEpochs(1).batch(8).seed(7);
  }

  /**
   * A folder {@code healthy/phantom_0000.tif …}, {@code lesion/…} of {@link #PER_CLASS} 32×32 phantoms per class
   * (seed 11), written once per JVM.
   */
  public static synchronized Path phantomFolder() {
    if (phantoms != null) return phantoms;
    Path root = jvmDir().resolve("phantoms");
    PhantomGenerator g = new PhantomGenerator(SIZE);
    for (boolean lesion : new boolean[] {false, true}) {
      for (int i = 0; i < PER_CLASS; i++) {
        Phantom p = g.generate(11, i, lesion);
        Path f = AtomicFiles.ensureDirectory(root.resolve(p.className()))
            .resolve(String.format(Locale.ROOT, "phantom_%04d.tif", i));
        StreamingTiffWriter.writeStack(f, SIZE, SIZE, Collections.singletonList(p.pixels), null);
      }
    }
    phantoms = root;
    return root;
  }

  /** A temporary directory for this JVM, deleted when it exits. */
  private static synchronized Path jvmDir() {
    if (jvmDir == null) {
      try {
        jvmDir = Files.createTempDirectory("diffxai-tiny-bundles");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Path d = jvmDir;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> AtomicFiles.deleteRecursively(d)));
    }
    return jvmDir;
  }

  /** Copies a bundle (e.g. to modify it in a test). */
  public static Path copy(Path bundle, Path to) {
    try {
      for (String rel : org.diffxai.io.Checksums.relativeFiles(bundle)) {
        Path t = to.resolve(rel);
        Files.createDirectories(t.getParent());
        Files.copy(bundle.resolve(rel), t);
      }
      return to;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
