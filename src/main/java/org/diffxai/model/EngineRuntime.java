package org.diffxai.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineProvider;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.diffxai.core.UserException;

/**
 * The one owner of the ONNX Runtime and PyTorch engines (TensorFlow has {@link TensorFlowRuntime}): loads each once,
 * offline, with the plugin's class loader, and turns every way it can fail into one clear message.
 *
 * <p>Offline loading, verified with the network closed to everything but Maven Central:
 *
 * <ul>
 *   <li>ONNX Runtime: {@code com.microsoft.onnxruntime:onnxruntime} carries its native libraries in the jar
 *       ({@code ai/onnxruntime/native/<os-arch>/}) and extracts them to a temporary directory; it never downloads.
 *   <li>PyTorch: DJL looks for {@code native/lib/pytorch.properties} (the {@code pytorch-native-cpu} natives jar) and
 *       {@code jnilib/pytorch.properties} (the {@code pytorch-jni} jar) on the context class path and extracts both
 *       to {@code ~/.djl.ai/pytorch/<version>-cpu-<platform>/} (or {@code $DJL_CACHE_DIR} / {@code ENGINE_CACHE_DIR});
 *       only when they are missing would it download them. This class therefore checks both resources first (unless
 *       the user points DJL at a libtorch of their own with {@code PYTORCH_LIBRARY_PATH}) and keeps DJL in offline
 *       mode ({@code ai.djl.offline=true}) while the engine loads, so nothing is ever fetched at run time. The first
 *       load extracts about 450 MB (a few seconds); later loads reuse the extracted files.
 * </ul>
 */
public final class EngineRuntime {
  private static final Object LOCK = new Object();
  private static final Map<ModelFormat, Engine> ENGINES = new EnumMap<>(ModelFormat.class);
  private static final Map<ModelFormat, UserException> FAILURES = new EnumMap<>(ModelFormat.class);

  private EngineRuntime() {}

  /**
   * Loads the engine of a model format (once; a failure is remembered and thrown again).
   *
   * @throws UserException naming what is missing or broken and the fix
   */
  public static Engine ensureLoaded(ModelFormat format) {
    if (format == ModelFormat.TENSORFLOW) return TensorFlowRuntime.ensureLoaded();
    synchronized (LOCK) {
      Engine e = ENGINES.get(format);
      if (e != null) return e;
      if (FAILURES.containsKey(format)) throw FAILURES.get(format);
      try {
        e = TensorFlowRuntime.withPluginClassLoader(() -> load(format));
        ENGINES.put(format, e);
        return e;
      } catch (UserException ex) {
        FAILURES.put(format, ex);
        throw ex;
      }
    }
  }

