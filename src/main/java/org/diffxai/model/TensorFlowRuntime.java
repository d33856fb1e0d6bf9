package org.diffxai.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.tensorflow.engine.TfEngineProvider;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.diffxai.core.UserException;
import org.tensorflow.proto.ConfigProto;

/**
 * The one owner of TensorFlow's native library. Everything in the project that touches TensorFlow (DJL inference, TF
 * Java graph building and training) calls {@link #ensureLoaded()} first.
 *
 * <p>Offline loading: JavaCPP extracts and loads {@code libjnitensorflow} from the {@code tensorflow-core-native} jar
 * on the class path (to {@code ~/.javacpp/cache}); its path is handed to DJL through the
 * {@code TENSORFLOW_LIBRARY_PATH} system property before DJL's first {@code Engine.getEngine("TensorFlow")}, so DJL
 * never tries to download anything.
 *
 * <p>Inside ImageJ/Fiji the plugin's jars live in a plugin class loader that is not the thread's context class loader;
 * DJL finds engines through {@link java.util.ServiceLoader} on the context class loader. All DJL calls therefore run
 * inside {@link #withPluginClassLoader(Body)}.
 */
public final class TensorFlowRuntime {

  /** Device choice as the user types it (macro key {@code device}). */
  public enum DeviceChoice {
    /** GPU when TensorFlow sees one, else CPU. */
    AUTO,
    CPU,
    GPU;

    /** Parses {@code auto}, {@code cpu} or {@code gpu} (case-insensitive; null or blank means auto). */
    public static DeviceChoice parse(String s) {
      if (s == null || s.trim().isEmpty()) return AUTO;
      switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "auto":
          return AUTO;
        case "cpu":
          return CPU;
        case "gpu":
        case "cuda":
          return GPU;
        default:
          throw new UserException("Unknown device '" + s + "'. Use device=auto, device=cpu or device=gpu.");
      }
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** A piece of work run with the plugin's class loader as context class loader. */
  public interface Body<T, E extends Exception> {
    T run() throws E;
  }

  static final String ENGINE = "TensorFlow";
  private static final Object LOCK = new Object();
  private static volatile Engine engine;
  private static UserException failure;
  private static String libraryPath;

  private TensorFlowRuntime() {}

  /** True once TensorFlow's native library is loaded in this JVM (loading takes seconds the first time). */
  public static boolean isLoaded() {
    return engine != null;
  }

  /**
   * Loads TensorFlow's native library (once; later calls return at once) and returns DJL's TensorFlow engine.
   *
   * @throws UserException when the native library cannot be loaded; the message names the cause and the remedy. A
   *     failure is remembered: later calls throw the same exception without retrying.
   */
  public static Engine ensureLoaded() {
    Engine e = engine;
    if (e != null) return e;
    synchronized (LOCK) {
      if (engine != null) return engine;
      if (failure != null) throw failure;
      try {
        engine = withPluginClassLoader(TensorFlowRuntime::load);
        return engine;
      } catch (UserException ex) {
        failure = ex;
        throw ex;
      }
    }
  }

  private static Engine load() {
    setNativeEnvironment();
    String lib;
    try {
      lib = org.bytedeco.javacpp.Loader.load(org.tensorflow.internal.c_api.global.tensorflow.class);
    } catch (Throwable t) { // UnsatisfiedLinkError, NoClassDefFoundError when the native jar is missing, ...
      throw nativeFailure(t);
    }
    if (lib == null) {
      throw nativeFailure(new IllegalStateException("JavaCPP found no libjnitensorflow for this platform ("
          + org.bytedeco.javacpp.Loader.getPlatform() + ")"));
    }
    libraryPath = lib;
    // DJL reads the environment variable first, then the system property. We only fill in the property when the
    // user has not pointed DJL elsewhere on purpose.
    if (System.getenv("TENSORFLOW_LIBRARY_PATH") == null && System.getProperty("TENSORFLOW_LIBRARY_PATH") == null) {
      System.setProperty("TENSORFLOW_LIBRARY_PATH", lib);
    }
    try {
      if (!Engine.hasEngine(ENGINE)) {
        // The engine list is built once, when DJL's Engine class is first initialised. If that happened under another
        // context class loader (another plugin used DJL first), register our provider directly.
        Engine.registerEngine(new TfEngineProvider());
      }
      Engine e = Engine.getEngine(ENGINE);
      e.getVersion(); // forces the native calls now, not at the first prediction
      return e;
    } catch (Throwable t) {
      throw nativeFailure(t);
    }
  }

  /** The C library's setenv, through JNA (which DJL brings). */
  interface CLibrary extends com.sun.jna.Library {
    int setenv(String name, String value, int overwrite);
  }

