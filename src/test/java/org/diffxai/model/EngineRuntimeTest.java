package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.diffxai.fiji.ImageJApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A missing engine is one clear message: a JVM whose class path lacks an engine's jar (as a Fiji installation missing a
 * file would) opens the other engine's bundles and names the missing part for this one. The JVM gets an empty DJL
 * cache, so natives extracted by earlier runs cannot stand in for the missing jar.
 */
class EngineRuntimeTest {
  @TempDir Path tmp;

  private List<String> runWithout(String jarPrefix, String... specs) {
    List<Path> cp = ImageJApp.testClassPath().stream()
        .filter(p -> !p.getFileName().toString().startsWith(jarPrefix)).collect(Collectors.toList());
    assertTrue(cp.size() < ImageJApp.testClassPath().size(), "no " + jarPrefix + " jar on the test class path");
    List<String> cmd = new ArrayList<>(Arrays.asList(ImageJApp.javaExecutable(), "-DDJL_CACHE_DIR=" + tmp.resolve("djl"),
        "-cp", cp.stream().map(Path::toString).collect(Collectors.joining(File.pathSeparator)),
        EngineProbe.class.getName()));
    cmd.addAll(Arrays.asList(specs));
    ImageJApp.Result r = ImageJApp.exec(cmd, tmp, Duration.ofSeconds(300));
    assertEquals(0, r.exitCode(), r.toString());
    List<String> lines = new ArrayList<>();
    for (String l : r.stdout().split("\n")) {
      if (l.startsWith("OK ") || l.startsWith("USER_ERROR ")) lines.add(l);
    }
    assertEquals(specs.length, lines.size(), r.toString());
    return lines;
  }

  @Test
  void missingPyTorchNativesAreOneMessageAndOnnxStillRuns() {
    Path pt = TorchFixtures.classifier().resolve("torchscript");
    Path onnx = TorchFixtures.classifier().resolve("onnx");
    List<String> out = runWithout("pytorch-native-cpu", "classifier:" + pt, "classifier:" + onnx);
    assertEquals("USER_ERROR " + pt + " The PyTorch engine cannot run TorchScript models: its native libraries are "
        + "missing (no pytorch-native-cpu jar on the class path), and this plugin never downloads them at run time. "
        + "Install the plugin with all its jars (mvn package puts pytorch-native-cpu-2.7.1-linux-x86_64.jar and "
        + "pytorch-jni-2.7.1-0.36.0.jar into target/lib; in Fiji they go to plugins/jars/), or set PYTORCH_LIBRARY_PATH "
        + "to a libtorch 2.7.1; see docs/bring-your-model.md.", out.get(0));
    assertTrue(out.get(1).startsWith("OK " + onnx + " engine=DJL OnnxRuntime version=1.20.0"), out.get(1));
  }

  @Test
  void missingOnnxRuntimeIsOneMessage() {
    Path onnx = TorchFixtures.classifier().resolve("onnx");
    String out = runWithout("onnxruntime-1", "classifier:" + onnx).get(0);
    assertTrue(out.startsWith("USER_ERROR " + onnx + " The ONNX Runtime engine could not be loaded on this machine "
        + "(linux-x86_64): NoClassDefFoundError: "), out);
    assertTrue(out.endsWith("Install the plugin with all its jars (onnxruntime-engine-0.36.0.jar and "
        + "onnxruntime-1.20.0.jar, which carries the native libraries for linux-x64, linux-aarch64, osx and win-x64); "
        + "see docs/bring-your-model.md."), out);
  }
}
