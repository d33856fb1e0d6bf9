package org.diffxai.tf.proto;

import java.util.LinkedHashMap;
import java.util.Map;
import org.diffxai.core.UserException;
import org.diffxai.model.TensorFlowRuntime;

/**
 * The training schedule of a prototype network (ProtoPNet's, Chen et al. 2019, §2.2 and their main.py): warm-up
 * epochs train only the add-on layers and the prototypes (ProtoPool also its slot assignments); joint epochs train
 * everything but the last layer; every {@code pushEvery} joint epochs, and always after the last epoch, the prototypes
 * are pushed onto training patches and the last layer alone is fine-tuned for {@code lastLayerEpochs} epochs. Mutable
 * with fluent setters.
 */
public final class ProtoTrainingOptions {

  /**
   * What training does to the pixels outside the anatomy (docs/prototype-networks.md, "Background"): nothing, replace
   * them by random noise per image and batch (background randomisation, after Xiao et al. 2021, "Noise or Signal: The
   * Role of Image Backgrounds in Object Recognition", ICLR), or set them to the darkest model value.
   */
  public enum Background {
    KEEP("keep"),
    RANDOMIZE("randomize"),
    MASK("mask");

    private final String key;

    Background(String key) {
      this.key = key;
    }

    /** The value of the {@code background} key. */
    public String key() {
      return key;
    }

    /** Parses keep, randomize or mask (case-insensitive). */
    public static Background parse(String s) {
      String t = s == null ? "" : s.trim();
      for (Background b : values()) {
        if (b.key.equalsIgnoreCase(t)) return b;
      }
      throw new UserException("Unknown background '" + t + "'. Use background=keep, background=randomize or "
          + "background=mask.");
    }
  }

  private int epochs = 30;
  private int warmupEpochs = -1;
  private int pushEvery = 10;
  private int lastLayerEpochs = 5;
  private int batch = 32;
  private double learningRate = 3e-4;
  // ProtoPNet's warm-up step size for the add-on layers and prototypes (their settings.py: 3e-3).
  private double warmupLearningRate = 3e-3;
  private double lastLayerLearningRate = 1e-3;
  private long seed = 1;
  private boolean flip = true;
  private double gradientClip = 10;
  // ProtoPool's Gumbel-softmax temperature, annealed geometrically over the joint epochs.
  private double tauStart = 1.0;
  private double tauEnd = 0.05;
  private int threads;
  private TensorFlowRuntime.DeviceChoice device = TensorFlowRuntime.DeviceChoice.AUTO;
  private double noise = 0.3;
  private double intensity = 0.2;
  private Background background = Background.KEEP;
  private String foreground = ESTIMATE;
  /** {@link #foreground(String)}: estimate the anatomy from each image. */
  public static final String ESTIMATE = "estimate";
  /** {@link #foreground(String)}: the tissue label maps Generate Phantoms writes beside each image. */
  public static final String LABELS = "labels";

  public ProtoTrainingOptions epochs(int n) {
    epochs = n;
    return this;
  }

  /** Warm-up epochs; -1 (default): min(5, max(1, epochs / 6)). */
  public ProtoTrainingOptions warmupEpochs(int n) {
    warmupEpochs = n;
    return this;
  }

  public ProtoTrainingOptions pushEvery(int n) {
    pushEvery = n;
    return this;
  }

  public ProtoTrainingOptions lastLayerEpochs(int n) {
    lastLayerEpochs = n;
    return this;
  }

  public ProtoTrainingOptions batch(int n) {
    batch = n;
    return this;
  }

  /** Adam step size of the joint epochs. */
  public ProtoTrainingOptions learningRate(double lr) {
    learningRate = lr;
    return this;
  }

  public ProtoTrainingOptions seed(long s) {
    seed = s;
    return this;
  }

  /** Random left-right flips of training batches (never of the images the push searches). */
  public ProtoTrainingOptions flip(boolean f) {
    flip = f;
    return this;
  }

  /** ProtoPool: Gumbel-softmax temperature at the first joint epoch and at the last (geometric in between). */
  public ProtoTrainingOptions tau(double start, double end) {
    tauStart = start;
    tauEnd = end;
    return this;
  }

  /**
   * Noise augmentation: every training image of every batch gets Gaussian noise of a standard deviation drawn
   * uniformly from [0, sigma] (model units, where the training images span [−1, 1]), then is clipped to [−1, 1] as
   * inputs are at inference. Default 0.3; 0 switches it off.
   */
  public ProtoTrainingOptions noise(double sigma) {
    noise = sigma;
    return this;
  }

  public double noise() {
    return noise;
  }

  /**
   * Intensity augmentation: every training image of every batch is mapped to a·x + b (model units) with contrast a ~
   * U(1 − j, 1 + j) and brightness b ~ U(−j, j), before the noise. Default 0.2; 0 switches it off.
   */
  public ProtoTrainingOptions intensity(double j) {
    intensity = j;
    return this;
  }

  public double intensity() {
    return intensity;
  }

  /** What happens to the pixels outside the anatomy during training (needs foreground masks; default keep). */
  public ProtoTrainingOptions background(Background b) {
    background = b;
    return this;
  }

  public Background background() {
    return background;
  }