  private static Engine load(ModelFormat format) {
    if (format == ModelFormat.TORCHSCRIPT) {
      checkPyTorchNatives();
      passiveOpenMp();
    }
    if (format == ModelFormat.ONNX && System.getProperty(NO_ALTERNATIVE) == null) {
      // DJL's OnnxRuntime engine otherwise loads the highest-ranked other engine (PyTorch, 450 MB, or a download when
      // its natives are missing) for array operations ONNX Runtime lacks; this plugin needs none of them
      System.setProperty(NO_ALTERNATIVE, "true");
    }
    String offline = System.getProperty("ai.djl.offline");
    System.setProperty("ai.djl.offline", "true"); // DJL must not download anything while the engine loads
    try {
      if (!Engine.hasEngine(format.engineName())) {
        // as for TensorFlow: DJL's engine list may have been built under another plugin's class loader
        Engine.registerEngine(provider(format));
      }
      Engine e = Engine.getEngine(format.engineName());
      e.getVersion();
      return e;
    } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError (jar missing), EngineException, ...
      throw failure(format, t);
    } finally {
      if (offline == null) {
        System.clearProperty("ai.djl.offline");
      } else {
        System.setProperty("ai.djl.offline", offline);
      }
    }
  }

  /** The engine's DJL provider, by name (so that this class loads even when an engine's jar is missing). */
  private static EngineProvider provider(ModelFormat format) throws ReflectiveOperationException {
    String name = format == ModelFormat.ONNX ? "ai.djl.onnxruntime.engine.OrtEngineProvider"
        : "ai.djl.pytorch.engine.PtEngineProvider";
    return (EngineProvider) Class.forName(name, true, EngineRuntime.class.getClassLoader()).getDeclaredConstructor()
        .newInstance();
  }

  static final String NO_ALTERNATIVE = "ai.djl.onnx.disable_alternative";

  /**
   * {@code OMP_WAIT_POLICY=PASSIVE} for libtorch's OpenMP (its bundled libgomp reads it once, when it loads), unless
   * the user set it. With GNU OpenMP's default of spinning at every barrier, a 2-core machine that also runs other work
   * made the sample UNet's TorchScript forward pass take 1–4 s instead of 20–40 ms (measured: OpenMP threads spin while
   * the thread they wait for is descheduled).
   */
  private static void passiveOpenMp() {
    if (System.getenv("OMP_WAIT_POLICY") != null) return;
    try {
      com.sun.jna.Native.load("c", TensorFlowRuntime.CLibrary.class).setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
    } catch (Throwable t) { // no libc (Windows) or no JNA: PyTorch still runs, only slower on a busy machine
    }
  }

  /** The natives resources DJL's PyTorch engine extracts instead of downloading. */
  static final String PYTORCH_NATIVES = "native/lib/pytorch.properties";
  static final String PYTORCH_JNI = "jnilib/pytorch.properties";

  /** Checks that the PyTorch natives jar for this platform and the JNI jar are on the plugin's class path. */
  private static void checkPyTorchNatives() {
    if (System.getenv("PYTORCH_LIBRARY_PATH") != null || System.getProperty("PYTORCH_LIBRARY_PATH") != null) return;
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    Properties natives = properties(cl, PYTORCH_NATIVES);
    String platform = platform();
    if (natives == null || cl.getResource(PYTORCH_JNI) == null) {
      throw new UserException("The PyTorch engine cannot run TorchScript models: its native libraries are missing ("
          + (natives == null ? "no pytorch-native-cpu jar" : "no pytorch-jni jar") + " on the class path), and this "
          + "plugin never downloads them at run time. Install the plugin with all its jars (mvn package puts "
          + "pytorch-native-cpu-2.7.1-" + platform + ".jar and pytorch-jni-2.7.1-0.36.0.jar into target/lib; in "
          + "Fiji they go to plugins/jars/), or set PYTORCH_LIBRARY_PATH to a libtorch 2.7.1; see "
          + "docs/bring-your-model.md.");
    }
    String classifier = natives.getProperty("classifier", "");
    if (!classifier.equals(platform)) {
      throw new UserException("The PyTorch native libraries on the class path are built for " + classifier
          + ", but this machine is " + platform + ". Install the pytorch-native-cpu jar for " + platform
          + " (Maven classifier " + platform + "), or set PYTORCH_LIBRARY_PATH to a libtorch 2.7.1 for this "
          + "machine; see docs/bring-your-model.md.");
    }
  }

  private static Properties properties(ClassLoader cl, String name) {
    try (InputStream in = cl.getResourceAsStream(name)) {
      if (in == null) return null;
      Properties p = new Properties();
      p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
      return p;
    } catch (IOException e) {
      return null;
    }
  }

  /** This machine as DJL names platforms, e.g. {@code linux-x86_64}. */
  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String o = os.startsWith("mac") ? "osx" : os.startsWith("win") ? "win" : os.startsWith("linux") ? "linux" : os;
    String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64" : arch.equals("arm64") ? "aarch64" : arch;
    return o + "-" + a;
  }

  private static UserException failure(ModelFormat format, Throwable t) {
    String cause = SavedModels.firstLine(SavedModels.deepestMessage(t));
    String what = format == ModelFormat.ONNX ? "ONNX Runtime" : "PyTorch";
    String fix = format == ModelFormat.ONNX
        ? "Install the plugin with all its jars (onnxruntime-engine-0.36.0.jar and onnxruntime-1.20.0.jar, which "
            + "carries the native libraries for linux-x64, linux-aarch64, osx and win-x64)"
        : "Install the plugin with all its jars (pytorch-engine, pytorch-jni and pytorch-native-cpu for this "
            + "platform), or point PYTORCH_LIBRARY_PATH at a libtorch 2.7.1";
    return new UserException("The " + what + " engine could not be loaded on this machine (" + platform() + "): "
        + t.getClass().getSimpleName() + ": " + cause + ". " + fix + "; see docs/bring-your-model.md.", t);
  }

  /**
   * Resolves a device choice for an engine.
   *
   * @throws UserException for {@code gpu} when the engine sees no GPU
   */
  public static Device device(ModelFormat format, TensorFlowRuntime.DeviceChoice choice) {
    if (format == ModelFormat.TENSORFLOW) return TensorFlowRuntime.device(choice);
    Engine e = ensureLoaded(format);
    int gpus = TensorFlowRuntime.withPluginClassLoader(() ->
        e.hasCapability(StandardCapabilities.CUDA) ? e.getGpuCount() : 0);
    if (choice == TensorFlowRuntime.DeviceChoice.GPU && gpus == 0) {
      String engine = format == ModelFormat.ONNX ? "ONNX Runtime" : "PyTorch";
      throw new UserException("device=gpu was requested, but " + engine + " sees no GPU on this machine. Use "
          + "device=cpu or device=auto, or install the GPU build (mvn -Pgpu package; see docs/bring-your-model.md) on "
          + "a machine with an NVIDIA GPU and CUDA.");
    }
    return choice != TensorFlowRuntime.DeviceChoice.CPU && gpus > 0 ? Device.gpu() : Device.cpu();
  }

  /**
   * Run-record entries for a model run by this engine: {@code device}, {@code engine} (e.g. {@code DJL OnnxRuntime}),
   * {@code engine.version} (the native runtime's own version), {@code djl.version}; TensorFlow adds its own keys
   * ({@link TensorFlowRuntime#versions()}).
   */
  public static Map<String, String> provenance(ModelFormat format, Device device) {
    if (format == ModelFormat.TENSORFLOW) {
      Map<String, String> m = SavedModels.runtimeProvenance(device);
      m.put("engine.version", m.get("tensorflow.version"));
      return m;
    }
    Engine e = ensureLoaded(format);
    Map<String, String> m = new LinkedHashMap<>();
    m.put("device", device.isGpu() ? "gpu" + device.getDeviceId() : "cpu");
    m.put("engine", "DJL " + format.engineName());
    m.put("engine.version", TensorFlowRuntime.withPluginClassLoader(() -> format == ModelFormat.ONNX
        ? ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion() : e.getVersion()));
    m.put("djl.version", Engine.getDjlVersion());
    return m;
  }

  // ---------------------------------------------------------------------------------------------- PyTorch gradients

  private static final Object ONEDNN_LOCK = new Object();
  private static Boolean gradientProbe;

  /**
   * Runs a PyTorch gradient computation with libtorch's oneDNN (mkldnn) kernels switched off, then switches them back.
   *
   * <p>Why: the convolution backward pass of the libtorch 2.7.1 CPU build that DJL 0.36 ships (oneDNN 3.7.1) returns
   * wrong input gradients, run to run different and sometimes NaN, for convolutions whose output channel count is not
   * a multiple of the kernel's channel block (16 on AVX-512 machines), e.g. a final 1-channel convolution; measured on
   * this project's AMD EPYC (AVX-512) machines, batch &gt; 1. PyTorch's own (non-oneDNN) kernels are exact. The switch is
   * {@code at::globalContext().setUserEnabledMkldnn(bool)}, called through JNA in the loaded libtorch_cpu (Linux); the
   * forward pass used for inference keeps oneDNN. A probe (a 1-channel convolution's input gradient against the
   * closed form) checks the result once; when it fails, gradients are refused with a clear message rather than wrong.
   */
  static <T> T withoutOneDnn(Supplier<T> body) {
    ensureLoaded(ModelFormat.TORCHSCRIPT); // libtorch must be loaded to be found
    synchronized (ONEDNN_LOCK) {
      MkldnnSwitch sw = MkldnnSwitch.find();
      boolean before = sw != null && sw.enabled();
      if (sw != null) sw.set(false);
      try {
        if (gradientProbe == null) gradientProbe = probeGradient();
        if (!gradientProbe) {
          throw new UserException("PyTorch computes wrong convolution gradients on this machine (the oneDNN kernels "
              + "of libtorch 2.7.1 on " + platform() + (sw == null ? ", which could not be switched off here" : "")
              + "), so gradient-based methods are refused for TorchScript models rather than shown wrong. Use the "
              + "gradient-free methods (occlusion, perturbation metrics), or export the classifier to a TensorFlow "
              + "SavedModel; see docs/bring-your-model.md.");
        }
        return body.get();
      } finally {
        if (sw != null) sw.set(before);
      }
    }
  }

  /** The input gradient of sum(conv2d(1 → 1 channel, 3x3)) over a batch of two 8x8 images, against its closed form. */
  static boolean probeGradient() {
    Engine e = ensureLoaded(ModelFormat.TORCHSCRIPT);
    float[] k = {-0.25f, 0.5f, 0.125f, 0.75f, -1f, 0.0625f, 0.375f, 0.875f, -0.5f};
    return TensorFlowRuntime.withPluginClassLoader(() -> {
      try (NDManager m = e.newBaseManager(); GradientCollector gc = e.newGradientCollector()) {
        NDArray x = m.ones(new Shape(2, 1, 8, 8));
        x.setRequiresGradient(true);
        NDArray w = m.create(k, new Shape(1, 1, 3, 3));
        NDArray y = Conv2d.conv2d(x, w, null, new Shape(1, 1), new Shape(1, 1)).singletonOrThrow();
        gc.backward(y.sum());
        float[] g = x.getGradient().toFloatArray();
        for (int i = 0; i < 2; i++) {
          for (int r = 0; r < 8; r++) {
            for (int c = 0; c < 8; c++) {
              // d/dx[r][c] of sum_{i,j} sum_{a,b} k[a][b] x[i+a-1][j+b-1]: the kernel taps whose output is inside
              double want = 0;
              for (int a = 0; a < 3; a++) {
                for (int b = 0; b < 3; b++) {
                  int oi = r - a + 1;
                  int oj = c - b + 1;
                  if (oi >= 0 && oi < 8 && oj >= 0 && oj < 8) want += k[a * 3 + b];
                }
              }
              if (!(Math.abs(g[i * 64 + r * 8 + c] - want) < 1e-5)) return false;
            }
          }
        }
        return true;
      }
    });
  }

  /** libtorch's global "use mkldnn" flag, through JNA (null when libtorch_cpu or its symbols cannot be found). */
  static final class MkldnnSwitch {
    private final com.sun.jna.Function set;
    private final com.sun.jna.Function get;
    private final com.sun.jna.Pointer context;

    MkldnnSwitch(com.sun.jna.NativeLibrary lib) {
      context = lib.getFunction("_ZN2at13globalContextEv").invokePointer(new Object[0]);
      set = lib.getFunction("_ZN2at7Context20setUserEnabledMkldnnEb");
      get = lib.getFunction("_ZNK2at7Context17userEnabledMkldnnEv");
    }

    static MkldnnSwitch find() {
      try {
        Path lib = loadedLibrary("libtorch_cpu");
        return lib == null ? null : new MkldnnSwitch(com.sun.jna.NativeLibrary.getInstance(lib.toString()));
      } catch (Throwable t) { // no JNA, symbols renamed in another libtorch version, not Linux
        return null;
      }
    }

    boolean enabled() {
      return (get.invokeInt(new Object[] {context}) & 0xff) != 0;
    }

    void set(boolean on) {
      set.invokeVoid(new Object[] {context, on ? 1 : 0});
    }
  }

  /** The file of a native library this process has loaded (Linux: /proc/self/maps), or null. */
  static Path loadedLibrary(String prefix) throws IOException {
    Path maps = Paths.get("/proc/self/maps");
    if (!Files.isReadable(maps)) return null;
    List<String> lines = Files.readAllLines(maps, StandardCharsets.UTF_8);
    for (String line : lines) {
      int slash = line.indexOf('/');
      if (slash < 0) continue;
      Path p = Paths.get(line.substring(slash).trim());
      String n = p.getFileName().toString();
      if (n.startsWith(prefix + ".") || n.equals(prefix + ".so")) return p;
    }
    return null;
  }
}
