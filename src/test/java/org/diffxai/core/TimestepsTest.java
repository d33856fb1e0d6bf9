package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Timestep lists checked against numpy 2.x output of diffusers' set_timesteps expressions. */
class TimestepsTest {

  private static int[] ts(String spacing, int offset, int steps) {
    return Timesteps.of(new SchedulerConfig().timestepSpacing(spacing).stepsOffset(offset), steps);
  }

  @Test
  void leading() {
    assertArrayEquals(new int[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0}, ts("leading", 0, 10));
    assertArrayEquals(new int[] {901, 801, 701, 601, 501, 401, 301, 201, 101, 1}, ts("leading", 1, 10));
    assertArrayEquals(new int[] {666, 333, 0}, ts("leading", 0, 3)); // 1000 // 3 = 333
    int[] all = ts("leading", 0, 1000);
    for (int i = 0; i < 1000; i++) assertEquals(999 - i, all[i]);
  }

  @Test
  void trailingIgnoresStepsOffset() {
    assertArrayEquals(new int[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99}, ts("trailing", 0, 10));
    assertArrayEquals(ts("trailing", 0, 10), ts("trailing", 1, 10));
    assertArrayEquals(new int[] {999, 666, 332}, ts("trailing", 0, 3));
    assertArrayEquals(new int[] {999, 856, 713, 570, 428, 285, 142}, ts("trailing", 0, 7));
    assertArrayEquals(new int[] {999, 922, 845, 768, 691, 614, 537, 461, 384, 307, 230, 153, 76},
        ts("trailing", 0, 13));
  }

  @Test
  void trailingDropsNumpysSpuriousExtraTimestep() {
    // numpy's arange(1000, 0, -1000/61) has 62 values, the last rounding to timestep -1; diffusers would run it
    int[] t = ts("trailing", 0, 61);
    assertEquals(61, t.length);
    assertEquals(999, t[0]);
    assertEquals(15, t[60]); // numpy: ..., 48, 32, 15, -1
  }

  @Test
  void linspaceRoundsHalfToEvenAndIgnoresStepsOffset() {
    // np.linspace(0, 999, 7) = 0, 166.5, 333, 499.5, 666, 832.5, 999 -> 166.5 -> 166 and 832.5 -> 832 (half-even)
    assertArrayEquals(new int[] {999, 832, 666, 500, 333, 166, 0}, ts("linspace", 0, 7));
    assertArrayEquals(ts("linspace", 0, 7), ts("linspace", 1, 7));
    assertArrayEquals(new int[] {999, 500, 0}, ts("linspace", 0, 3));
    assertArrayEquals(new int[] {999, 916, 832, 749, 666, 583, 500, 416, 333, 250, 166, 83, 0}, ts("linspace", 0, 13));
    assertArrayEquals(new int[] {0}, ts("linspace", 0, 1));
  }

  @Test
  void oneStep() {
    assertArrayEquals(new int[] {0}, ts("leading", 0, 1));
    assertArrayEquals(new int[] {999}, ts("trailing", 0, 1));
  }

  @Test
  void stepsOutOfRangeAreUserErrors() {
    UserException e = assertThrows(UserException.class, () -> ts("leading", 0, 0));
    assertEquals("steps must be between 1 and 1000; got 0. Use e.g. steps=50.", e.getMessage());
    e = assertThrows(UserException.class, () -> ts("trailing", 0, 1001));
    assertEquals("steps must be between 1 and 1000; got 1001. Use e.g. steps=50.", e.getMessage());
    e = assertThrows(UserException.class, () -> Timesteps.of(new SchedulerConfig().numTrainTimesteps(20), 30));
    assertEquals("steps must be between 1 and 20; got 30. Use e.g. steps=20.", e.getMessage());
    DdimScheduler s = new DdimScheduler(new SchedulerConfig());
    assertThrows(UserException.class, () -> s.setTimesteps(-5));
  }

  @Test
  void stepsOffsetBeyondTheTrainedRangeIsAUserError() {
    UserException e = assertThrows(UserException.class, () -> ts("leading", 1, 1000));
    assertTrue(e.getMessage().contains("steps_offset=1") && e.getMessage().contains("timestep 1000")
        && e.getMessage().contains("steps=999"), e.getMessage());
    e = assertThrows(UserException.class, () -> ts("leading", 1000, 10));
    assertTrue(e.getMessage().contains("\"steps_offset\" is 1000"), e.getMessage());
  }
}