  /**
   * Sets TensorFlow's environment before its native library loads (it reads these variables once, then). Values the
   * user set are kept.
   *
   * <ul>
   *   <li>{@code TF_CPP_MIN_LOG_LEVEL=2}: TensorFlow's C++ runtime logs every model load and CPU feature to stderr;
   *       keep only its errors, so the command line prints one clear line on error.
   *   <li>{@code TF_ENABLE_ONEDNN_OPTS=1}: TensorFlow 2.16 turns its oneDNN CPU kernels on by default only on CPUs
   *       with AVX-512 VNNI/BF16 or AMX; on an AVX2 machine they made this project's UNet about 2x faster in training
   *       and 1.5x in inference (measured; see docs/training.md and docs/benchmark.md).
   * </ul>
   */
  private static void setNativeEnvironment() {
    try {
      CLibrary c = com.sun.jna.Native.load("c", CLibrary.class);
      if (System.getenv("TF_CPP_MIN_LOG_LEVEL") == null) c.setenv("TF_CPP_MIN_LOG_LEVEL", "2", 0);
      if (System.getenv("TF_ENABLE_ONEDNN_OPTS") == null) c.setenv("TF_ENABLE_ONEDNN_OPTS", "1", 0);
    } catch (Throwable t) { // no libc (Windows) or no JNA: TensorFlow still works, only slower and more verbose
    }
  }

  private static UserException nativeFailure(Throwable t) {
    String cause = t.getMessage();
    for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
      if (c.getMessage() != null) cause = c.getMessage();
    }
    return new UserException("TensorFlow native library could not be loaded: " + t.getClass().getSimpleName()
        + (cause == null ? "" : ": " + cause) + ". Install the CPU build (mvn package), or for the GPU build "
        + "(mvn -Pgpu package) install CUDA 12 and cuDNN; see docs/bundles.md.", t);
  }

  /**
   * Runs {@code body} with the thread's context class loader set to the class loader that loaded this plugin, and
   * restores the previous context class loader afterwards (also on exceptions).
   */
  public static <T, E extends Exception> T withPluginClassLoader(Body<T, E> body) throws E {
    Thread th = Thread.currentThread();
    ClassLoader previous = th.getContextClassLoader();
    ClassLoader plugin = TensorFlowRuntime.class.getClassLoader();
    if (previous == plugin) return body.run();
    th.setContextClassLoader(plugin);
    try {
      return body.run();
    } finally {
      th.setContextClassLoader(previous);
    }
  }

  /** Number of GPUs TensorFlow can use (0 on CPU-only machines and with the CPU build). Loads TensorFlow. */
  public static int gpuCount() {
    final Engine e = ensureLoaded();
    return withPluginClassLoader(() -> {
      // hasCapability asks TensorFlow itself which devices it sees; CUDA being installed is not enough when the native
      // library is the CPU build.
      if (!e.hasCapability(StandardCapabilities.CUDA)) return 0;
      return Math.max(1, e.getGpuCount());
    });
  }

  /**
   * Resolves a device choice for this machine.
   *
   * @throws UserException for {@code gpu} when TensorFlow sees no GPU
   */
  public static Device device(DeviceChoice choice) {
    int gpus = gpuCount();
    switch (choice) {
      case CPU:
        return Device.cpu();
      case GPU:
        if (gpus == 0) {
          throw new UserException("device=gpu was requested, but TensorFlow sees no GPU on this machine. Use "
              + "device=cpu or device=auto, or install the GPU build (mvn -Pgpu package) on a machine with an NVIDIA "
              + "GPU, CUDA 12 and cuDNN.");
        }
        return Device.gpu();
      case AUTO:
      default:
        return gpus > 0 ? Device.gpu() : Device.cpu();
    }
  }

  /** {@link #device(DeviceChoice)} for the text the user typed ({@code auto}, {@code cpu}, {@code gpu}). */
  public static Device device(String choice) {
    return device(DeviceChoice.parse(choice));
  }

  /**
   * DJL model option {@code ConfigProto} (base64) for a device, or null for DJL's default. For the CPU on a machine
   * with GPUs the session is given no GPU at all, so TensorFlow cannot place kernels there.
   */
  static String sessionConfigOption(Device device) {
    if (device.isGpu()) return null;
    ConfigProto.Builder b = ConfigProto.newBuilder().putDeviceCount("GPU", 0);
    Integer inter = Integer.getInteger("ai.djl.tensorflow.num_interop_threads");
    Integer intra = Integer.getInteger("ai.djl.tensorflow.num_intraop_threads");
    if (inter != null) b.setInterOpParallelismThreads(inter);
    if (intra != null) b.setIntraOpParallelismThreads(intra);
    return Base64.getEncoder().encodeToString(b.build().toByteArray());
  }

  /** TensorFlow's version string (e.g. {@code 2.16.1}). Loads TensorFlow. */
  public static String tensorflowVersion() {
    final Engine e = ensureLoaded();
    return withPluginClassLoader(e::getVersion);
  }

  /** DJL's version string (e.g. {@code 0.36.0}); does not load TensorFlow. */
  public static String djlVersion() {
    return Engine.getDjlVersion();
  }

  /**
   * Versions for provenance records: {@code tensorflow.version}, {@code djl.version}, {@code tensorflow.library} (the
   * native library file), {@code tensorflow.gpus}. Loads TensorFlow.
   */
  public static Map<String, String> versions() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("tensorflow.version", tensorflowVersion());
    m.put("djl.version", djlVersion());
    m.put("tensorflow.library", libraryPath == null ? "" : libraryPath);
    m.put("tensorflow.gpus", Integer.toString(gpuCount()));
    return m;
  }
}
