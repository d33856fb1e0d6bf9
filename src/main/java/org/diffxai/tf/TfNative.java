package org.diffxai.tf;

/** Loads TensorFlow's native library from the class path (offline) before any TF Java use in this package. */
final class TfNative {
  private static volatile boolean loaded;

  private TfNative() {}

  // TODO: use TensorFlowRuntime (org.diffxai.model.TensorFlowRuntime.ensureLoaded() is the one owner of this).
  static synchronized void ensureLoaded() {
    if (loaded) return;
    String lib = org.bytedeco.javacpp.Loader.load(org.tensorflow.internal.c_api.global.tensorflow.class);
    System.setProperty("TENSORFLOW_LIBRARY_PATH", lib);
    loaded = true;
  }
}
