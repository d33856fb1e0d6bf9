package org.diffxai.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;

class TensorFlowRuntimeTest {

  @Test
  void loadsOnceOffline() {
    assertSame(TensorFlowRuntime.ensureLoaded(), TensorFlowRuntime.ensureLoaded());
    assertEquals("TensorFlow", TensorFlowRuntime.ensureLoaded().getEngineName());
    Map<String, String> v = TensorFlowRuntime.versions();
    assertEquals("2.16.1", v.get("tensorflow.version"));
    assertEquals("0.36.0", v.get("djl.version"));
    assertTrue(v.get("tensorflow.library").endsWith("libjnitensorflow.so"), v.toString());
  }

  @Test
  void loadsFromManyThreadsAtOnce() throws InterruptedException {
    Thread[] th = new Thread[4];
    AtomicReference<Throwable> err = new AtomicReference<>();
    for (int i = 0; i < th.length; i++) {
      th[i] = new Thread(() -> {
        try {
          TensorFlowRuntime.ensureLoaded();
        } catch (Throwable e) {
          err.set(e);
        }
      });
      th[i].start();
    }
    for (Thread t : th) t.join();
    assertEquals(null, err.get());
  }

  @Test
  void contextClassLoaderIsSetAndRestored() throws Exception {
    Thread th = Thread.currentThread();
    ClassLoader before = th.getContextClassLoader();
    try (URLClassLoader foreign = new URLClassLoader(new URL[0], null)) {
      th.setContextClassLoader(foreign); // like ImageJ's plugin class loader situation
      ClassLoader inside = TensorFlowRuntime.withPluginClassLoader(() -> th.getContextClassLoader());
      assertSame(TensorFlowRuntime.class.getClassLoader(), inside);
      assertSame(foreign, th.getContextClassLoader());
      assertThrows(IllegalStateException.class, () -> TensorFlowRuntime.withPluginClassLoader(() -> {
        throw new IllegalStateException("boom");
      }));
      assertSame(foreign, th.getContextClassLoader());
      // DJL works from a thread whose context class loader cannot see it
      assertTrue(TensorFlowRuntime.gpuCount() >= 0);
    } finally {
      th.setContextClassLoader(before);
    }
  }

  @Test
  void deviceChoices() {
    assertEquals(TensorFlowRuntime.DeviceChoice.AUTO, TensorFlowRuntime.DeviceChoice.parse(null));
    assertEquals(TensorFlowRuntime.DeviceChoice.AUTO, TensorFlowRuntime.DeviceChoice.parse(""));
    assertEquals(TensorFlowRuntime.DeviceChoice.CPU, TensorFlowRuntime.DeviceChoice.parse(" CPU "));
    assertEquals(TensorFlowRuntime.DeviceChoice.GPU, TensorFlowRuntime.DeviceChoice.parse("gpu"));
    assertEquals("Unknown device 'tpu'. Use device=auto, device=cpu or device=gpu.",
        assertThrows(UserException.class, () -> TensorFlowRuntime.DeviceChoice.parse("tpu")).getMessage());
    assertEquals(Device.cpu(), TensorFlowRuntime.device("cpu"));
  }

  /** This machine has no GPU: auto picks the CPU and gpu is a clear error. Unverified on a GPU machine. */
  @Test
  void withoutGpu() {
    Assumptions.assumeTrue(TensorFlowRuntime.gpuCount() == 0, "this machine has a GPU");
    assertEquals(Device.cpu(), TensorFlowRuntime.device("auto"));
    String m = assertThrows(UserException.class, () -> TensorFlowRuntime.device("gpu")).getMessage();
    assertEquals("device=gpu was requested, but TensorFlow sees no GPU on this machine. Use device=cpu or "
        + "device=auto, or install the GPU build (mvn -Pgpu package) on a machine with an NVIDIA GPU, CUDA 12 and "
        + "cuDNN.", m);
    assertThrows(UserException.class, () -> DjlDenoiser.open(Fixtures.plain().toString(), "gpu"));
  }

  @Test
  void cpuSessionsSeeNoGpu() throws Exception {
    ConfigProto cpu = ConfigProto.parseFrom(Base64.getDecoder().decode(TensorFlowRuntime.sessionConfigOption(
        Device.cpu())));
    assertEquals(0, (int) cpu.getDeviceCountMap().get("GPU"));
    assertEquals(null, TensorFlowRuntime.sessionConfigOption(Device.gpu()));
    assertFalse(Device.cpu().isGpu());
  }
}