  /**
   * Where the anatomy of each training image comes from when the background is not kept: {@value #ESTIMATE}
   * (default: estimated from the image), {@value #LABELS} (the label map {@code name_labels.tif} beside each image, as
   * Generate Phantoms writes it: every tissue but background and planted shortcuts), or a folder or file of binary
   * masks (non-zero = anatomy), found as {@code io.MaskFiles} finds masks.
   */
  public ProtoTrainingOptions foreground(String source) {
    foreground = source == null || source.trim().isEmpty() ? ESTIMATE : source.trim();
    return this;
  }

  public String foreground() {
    return foreground;
  }

  /** TensorFlow intra-op threads (0: TensorFlow's default). */
  public ProtoTrainingOptions threads(int n) {
    threads = n;
    return this;
  }

  /** Where TensorFlow trains: auto (GPU when it sees one), cpu, gpu. */
  public ProtoTrainingOptions device(TensorFlowRuntime.DeviceChoice d) {
    device = d;
    return this;
  }

  public TensorFlowRuntime.DeviceChoice device() {
    return device;
  }

  public int epochs() {
    return epochs;
  }

  /** The warm-up epochs actually used. */
  public int warmupEpochs() {
    return warmupEpochs >= 0 ? Math.min(warmupEpochs, epochs) : Math.min(5, Math.max(1, epochs / 6));
  }

  public int pushEvery() {
    return pushEvery;
  }

  public int lastLayerEpochs() {
    return lastLayerEpochs;
  }

  public int batch() {
    return batch;
  }

  public double learningRate() {
    return learningRate;
  }

  public double warmupLearningRate() {
    return warmupLearningRate;
  }

  public double lastLayerLearningRate() {
    return lastLayerLearningRate;
  }

  public long seed() {
    return seed;
  }

  public boolean flip() {
    return flip;
  }

  public double gradientClip() {
    return gradientClip;
  }

  public double tauStart() {
    return tauStart;
  }

  public double tauEnd() {
    return tauEnd;
  }

  public int threads() {
    return threads;
  }

  /** Throws UserException naming the first bad value. */
  public ProtoTrainingOptions validate() {
    if (epochs < 1) throw new UserException("epochs must be >= 1, got " + epochs + ".");
    if (batch < 1) throw new UserException("batch must be >= 1, got " + batch + ".");
    if (pushEvery < 1) throw new UserException("push_every must be >= 1, got " + pushEvery + ".");
    if (lastLayerEpochs < 0) throw new UserException("last_layer_epochs must be >= 0, got " + lastLayerEpochs + ".");
    if (!(learningRate > 0 && learningRate < 1)) {
      throw new UserException("learning_rate must be in (0, 1), got " + learningRate + ".");
    }
    if (threads < 0) throw new UserException("threads must be >= 0");
    if (!(tauStart > 0 && tauEnd > 0)) throw new UserException("Gumbel-softmax temperatures must be > 0.");
    if (!(noise >= 0 && noise <= 2)) {
      throw new UserException("noise must be a standard deviation between 0 and 2 (model units), got " + noise + ".");
    }
    if (!(intensity >= 0 && intensity < 1)) {
      throw new UserException("intensity must be between 0 and 1 (model units), got " + intensity + ".");
    }
    if (background == null) throw new UserException("background must be keep, randomize or mask.");
    return this;
  }

  ProtoTrainingOptions copy() {
    ProtoTrainingOptions o = new ProtoTrainingOptions();
    o.epochs = epochs;
    o.warmupEpochs = warmupEpochs;
    o.pushEvery = pushEvery;
    o.lastLayerEpochs = lastLayerEpochs;
    o.batch = batch;
    o.learningRate = learningRate;
    o.warmupLearningRate = warmupLearningRate;
    o.lastLayerLearningRate = lastLayerLearningRate;
    o.seed = seed;
    o.flip = flip;
    o.gradientClip = gradientClip;
    o.tauStart = tauStart;
    o.tauEnd = tauEnd;
    o.threads = threads;
    o.device = device;
    o.noise = noise;
    o.intensity = intensity;
    o.background = background;
    o.foreground = foreground;
    return o;
  }

  /** The schedule for model.json and prototypes.json. */
  public Map<String, Object> describe(boolean protoPool) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("epochs", epochs);
    m.put("warmup_epochs", warmupEpochs());
    m.put("push_every", pushEvery);
    m.put("last_layer_epochs", lastLayerEpochs);
    m.put("batch", batch);
    m.put("optimizer", "adam(beta1=0.9, beta2=0.999, eps=1e-8), one per phase");
    m.put("learning_rate", learningRate);
    m.put("warmup_learning_rate", warmupLearningRate);
    m.put("last_layer_learning_rate", lastLayerLearningRate);
    m.put("gradient_clip", gradientClip);
    m.put("horizontal_flip", flip);
    m.put("noise_augmentation", noise);
    m.put("intensity_augmentation", intensity);
    m.put("background", background.key());
    if (background != Background.KEEP) m.put("foreground", foreground);
    m.put("seed", seed);
    if (protoPool) {
      m.put("gumbel_tau_start", tauStart);
      m.put("gumbel_tau_end", tauEnd);
    }
    return m;
  }
}
