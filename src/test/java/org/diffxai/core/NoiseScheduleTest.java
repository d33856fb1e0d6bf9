package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The float32 schedule against formulas computed here in double: each beta within a couple of float ulps (torch's
 * float32 linspace rounds twice), alphas exactly 1 − beta in float, alphas_cumprod the double running product rounded
 * per element.
 */
class NoiseScheduleTest {

  @Test
  void linearMatchesLinspaceWithExactEndPoints() {
    NoiseSchedule s = NoiseSchedule.of(new SchedulerConfig());
    assertEquals(1000, s.size());
    assertEquals((float) 0.0001, s.beta(0)); // torch.linspace: both end points exact
    assertEquals((float) 0.02, s.beta(999));
    for (int i = 0; i < 1000; i++) {
      double ref = 0.0001 + (0.02 - 0.0001) * i / 999.0;
      assertUlps(ref, s.beta(i), 2, "beta " + i);
    }
  }

  @Test
  void scaledLinearIsLinspaceOfSqrtSquared() {
    NoiseSchedule s = NoiseSchedule.of(new SchedulerConfig().betaSchedule("scaled_linear").betaStart(0.00085)
        .betaEnd(0.012));
    double a = Math.sqrt(0.00085);
    double b = Math.sqrt(0.012);
    for (int i = 0; i < 1000; i++) {
      double r = a + (b - a) * i / 999.0;
      assertUlps(r * r, s.beta(i), 4, "beta " + i);
    }
  }

  @Test
  void cosineIsNicholDhariwalEq17CappedAt0999() {
    NoiseSchedule s = NoiseSchedule.of(new SchedulerConfig().betaSchedule("squaredcos_cap_v2"));
    int n = 1000;
    for (int i = 0; i < n; i++) {
      double f1 = Math.pow(Math.cos(((double) i / n + 0.008) / 1.008 * Math.PI / 2), 2);
      double f2 = Math.pow(Math.cos(((double) (i + 1) / n + 0.008) / 1.008 * Math.PI / 2), 2);
      double ref = Math.min(1 - f2 / f1, 0.999);
      assertUlps(ref, s.beta(i), 1, "beta " + i);
    }
    assertEquals(0.999f, s.beta(n - 1)); // the cap is hit at the end
  }

  @Test
  void alphasAndCumprodAreFloat32AsTorch() {
    for (String schedule : new String[] {"linear", "scaled_linear", "squaredcos_cap_v2"}) {
      NoiseSchedule s = NoiseSchedule.of(new SchedulerConfig().betaSchedule(schedule));
      double running = 1;
      double maxRelVsFloatProducts = 0;
      float floatRunning = 1f;
      for (int i = 0; i < s.size(); i++) {
        assertEquals(1f - s.beta(i), s.alpha(i));
        running *= s.alpha(i);
        assertEquals((float) running, s.alphaCumprod(i), schedule + " " + i);
        floatRunning *= s.alpha(i);
        maxRelVsFloatProducts = Math.max(maxRelVsFloatProducts,
            Math.abs(floatRunning - s.alphaCumprod(i)) / s.alphaCumprod(i));
        assertTrue(s.alphaCumprod(i) > 0 && s.alphaCumprod(i) < 1);
      }
      // a float32 running product (each partial product rounded) would differ only at the 1e-5 level
      assertTrue(maxRelVsFloatProducts < 1e-4, schedule + " " + maxRelVsFloatProducts);
    }
  }

  @Test
  void linspaceFloat32SmallCases() {
    assertEquals(1, NoiseSchedule.linspaceFloat32(0.5f, 2f, 1).length);
    assertEquals(0.5f, NoiseSchedule.linspaceFloat32(0.5f, 2f, 1)[0]);
    float[] v = NoiseSchedule.linspaceFloat32(0f, 1f, 5);
    assertEquals(0f, v[0]);
    assertEquals(0.25f, v[1]);
    assertEquals(0.5f, v[2]); // second half counts down from the end: 1 - 0.25*2
    assertEquals(0.75f, v[3]);
    assertEquals(1f, v[4]);
  }

  private static void assertUlps(double ref, float got, int ulps, String what) {
    float r = (float) ref;
    assertTrue(Math.abs(got - r) <= ulps * Math.ulp(r), what + ": " + got + " vs " + ref);
  }
}
