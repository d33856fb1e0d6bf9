package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.diffxai.core.SchedulerConfig.BetaSchedule;
import org.diffxai.core.SchedulerConfig.PredictionType;
import org.diffxai.core.SchedulerConfig.TimestepSpacing;
import org.diffxai.core.SchedulerConfig.VarianceType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchedulerConfigTest {

  /** A current diffusers DDIMScheduler.save_config() output (Stable Diffusion v1 style values). */
  static final String DDIM_JSON = "{\n"
      + "  \"_class_name\": \"DDIMScheduler\",\n"
      + "  \"_diffusers_version\": \"0.27.2\",\n"
      + "  \"beta_end\": 0.012,\n"
      + "  \"beta_schedule\": \"scaled_linear\",\n"
      + "  \"beta_start\": 0.00085,\n"
      + "  \"clip_sample\": false,\n"
      + "  \"clip_sample_range\": 1.0,\n"
      + "  \"dynamic_thresholding_ratio\": 0.995,\n"
      + "  \"num_train_timesteps\": 1000,\n"
      + "  \"prediction_type\": \"epsilon\",\n"
      + "  \"rescale_betas_zero_snr\": false,\n"
      + "  \"sample_max_value\": 1.0,\n"
      + "  \"set_alpha_to_one\": false,\n"
      + "  \"skip_prk_steps\": true,\n"
      + "  \"steps_offset\": 1,\n"
      + "  \"thresholding\": false,\n"
      + "  \"timestep_spacing\": \"leading\",\n"
      + "  \"trained_betas\": null\n"
      + "}";

  /** An early diffusers DDPMScheduler config (google/ddpm-cifar10-32 style): few keys, the rest default. */
  static final String DDPM_JSON = "{\"_class_name\": \"DDPMScheduler\", \"_diffusers_version\": \"0.1.1\","
      + " \"beta_end\": 0.02, \"beta_schedule\": \"linear\", \"beta_start\": 0.0001, \"clip_sample\": true,"
      + " \"num_train_timesteps\": 1000, \"trained_betas\": null, \"variance_type\": \"fixed_small\"}";

  @Test
  void defaultsAreDiffusers() {
    SchedulerConfig c = new SchedulerConfig();
    assertEquals(1000, c.numTrainTimesteps());
    assertEquals(0.0001, c.betaStart());
    assertEquals(0.02, c.betaEnd());
    assertEquals(BetaSchedule.LINEAR, c.betaSchedule());
    assertNull(c.trainedBetas());
    assertEquals(PredictionType.EPSILON, c.predictionType());
    assertTrue(c.clipSample());
    assertEquals(1.0, c.clipSampleRange());
    assertFalse(c.thresholding());
    assertEquals(0.995, c.dynamicThresholdingRatio());
    assertEquals(1.0, c.sampleMaxValue());
    assertTrue(c.setAlphaToOne());
    assertEquals(0, c.stepsOffset());
    assertEquals(TimestepSpacing.LEADING, c.timestepSpacing());
    assertEquals(VarianceType.FIXED_SMALL, c.varianceType());
  }

  @Test
  void parsesARealDdimConfig() {
    SchedulerConfig c = SchedulerConfig.fromJson(DDIM_JSON);
    assertEquals("DDIMScheduler", c.className());
    assertEquals(1000, c.numTrainTimesteps());
    assertEquals(0.00085, c.betaStart());
    assertEquals(0.012, c.betaEnd());
    assertEquals(BetaSchedule.SCALED_LINEAR, c.betaSchedule());
    assertFalse(c.clipSample());
    assertFalse(c.setAlphaToOne());
    assertEquals(1, c.stepsOffset());
    assertEquals(TimestepSpacing.LEADING, c.timestepSpacing());
    assertEquals(Arrays.asList("_diffusers_version", "skip_prk_steps"), c.ignoredKeys());
    // and it drives a scheduler: leading + steps_offset=1, DDIM 50 steps -> 981 … 1
    DdimScheduler s = new DdimScheduler(c);
    s.setTimesteps(50);
    assertEquals(981, s.timesteps()[0]);
    assertEquals(1, s.timesteps()[49]);
    assertEquals(s.schedule().alphaCumprod(0), s.finalAlphaCumprod());
  }

  @Test
  void parsesAnEarlyDdpmConfigWithDefaultsForMissingKeys() {
    SchedulerConfig c = SchedulerConfig.fromJson(DDPM_JSON);
    assertEquals("DDPMScheduler", c.className());
    assertEquals(PredictionType.EPSILON, c.predictionType());
    assertEquals(TimestepSpacing.LEADING, c.timestepSpacing());
    assertEquals(VarianceType.FIXED_SMALL, c.varianceType());
    assertEquals(Arrays.asList("_diffusers_version"), c.ignoredKeys());
  }

  @Test
  void readsAFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("scheduler_config.json");
    Files.write(f, DDIM_JSON.getBytes(StandardCharsets.UTF_8));
    assertEquals(BetaSchedule.SCALED_LINEAR, SchedulerConfig.fromFile(f).betaSchedule());
    Files.write(f, "{\"beta_schedule\": \"cosine\"}".getBytes(StandardCharsets.UTF_8));
    UserException e = assertThrows(UserException.class, () -> SchedulerConfig.fromFile(f));
    assertTrue(e.getMessage().startsWith("scheduler_config.json: "), e.getMessage());
  }

  @Test
  void trainedBetasAreFloat32AndUsed() {
    double[] betas = {0.1, 0.2, 0.30000000000000004};
    SchedulerConfig c = SchedulerConfig.fromJson("{\"num_train_timesteps\": 3, \"trained_betas\": [0.1, 0.2, "
        + "0.30000000000000004], \"beta_schedule\": \"linear\"}");
    float[] f = c.trainedBetas();
    for (int i = 0; i < 3; i++) assertEquals((float) betas[i], f[i]);
    NoiseSchedule s = NoiseSchedule.of(c);
    assertEquals(0.1f, s.beta(0));
    assertEquals((float) ((double) (1f - 0.1f) * (1f - 0.2f)), s.alphaCumprod(1));
    // round trip keeps them
    assertArrayEquals(f, SchedulerConfig.fromJson(c.toJson()).trainedBetas());
  }

  @Test
  void fluentBuilderAndJsonRoundTrip() {
    SchedulerConfig c = new SchedulerConfig().className("DDIMScheduler").numTrainTimesteps(500).betaStart(0.0002)
        .betaEnd(0.03).betaSchedule("squaredcos_cap_v2").predictionType(PredictionType.V_PREDICTION)
        .clipSample(false).clipSampleRange(2.5).thresholding(true).dynamicThresholdingRatio(0.9).sampleMaxValue(3)
        .setAlphaToOne(false).stepsOffset(1).timestepSpacing("trailing").varianceType("fixed_large");
    String json = c.toJson();
    assertTrue(json.contains("\"num_train_timesteps\": 500"), json);
    assertTrue(json.contains("\"beta_schedule\": \"squaredcos_cap_v2\""), json);
    assertTrue(json.contains("\"prediction_type\": \"v_prediction\""), json);
    assertTrue(json.contains("\"trained_betas\": null"), json);
    assertTrue(json.contains("\"_class_name\": \"DDIMScheduler\""), json);
    SchedulerConfig back = SchedulerConfig.fromJson(json);
    assertEquals(json, back.toJson());
    assertEquals(TimestepSpacing.TRAILING, back.timestepSpacing());
    assertEquals(VarianceType.FIXED_LARGE, back.varianceType());
    assertEquals(2.5, back.clipSampleRange());
    assertEquals(3.0, back.sampleMaxValue());
    assertTrue(back.ignoredKeys().isEmpty());
    // every key is written
    for (String k : SchedulerConfig.keys()) assertTrue(json.contains("\"" + k + "\""), k);
  }

  @Test
  void badValuesNameKeyValueAndAllowedValues() {
    assertMessage("{\"beta_schedule\": \"cosine\"}", "beta_schedule", "\"cosine\"", "\"squaredcos_cap_v2\"");
    assertMessage("{\"prediction_type\": \"v\"}", "prediction_type", "\"v\"", "\"v_prediction\"");
    assertMessage("{\"timestep_spacing\": \"even\"}", "timestep_spacing", "\"even\"", "\"trailing\"");
    assertMessage("{\"variance_type\": \"learned_range\"}", "variance_type", "\"learned_range\"", "\"fixed_large\"");
    assertMessage("{\"beta_start\": -0.0001}", "beta_start", "-1.0E-4", "(0, 1)");
    assertMessage("{\"beta_end\": 1.5}", "beta_end", "1.5", "(0, 1)");
    assertMessage("{\"beta_start\": \"0.0001\"}", "beta_start", "\"0.0001\"", "JSON number");
    assertMessage("{\"clip_sample\": \"yes\"}", "clip_sample", "\"yes\"", "true or false");
    assertMessage("{\"num_train_timesteps\": 10.5}", "num_train_timesteps", "10.5", "integer");
    assertMessage("{\"num_train_timesteps\": 0}", "num_train_timesteps", "0", ">= 1");
    assertMessage("{\"steps_offset\": -1}", "steps_offset", "-1", ">= 0");
    assertMessage("{\"clip_sample_range\": 0}", "clip_sample_range", "0.0", "> 0");
    assertMessage("{\"dynamic_thresholding_ratio\": 1.5}", "dynamic_thresholding_ratio", "1.5", "(0, 1]");
    assertMessage("{\"sample_max_value\": -2}", "sample_max_value", "-2.0", "> 0");
    assertMessage("{\"trained_betas\": \"none\"}", "trained_betas", "\"none\"", "list of numbers");
    assertMessage("{\"num_train_timesteps\": 4, \"trained_betas\": [0.1, 0.2]}", "trained_betas", "2 values",
        "num_train_timesteps");
    assertMessage("{\"num_train_timesteps\": 2, \"trained_betas\": [0.1, 1.0]}", "trained_betas", "1.0", "(0, 1)");
    assertMessage("{\"rescale_betas_zero_snr\": true}", "rescale_betas_zero_snr", "true", "false");
    assertMessage("{\"beta_schedule\": null}", "beta_schedule", "null", "JSON string");
    assertMessage("[1, 2]", "JSON object");
    assertMessage("{\"beta_start\": ", "not valid JSON");
    // a schedule whose float32 alphas_cumprod hits 1 is refused with the keys named
    assertMessage("{\"beta_start\": 1e-9, \"beta_end\": 2e-9}", "beta_start=1.0E-9", "alphas_cumprod[0]");
  }

  @Test
  void settersValidateToo() {
    UserException e = assertThrows(UserException.class, () -> new SchedulerConfig().betaSchedule("sigmoid"));
    assertTrue(e.getMessage().contains("beta_schedule") && e.getMessage().contains("sigmoid")
        && e.getMessage().contains("\"linear\", \"scaled_linear\", \"squaredcos_cap_v2\""), e.getMessage());
    assertThrows(UserException.class, () -> new SchedulerConfig().betaStart(Double.NaN));
    assertThrows(UserException.class, () -> new SchedulerConfig().trainedBetas(new float[] {0.1f, -0.1f}));
  }

  private static void assertMessage(String json, String... parts) {
    UserException e = assertThrows(UserException.class, () -> SchedulerConfig.fromJson(json), json);
    for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing in: " + e.getMessage());
  }
}
