package org.diffxai.trajectory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.process.FloatProcessor;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.diffxai.core.KeptStep;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.core.Table;
import org.diffxai.io.ImagePlusPlanes;
import org.diffxai.io.Plots;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The profile on a trajectory built so that every number has a closed form: x̂₀ = a linear ramp (the final sample)
 * plus a constant offset d_k, x_t constant per sample and step, ε̂ = ±e_k.
 */
class TrajectoryProfileTest {
  static final int W = 16, H = 16, S = 2, K = 3;
  static final double[] D = {0.5, 0.1, 0};
  static final double RANGE = 0.1 * 15 + 0.05 * 15;

  @TempDir
  Path dir;

  static float ramp(int s, int x, int y) {
    return (float) (0.1 * x + 0.05 * y + s);
  }

  static Trajectory layout(List<String> kinds) {
    List<KeptStep> steps = new ArrayList<>();
    for (int k = 0; k < K; k++) steps.add(new KeptStep(k, 2 * k, 800 - 400 * k, (float) (0.2 + 0.3 * k)));
    return new Trajectory(W, H, kinds, 1, S, steps, Map.of("seed", "1"));
  }

  static ImagePlusPlanes planes(ImagePlus imp) {
    return new ImagePlusPlanes(imp, imp.getTitle());
  }

  static ImagePlus trajectory(List<String> kinds) {
    Trajectory tr = layout(kinds);
    float[][] planes = new float[tr.planeCount()][];
    for (int k = 0; k < K; k++) {
      for (int s = 0; s < S; s++) {
        float[] xt = new float[W * H], x0 = new float[W * H], eps = new float[W * H];
        for (int y = 0; y < H; y++) {
          for (int x = 0; x < W; x++) {
            int i = y * W + x;
            xt[i] = 10 * k + s;
            x0[i] = (float) (ramp(s, x, y) + D[k]);
            eps[i] = (i % 2 == 0 ? 1 : -1) * (1 + k);
          }
        }
        for (String kind : kinds) {
          float[] p = kind.equals(Trajectory.X_T) ? xt : kind.equals(Trajectory.X0_PRED) ? x0 : eps;
          planes[tr.planeIndex(tr.channel(kind, 0), s, k)] = p;
        }
      }
    }
    ImageStack st = new ImageStack(W, H);
    for (float[] p : planes) st.addSlice(new FloatProcessor(W, H, p));
    return TrajectoryTest.describe(tr, new ImagePlus("Trajectory", st));
  }

  static final List<String> ALL = List.of(Trajectory.X_T, Trajectory.X0_PRED, Trajectory.EPS_PRED);

  /** SSIM of ramp + d against the ramp: only the luminance term differs from 1, at the ramp's value (window centre). */
  static double ssimOfOffset(int s, double d) {
    double c1 = Math.pow(0.01 * RANGE, 2), sum = 0;
    int n = 0;
    for (int y = 5; y < H - 5; y++) {
      for (int x = 5; x < W - 5; x++) {
        double mu = ramp(s, x, y);
        sum += (2 * mu * (mu + d) + c1) / (mu * mu + (mu + d) * (mu + d) + c1);
        n++;
      }
    }
    return sum / n;
  }

  @Test
  void everyColumnMatchesItsClosedForm() {
    ImagePlus imp = trajectory(ALL);
    Table rt = TrajectoryProfile.compute(planes(imp), Trajectory.of(planes(imp)), 0, Progress.NONE);
    assertEquals(K, rt.size());
    for (int k = 0; k < K; k++) {
      assertEquals(2 * k + 1, rt.getValue("step", k), 0);
      assertEquals(800 - 400 * k, rt.getValue("t", k), 0);
      assertEquals((float) (0.2 + 0.3 * k), rt.getValue("alpha_cumprod", k), 0);
      assertEquals(Math.sqrt(1.0 - (float) (0.2 + 0.3 * k)), rt.getValue("sigma", k), 1e-12);
      assertEquals(10 * k + 0.5, rt.getValue("xt_mean", k), 1e-9);
      assertEquals(Math.sqrt(0.25 * 2 * W * H / (2 * W * H - 1)), rt.getValue("xt_sd", k), 1e-9);
      assertEquals(1 + k, rt.getValue("eps_abs_mean", k), 1e-12);
      double psnr = D[k] == 0 ? Double.POSITIVE_INFINITY : 20 * Math.log10(RANGE / D[k]);
      assertEquals(psnr, rt.getValue("x0_psnr", k), 1e-4, "row " + k);
      assertEquals((ssimOfOffset(0, D[k]) + ssimOfOffset(1, D[k])) / 2, rt.getValue("x0_ssim", k), 1e-5);
      double change = k == 0 ? Double.NaN : D[k - 1] - D[k];
      assertEquals(change, rt.getValue("x0_change", k), 1e-5);
    }
    assertEquals(1.0, rt.getValue("x0_ssim", K - 1), 0);
  }

  @Test
  void oneSampleAndMissingKinds() {
    ImagePlus imp = trajectory(List.of(Trajectory.X_T, Trajectory.X0_PRED));
    Table rt = TrajectoryProfile.compute(planes(imp), Trajectory.of(planes(imp)), 2, Progress.NONE);
    assertEquals(11, rt.getValue("xt_mean", 1), 1e-9);
    assertEquals(0, rt.getValue("xt_sd", 1), 1e-9);
    assertFalse(rt.columns().contains("eps_abs_mean"), "no eps_pred channel: no column");
    assertEquals(ssimOfOffset(1, D[0]), rt.getValue("x0_ssim", 0), 1e-5);
  }

  @Test
  void badSampleAndTrajectoriesWithoutX0AreRefused() {
    ImagePlus imp = trajectory(ALL);
    UserException e = assertThrows(UserException.class,
        () -> TrajectoryProfile.compute(planes(imp), Trajectory.of(planes(imp)), 3, Progress.NONE));
    assertTrue(e.getMessage().contains("sample=3 is out of range: the trajectory has 2 sample(s)"), e.getMessage());
    ImagePlus noX0 = trajectory(List.of(Trajectory.X_T, Trajectory.EPS_PRED));
    e = assertThrows(UserException.class,
        () -> TrajectoryProfile.compute(planes(noX0), Trajectory.of(planes(noX0)), 0, Progress.NONE));
    assertTrue(e.getMessage().contains("has no x0_pred channel"), e.getMessage());
  }

  @Test
  void plotIsWrittenAsPngWithItsCurves() throws Exception {
    ImagePlus imp = trajectory(ALL);
    Table rt = TrajectoryProfile.compute(planes(imp), Trajectory.of(planes(imp)), 0, Progress.NONE);
    Path png = dir.resolve("p.png");
    Plots.writePng(png, TrajectoryProfile.chart(rt, "profile"));
    BufferedImage img = ImageIO.read(png.toFile());
    assertTrue(img.getWidth() > 400 && img.getHeight() > 200, img.getWidth() + "x" + img.getHeight());
    int red = 0, blue = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y), r = rgb >> 16 & 255, g = rgb >> 8 & 255, b = rgb & 255;
        if (r > 150 && g < 90 && b < 90) red++;
        if (b > 150 && r < 60) blue++;
      }
    }
    assertTrue(red > 100 && blue > 100, "curves drawn: red " + red + ", blue " + blue);
  }
}
