package org.diffxai.tf;

import java.util.Locale;

/** Loads TensorFlow's native library from the class path (offline) before any TF Java use in this package. */
final class TfNative {
  private static volatile boolean loaded;

  private TfNative() {}

  /** C library's setenv, through JNA (a DJL dependency). */
  public interface LibC extends com.sun.jna.Library {
    int setenv(String name, String value, int overwrite);
  }

  // TODO: use TensorFlowRuntime (org.diffxai.model.TensorFlowRuntime.ensureLoaded() is the one owner of this).
  static synchronized void ensureLoaded() {
    if (loaded) return;
    enableOneDnn();
    String lib = org.bytedeco.javacpp.Loader.load(org.tensorflow.internal.c_api.global.tensorflow.class);
    System.setProperty("TENSORFLOW_LIBRARY_PATH", lib);
    loaded = true;
  }

  /**
   * TensorFlow 2.16 turns its oneDNN CPU kernels on by default only on CPUs with AVX-512 VNNI/BF16 or AMX; on an AVX2
   * machine training this project's UNet runs about 2x faster with them (measured: Conv2DBackpropFilter dominates
   * without). TF reads {@code TF_ENABLE_ONEDNN_OPTS} from the process environment when it initialises, so it must be
   * set natively before the library loads. A value the user already set is kept.
   */
  private static void enableOneDnn() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (System.getenv("TF_ENABLE_ONEDNN_OPTS") != null || os.contains("win")) return;
    try {
      LibC c = com.sun.jna.Native.load("c", LibC.class);
      c.setenv("TF_ENABLE_ONEDNN_OPTS", "1", 0);
    } catch (Throwable e) { // JNA missing or no libc: TensorFlow still works, only slower
      System.err.println("diffxai: could not enable TensorFlow oneDNN kernels: " + e);
    }
  }
}
