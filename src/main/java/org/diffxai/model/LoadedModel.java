package org.diffxai.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.SchedulerConfig;
import org.diffxai.io.FloatStack;

/**
 * A model opened for a run, whatever its kind and engine: the network (a {@code core.Denoiser}, {@code Classifier} or
 * {@code PrototypeClassifier}) with what the run needs to know about its bundle — name, provenance (checksum, engine,
 * device, runtime versions), class names, intensity mapping, the scheduler of a denoiser, the gallery of a prototype
 * network. Opened at the edge through {@link Models}; closed once (closing twice is harmless).
 *
 * @param <T> the network's interface
 */
public final class LoadedModel<T extends AutoCloseable> implements AutoCloseable {
  private final T model;
  private final String name;
  private final Map<String, String> provenance;
  private final List<String> classNames;
  private final IntensityMapping intensity;
  private final SchedulerConfig scheduler;
  private final FloatStack gallery;
  private boolean closed;

  private LoadedModel(T model, String name, Map<String, String> provenance, List<String> classNames,
      IntensityMapping intensity, SchedulerConfig scheduler, FloatStack gallery) {
    this.model = model;
    this.name = name;
    this.provenance = Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
    this.classNames = Collections.unmodifiableList(classNames);
    this.intensity = intensity;
    this.scheduler = scheduler;
    this.gallery = gallery;
  }

  /** A network with its name and provenance (tests, benchmarks, controls built in memory). */
  public static <T extends AutoCloseable> LoadedModel<T> of(T model, String name, Map<String, String> provenance) {
    return new LoadedModel<>(model, name, provenance, Collections.emptyList(), IntensityMapping.IDENTITY, null, null);
  }

  /** This model with its class names (as the bundle names them; may differ from a classifier's own). */
  public LoadedModel<T> withClassNames(List<String> names) {
    return new LoadedModel<>(model, name, provenance, names, intensity, scheduler, gallery);
  }

  /** This model with its bundle's intensity mapping (image = model · scale + offset). */
  public LoadedModel<T> withIntensity(IntensityMapping mapping) {
    return new LoadedModel<>(model, name, provenance, classNames, mapping, scheduler, gallery);
  }

  /** This model with the denoiser's scheduler configuration. */
  public LoadedModel<T> withScheduler(SchedulerConfig config) {
    return new LoadedModel<>(model, name, provenance, classNames, intensity, config, gallery);
  }

  /** This model with the prototype network's gallery (one plane per prototype source image). */
  public LoadedModel<T> withGallery(FloatStack planes) {
    return new LoadedModel<>(model, name, provenance, classNames, intensity, scheduler, planes);
  }

  /** The network. */
  public T get() {
    return model;
  }

  public String name() {
    return name;
  }

  /** Model name, checksum, engine, device, runtime versions: recorded with every output. */
  public Map<String, String> provenance() {
    return provenance;
  }

  /** The bundle's class names (may be empty). */
  public List<String> classNames() {
    return classNames;
  }

  /** image = model · scale + offset. */
  public IntensityMapping intensity() {
    return intensity;
  }

  /** The denoiser's scheduler configuration, or null. */
  public SchedulerConfig scheduler() {
    return scheduler;
  }

  /** The prototype network's gallery, or null. */
  public FloatStack gallery() {
    return gallery;
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    try {
      model.close();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("closing model " + name + ": " + e, e);
    }
  }
}
