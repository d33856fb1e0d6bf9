package org.diffxai.core;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The configuration of a DDPM/DDIM scheduler, with diffusers' key names and defaults (the {@code scheduler_config.json}
 * of a diffusers pipeline). Keys are public API: they are what a bundle's JSON file contains.
 *
 * <p>Build one with the fluent setters ({@code new SchedulerConfig().betaSchedule("squaredcos_cap_v2")
 * .predictionType("v_prediction")}) and write it with {@link #toJson()}, or read one with {@link #fromJson(String)}.
 * Every setter validates its value at once and throws a {@link UserException} naming the key, the value and the
 * allowed values. Keys this class does not know ({@code _class_name} is kept, {@code _diffusers_version} and keys of
 * other scheduler classes) are ignored when parsing and listed by {@link #ignoredKeys()}.
 */
public final class SchedulerConfig {

  /** {@code beta_schedule}: how the training betas are laid out. */
  public enum BetaSchedule {
    /** Linear in beta (Ho et al. 2020, Sec. 4). */
    LINEAR("linear"),
    /** Linear in sqrt(beta), then squared (latent diffusion). */
    SCALED_LINEAR("scaled_linear"),
    /** Cosine schedule of ᾱ(t) with betas capped at 0.999 (Nichol &amp; Dhariwal 2021, Eq. 17). */
    SQUAREDCOS_CAP_V2("squaredcos_cap_v2");

    private final String key;

    BetaSchedule(String key) {
      this.key = key;
    }

    /** The diffusers spelling, e.g. {@code "scaled_linear"}. */
    public String key() {
      return key;
    }
  }

  /** {@code prediction_type}: what the model outputs. */
  public enum PredictionType {
    /** The noise ε (Ho et al. 2020, Eq. 11). */
    EPSILON("epsilon"),
    /** The velocity v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans &amp; Ho 2022, Sec. 4). */
    V_PREDICTION("v_prediction"),
    /** The clean sample x₀ itself. */
    SAMPLE("sample");

    private final String key;

    PredictionType(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  /** {@code timestep_spacing}: how inference timesteps are picked (Lin et al. 2023, Table 2). */
  public enum TimestepSpacing {
    LEADING("leading"),
    TRAILING("trailing"),
    LINSPACE("linspace");

    private final String key;

    TimestepSpacing(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  /** {@code variance_type} of DDPM: the reverse-process variance σ_t² (Ho et al. 2020, Sec. 3.2). */
  public enum VarianceType {
    /** σ_t² = β̃_t, the posterior variance (clamped at 1e-20). */
    FIXED_SMALL("fixed_small"),
    /** σ_t² = β_t. */
    FIXED_LARGE("fixed_large");

    private final String key;

    VarianceType(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  // diffusers key names, in the order toJson() writes them
  public static final String NUM_TRAIN_TIMESTEPS = "num_train_timesteps";
  public static final String BETA_START = "beta_start";
  public static final String BETA_END = "beta_end";
  public static final String BETA_SCHEDULE = "beta_schedule";
  public static final String TRAINED_BETAS = "trained_betas";
  public static final String PREDICTION_TYPE = "prediction_type";
  public static final String CLIP_SAMPLE = "clip_sample";
  public static final String CLIP_SAMPLE_RANGE = "clip_sample_range";
  public static final String THRESHOLDING = "thresholding";
  public static final String DYNAMIC_THRESHOLDING_RATIO = "dynamic_thresholding_ratio";
  public static final String SAMPLE_MAX_VALUE = "sample_max_value";
  public static final String SET_ALPHA_TO_ONE = "set_alpha_to_one";
  public static final String STEPS_OFFSET = "steps_offset";
  public static final String TIMESTEP_SPACING = "timestep_spacing";
  public static final String VARIANCE_TYPE = "variance_type";
  public static final String RESCALE_BETAS_ZERO_SNR = "rescale_betas_zero_snr";
  public static final String CLASS_NAME = "_class_name";

  private static final List<String> KEYS = Collections.unmodifiableList(Arrays.asList(NUM_TRAIN_TIMESTEPS, BETA_START,
      BETA_END, BETA_SCHEDULE, TRAINED_BETAS, PREDICTION_TYPE, CLIP_SAMPLE, CLIP_SAMPLE_RANGE, THRESHOLDING,
      DYNAMIC_THRESHOLDING_RATIO, SAMPLE_MAX_VALUE, SET_ALPHA_TO_ONE, STEPS_OFFSET, TIMESTEP_SPACING, VARIANCE_TYPE,
      RESCALE_BETAS_ZERO_SNR));

  private int numTrainTimesteps = 1000;
  private double betaStart = 0.0001;
  private double betaEnd = 0.02;
  private BetaSchedule betaSchedule = BetaSchedule.LINEAR;
  private float[] trainedBetas;
  private PredictionType predictionType = PredictionType.EPSILON;
  private boolean clipSample = true;
  private double clipSampleRange = 1.0;
  private boolean thresholding = false;
  private double dynamicThresholdingRatio = 0.995;
  private double sampleMaxValue = 1.0;
  private boolean setAlphaToOne = true;
  private int stepsOffset = 0;
  private TimestepSpacing timestepSpacing = TimestepSpacing.LEADING;
  private VarianceType varianceType = VarianceType.FIXED_SMALL;
  private String className;
  private final List<String> ignoredKeys = new ArrayList<>();

  /** A configuration with diffusers' defaults (DDPM 1000 steps, linear betas 1e-4 … 0.02, epsilon, clipping on). */
  public SchedulerConfig() {}

  /** A copy of {@code other}. */
  public SchedulerConfig(SchedulerConfig other) {
    numTrainTimesteps = other.numTrainTimesteps;
    betaStart = other.betaStart;
    betaEnd = other.betaEnd;
    betaSchedule = other.betaSchedule;
    trainedBetas = other.trainedBetas == null ? null : other.trainedBetas.clone();
    predictionType = other.predictionType;
    clipSample = other.clipSample;
    clipSampleRange = other.clipSampleRange;
    thresholding = other.thresholding;
    dynamicThresholdingRatio = other.dynamicThresholdingRatio;
    sampleMaxValue = other.sampleMaxValue;
    setAlphaToOne = other.setAlphaToOne;
    stepsOffset = other.stepsOffset;
    timestepSpacing = other.timestepSpacing;
    varianceType = other.varianceType;
    className = other.className;
    ignoredKeys.addAll(other.ignoredKeys);
  }

  // ---------------------------------------------------------------- getters

  public int numTrainTimesteps() {
    return numTrainTimesteps;
  }

  public double betaStart() {
    return betaStart;
  }

  public double betaEnd() {
    return betaEnd;
  }

  public BetaSchedule betaSchedule() {
    return betaSchedule;
  }

  /** The explicit betas (float32, as diffusers stores them), or null when the schedule is computed. */
  public float[] trainedBetas() {
    return trainedBetas == null ? null : trainedBetas.clone();
  }

  public PredictionType predictionType() {
    return predictionType;
  }

  public boolean clipSample() {
    return clipSample;
  }

  public double clipSampleRange() {
    return clipSampleRange;
  }

  public boolean thresholding() {
    return thresholding;
  }

  public double dynamicThresholdingRatio() {
    return dynamicThresholdingRatio;
  }

  public double sampleMaxValue() {
    return sampleMaxValue;
  }

  public boolean setAlphaToOne() {
    return setAlphaToOne;
  }

  public int stepsOffset() {
    return stepsOffset;
  }

  public TimestepSpacing timestepSpacing() {
    return timestepSpacing;
  }

  public VarianceType varianceType() {
    return varianceType;
  }

  /** diffusers' {@code _class_name} (e.g. "DDIMScheduler"), or null when not given. */
  public String className() {
    return className;
  }

  /** Keys met by {@link #fromJson(String)} that this class does not use (e.g. {@code _diffusers_version}). */
  public List<String> ignoredKeys() {
    return Collections.unmodifiableList(ignoredKeys);
  }

  /** The diffusers keys this class reads and writes (without {@code _class_name}). */
  public static List<String> keys() {
    return KEYS;
  }

  // ---------------------------------------------------------------- fluent setters (validate at once)

  public SchedulerConfig numTrainTimesteps(int v) {
    if (v < 1) throw bad(NUM_TRAIN_TIMESTEPS, v, "an integer >= 1, e.g. 1000");
    numTrainTimesteps = v;
    return this;
  }

  public SchedulerConfig betaStart(double v) {
    betaStart = checkBeta(BETA_START, v);
    return this;
  }

  public SchedulerConfig betaEnd(double v) {
    betaEnd = checkBeta(BETA_END, v);
    return this;
  }

  public SchedulerConfig betaSchedule(BetaSchedule v) {
    betaSchedule = requireNonNull(BETA_SCHEDULE, v);
    return this;
  }

  /** @param v "linear", "scaled_linear" or "squaredcos_cap_v2" */
  public SchedulerConfig betaSchedule(String v) {
    betaSchedule = parseEnum(BETA_SCHEDULE, v, BetaSchedule.values());
    return this;
  }

  /**
   * Explicit betas, one per training timestep, each in (0, 1); stored as float32 like diffusers'
   * {@code torch.tensor(trained_betas, dtype=torch.float32)}. Null returns to the computed schedule.
   */
  public SchedulerConfig trainedBetas(double[] v) {
    if (v == null) {
      trainedBetas = null;
      return this;
    }
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
    return trainedBetas(f);
  }

  /** Explicit float32 betas, one per training timestep, each in (0, 1); null returns to the computed schedule. */
  public SchedulerConfig trainedBetas(float[] v) {
    if (v == null) {
      trainedBetas = null;
      return this;
    }
    if (v.length == 0) throw bad(TRAINED_BETAS, "[]", "null or a list of num_train_timesteps numbers in (0, 1)");
    for (int i = 0; i < v.length; i++) {
      if (!(v[i] > 0 && v[i] < 1)) {
        throw new UserException("Scheduler config key \"" + TRAINED_BETAS + "\" has the value " + v[i] + " at index "
            + i + "; every beta must be a number in (0, 1). Fix " + TRAINED_BETAS + " or remove it to use "
            + BETA_SCHEDULE + ".");
      }
    }
    trainedBetas = v.clone();
    return this;
  }

  public SchedulerConfig predictionType(PredictionType v) {
    predictionType = requireNonNull(PREDICTION_TYPE, v);
    return this;
  }

  /** @param v "epsilon", "v_prediction" or "sample" */
  public SchedulerConfig predictionType(String v) {
    predictionType = parseEnum(PREDICTION_TYPE, v, PredictionType.values());
    return this;
  }

  public SchedulerConfig clipSample(boolean v) {
    clipSample = v;
    return this;
  }

  public SchedulerConfig clipSampleRange(double v) {
    if (!(v > 0 && Double.isFinite(v))) throw bad(CLIP_SAMPLE_RANGE, v, "a finite number > 0, e.g. 1.0");
    clipSampleRange = v;
    return this;
  }

  public SchedulerConfig thresholding(boolean v) {
    thresholding = v;
    return this;
  }

  public SchedulerConfig dynamicThresholdingRatio(double v) {
    if (!(v > 0 && v <= 1)) throw bad(DYNAMIC_THRESHOLDING_RATIO, v, "a number in (0, 1], e.g. 0.995");
    dynamicThresholdingRatio = v;
    return this;
  }

  public SchedulerConfig sampleMaxValue(double v) {
    if (!(v > 0 && Double.isFinite(v))) throw bad(SAMPLE_MAX_VALUE, v, "a finite number > 0, e.g. 1.0");
    sampleMaxValue = v;
    return this;
  }

  public SchedulerConfig setAlphaToOne(boolean v) {
    setAlphaToOne = v;
    return this;
  }

  public SchedulerConfig stepsOffset(int v) {
    if (v < 0) throw bad(STEPS_OFFSET, v, "an integer >= 0, e.g. 0 or 1");
    stepsOffset = v;
    return this;
  }

  public SchedulerConfig timestepSpacing(TimestepSpacing v) {
    timestepSpacing = requireNonNull(TIMESTEP_SPACING, v);
    return this;
  }

  /** @param v "leading", "trailing" or "linspace" */
  public SchedulerConfig timestepSpacing(String v) {
    timestepSpacing = parseEnum(TIMESTEP_SPACING, v, TimestepSpacing.values());
    return this;
  }

  public SchedulerConfig varianceType(VarianceType v) {
    varianceType = requireNonNull(VARIANCE_TYPE, v);
    return this;
  }

  /** @param v "fixed_small" or "fixed_large" */
  public SchedulerConfig varianceType(String v) {
    varianceType = parseEnum(VARIANCE_TYPE, v, VarianceType.values());
    return this;
  }

  /** diffusers' {@code _class_name}, written by {@link #toJson()} when not null (e.g. "DDIMScheduler"). */
  public SchedulerConfig className(String v) {
    className = v;
    return this;
  }

  /**
   * Checks the keys together (the setters check each alone): trained_betas has one value per training timestep, and
   * the float32 schedule has 0 &lt; ᾱ_t &lt; 1 for every t (otherwise the step formulas divide by zero).
   *
   * @return this
   */
  public SchedulerConfig validate() {
    if (trainedBetas != null && trainedBetas.length != numTrainTimesteps) {
      throw new UserException("Scheduler config key \"" + TRAINED_BETAS + "\" has " + trainedBetas.length
          + " values but \"" + NUM_TRAIN_TIMESTEPS + "\" is " + numTrainTimesteps
          + "; give exactly one beta per training timestep.");
    }
    NoiseSchedule.of(this); // throws a UserException naming the keys when ᾱ leaves (0, 1) in float32
    return this;
  }

  // ---------------------------------------------------------------- JSON

  /** Reads a diffusers {@code scheduler_config.json}. */
  public static SchedulerConfig fromFile(Path file) throws IOException {
    String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    try {
      return fromJson(text);
    } catch (UserException e) {
      throw new UserException(file.getFileName() + ": " + e.getMessage(), e);
    }
  }

  /** Reads a diffusers scheduler config from a reader (not closed). */
  public static SchedulerConfig fromJson(Reader reader) {
    JsonElement root;
    try {
      root = JsonParser.parseReader(reader);
    } catch (JsonParseException e) {
      throw new UserException("The scheduler config is not valid JSON (" + e.getMessage()
          + "). Fix the file or write it again with a diffusers scheduler's save_config().", e);
    }
    return fromJson(root);
  }

  /** Parses a diffusers scheduler config; unknown keys are ignored (see {@link #ignoredKeys()}). */
  public static SchedulerConfig fromJson(String json) {
    JsonElement root;
    try {
      root = JsonParser.parseString(json);
    } catch (JsonParseException e) {
      throw new UserException("The scheduler config is not valid JSON (" + e.getMessage()
          + "). Fix the file or write it again with a diffusers scheduler's save_config().", e);
    }
    return fromJson(root);
  }

  private static SchedulerConfig fromJson(JsonElement root) {
    if (root == null || !root.isJsonObject()) {
      throw new UserException("The scheduler config must be a JSON object such as {\"num_train_timesteps\": 1000,"
          + " \"beta_schedule\": \"linear\"}; got " + (root == null ? "nothing" : root) + ".");
    }
    SchedulerConfig c = new SchedulerConfig();
    for (Map.Entry<String, JsonElement> e : root.getAsJsonObject().entrySet()) {
      String key = e.getKey();
      JsonElement v = e.getValue();
      switch (key) {
        case NUM_TRAIN_TIMESTEPS:
          c.numTrainTimesteps(jsonInt(key, v));
          break;
        case BETA_START:
          c.betaStart(jsonNumber(key, v));
          break;
        case BETA_END:
          c.betaEnd(jsonNumber(key, v));
          break;
        case BETA_SCHEDULE:
          c.betaSchedule(jsonString(key, v));
          break;
        case TRAINED_BETAS:
          c.trainedBetas(jsonNumbers(key, v));
          break;
        case PREDICTION_TYPE:
          c.predictionType(jsonString(key, v));
          break;
        case CLIP_SAMPLE:
          c.clipSample(jsonBoolean(key, v));
          break;
        case CLIP_SAMPLE_RANGE:
          c.clipSampleRange(jsonNumber(key, v));
          break;
        case THRESHOLDING:
          c.thresholding(jsonBoolean(key, v));
          break;
        case DYNAMIC_THRESHOLDING_RATIO:
          c.dynamicThresholdingRatio(jsonNumber(key, v));
          break;
        case SAMPLE_MAX_VALUE:
          c.sampleMaxValue(jsonNumber(key, v));
          break;
        case SET_ALPHA_TO_ONE:
          c.setAlphaToOne(jsonBoolean(key, v));
          break;
        case STEPS_OFFSET:
          c.stepsOffset(jsonInt(key, v));
          break;
        case TIMESTEP_SPACING:
          c.timestepSpacing(jsonString(key, v));
          break;
        case VARIANCE_TYPE:
          c.varianceType(jsonString(key, v));
          break;
        case RESCALE_BETAS_ZERO_SNR:
          if (jsonBoolean(key, v)) {
            throw new UserException("Scheduler config key \"" + RESCALE_BETAS_ZERO_SNR
                + "\" is true, which is not supported (zero terminal SNR, Lin et al. 2023). Set it to false or remove"
                + " it, and use a model trained without it.");
          }
          break;
        case CLASS_NAME:
          c.className(v.isJsonNull() ? null : jsonString(key, v));
          break;
        default:
          c.ignoredKeys.add(key);
      }
    }
    return c.validate();
  }

  /**
   * The configuration as a diffusers {@code scheduler_config.json} (all keys this class knows, diffusers names,
   * {@code trained_betas} null when computed; {@code _class_name} first when set).
   */
  public String toJson() {
    JsonObject o = new JsonObject();
    if (className != null) o.addProperty(CLASS_NAME, className);
    o.addProperty(NUM_TRAIN_TIMESTEPS, numTrainTimesteps);
    o.addProperty(BETA_START, betaStart);
    o.addProperty(BETA_END, betaEnd);
    o.addProperty(BETA_SCHEDULE, betaSchedule.key());
    if (trainedBetas == null) {
      o.add(TRAINED_BETAS, JsonNull.INSTANCE);
    } else {
      JsonArray a = new JsonArray();
      // float -> double is exact; written as the shortest decimal of the float's double value
      for (float b : trainedBetas) a.add(new JsonPrimitive(Double.parseDouble(Float.toString(b))));
      o.add(TRAINED_BETAS, a);
    }
    o.addProperty(PREDICTION_TYPE, predictionType.key());
    o.addProperty(CLIP_SAMPLE, clipSample);
    o.addProperty(CLIP_SAMPLE_RANGE, clipSampleRange);
    o.addProperty(THRESHOLDING, thresholding);
    o.addProperty(DYNAMIC_THRESHOLDING_RATIO, dynamicThresholdingRatio);
    o.addProperty(SAMPLE_MAX_VALUE, sampleMaxValue);
    o.addProperty(SET_ALPHA_TO_ONE, setAlphaToOne);
    o.addProperty(STEPS_OFFSET, stepsOffset);
    o.addProperty(TIMESTEP_SPACING, timestepSpacing.key());
    o.addProperty(VARIANCE_TYPE, varianceType.key());
    o.addProperty(RESCALE_BETAS_ZERO_SNR, false);
    Gson gson = Json.GSON.newBuilder().serializeNulls().create(); // diffusers writes null values
    return gson.toJson(o);
  }

  @Override
  public String toString() {
    return toJson();
  }

  // ---------------------------------------------------------------- helpers

  private static double checkBeta(String key, double v) {
    if (!(v > 0 && v < 1)) {
      throw bad(key, v, "a number in (0, 1), e.g. " + (BETA_START.equals(key) ? "0.0001" : "0.02"));
    }
    return v;
  }

  private static <T> T requireNonNull(String key, T v) {
    if (v == null) throw bad(key, "null", "a value");
    return v;
  }

  private static <E extends Enum<E>> E parseEnum(String key, String v, E[] values) {
    StringBuilder allowed = new StringBuilder();
    for (E e : values) {
      String k = keyOf(e);
      if (k.equals(v)) return e;
      if (allowed.length() > 0) allowed.append(", ");
      allowed.append('"').append(k).append('"');
    }
    throw bad(key, v == null ? "null" : "\"" + v + "\"", "one of " + allowed);
  }

  private static String keyOf(Enum<?> e) {
    if (e instanceof BetaSchedule) return ((BetaSchedule) e).key();
    if (e instanceof PredictionType) return ((PredictionType) e).key();
    if (e instanceof TimestepSpacing) return ((TimestepSpacing) e).key();
    if (e instanceof VarianceType) return ((VarianceType) e).key();
    return e.name().toLowerCase(Locale.ROOT);
  }

  private static UserException bad(String key, Object value, String allowed) {
    return new UserException(
        "Scheduler config key \"" + key + "\" has the value " + value + "; it must be " + allowed + ".");
  }

  private static String describe(JsonElement v) {
    return v == null || v.isJsonNull() ? "null" : v.toString();
  }

  private static double jsonNumber(String key, JsonElement v) {
    if (v != null && v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) return v.getAsDouble();
    throw bad(key, describe(v), "a JSON number");
  }

  private static int jsonInt(String key, JsonElement v) {
    double d = jsonNumber(key, v);
    if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) throw bad(key, describe(v), "a JSON integer");
    return (int) d;
  }

  private static boolean jsonBoolean(String key, JsonElement v) {
    if (v != null && v.isJsonPrimitive() && v.getAsJsonPrimitive().isBoolean()) return v.getAsBoolean();
    throw bad(key, describe(v), "true or false (a JSON boolean)");
  }

  private static String jsonString(String key, JsonElement v) {
    if (v != null && v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) return v.getAsString();
    throw bad(key, describe(v), "a JSON string");
  }

  private static double[] jsonNumbers(String key, JsonElement v) {
    if (v == null || v.isJsonNull()) return null;
    if (!v.isJsonArray()) throw bad(key, describe(v), "null or a JSON list of numbers");
    JsonArray a = v.getAsJsonArray();
    double[] out = new double[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement e = a.get(i);
      if (!(e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber())) {
        throw bad(key, "a list containing " + describe(e) + " at index " + i, "null or a JSON list of numbers");
      }
      out[i] = e.getAsDouble();
    }
    return out;
  }
}
