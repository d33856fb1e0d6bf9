package org.diffxai.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.explain.Explanation;

/**
 * The spurious-feature ("bias") report of a classifier on a set of images (issue 11, item 4; engine-free): where its
 * explanation puts the evidence relative to the anatomy, and whether evidence outside the anatomy concentrates in one
 * place — the signature of a shortcut such as a burned-in mark or text in a corner (Geirhos et al., "Shortcut learning
 * in deep neural networks", Nat. Mach. Intell. 2, 2020; Zech et al., PLOS Med. 15:e1002683, 2018; DeGrave et al.,
 * "AI for radiographic COVID-19 detection selects shortcuts over signal", Nat. Mach. Intell. 3, 2021, who found the
 * evidence of such networks at the image borders and on burned-in text).
 *
 * <p>Per image ({@link #image}): the share of the evidence map's ({@link #evidenceMap}) positive mass outside the anatomy
 * ({@link Localisation#positiveMassOutside}), that outside mass split over nine {@link Region}s (a 3×3 grid of the
 * image), and the share of the top-k prototype boxes mostly (more than {@link #BOX_OUTSIDE}) outside the anatomy or
 * touching the border. Per prototype ({@link #source}): whether the patch it was pushed onto lies mostly outside the
 * anatomy of its source image or touches that image's border. Per model ({@link #judge}): the verdict.
 *
 * <p>The verdict's rules and why (fixed in advance, not fitted to a data set):
 * <ul>
 *   <li>An image is <b>off-anatomy</b> when at least {@link #IMAGE_OUTSIDE} = ½ of its positive evidence lies outside
 *       the anatomy (most of what the explanation says the decision rests on is not tissue) <i>and</i> the evidence is
 *       at least {@link #DENSITY} = 2 times denser per pixel outside the anatomy than inside it. The second part
 *       keeps a flat map from counting: a map that says nothing about place puts the background's area fraction of
 *       its mass outside (half of a 32×32 phantom is air), which is no evidence of anything outside; twice the
 *       density is the smallest round factor that is not "about even" (the relevance-mass ratio of
 *       {@link Localisation.Result#relevanceMassRatio} reads maps against their area fraction the same way).
 *   <li>The model gets a <b>shortcut flag</b> when at least {@link #MIN_SHARE} = 10 % of the images (and at least
 *       {@link #MIN_IMAGES} = 2: one image is no pattern) are off-anatomy <i>and</i> at least {@link #CONCENTRATION} = ½
 *       of those put their largest outside mass in the same border region. Nine regions: evidence scattered over the
 *       background lands in any one of them about one time in eight (the eight border regions; the centre rarely holds
 *       background), so half is four times the scattered rate; a fixed artefact (a mark, text, a ruler, a hospital
 *       token) puts it in the same place every time. The flag names that region ("top-left corner").
 *   <li>Otherwise, when the off-anatomy images reach the same share but do not agree on a place, the model gets a
 *       <b>warning</b> (evidence outside the anatomy, scattered): the network reads background, but not one artefact.
 *   <li>Prototypes pushed onto background or the border are listed with their region as supporting evidence (a
 *       prototype whose source patch is the artefact is the shortcut's concept itself), not as a flag of their own:
 *       a prototype of "no lesion here" may legitimately match plain background.
 * </ul>
 * A 10 % share means a shortcut carried by ~20 % of one class of a balanced two-class set is still caught when the
 * network uses it; fewer images would need a lower share and more false alarms.
 */
public final class BiasReport {

  /** Share of an image's positive evidence outside the anatomy from which the image counts as off-anatomy. */
  public static final double IMAGE_OUTSIDE = 0.5;
  /** Evidence per pixel outside the anatomy over evidence per pixel inside, from which an image is off-anatomy. */
  public static final double DENSITY = 2;
  /** Share of images that must be off-anatomy for a flag or a warning. */
  public static final double MIN_SHARE = 0.10;
  /** Off-anatomy images needed at least, whatever the share. */
  public static final int MIN_IMAGES = 2;
  /** Share of the off-anatomy images that must agree on one border region for a shortcut flag. */
  public static final double CONCENTRATION = 0.5;
  /** A box (or a prototype's source patch) counts as outside when more than this share of its pixels is. */
  public static final double BOX_OUTSIDE = 0.5;

  /** The nine parts of a 3×3 grid over the image. */
  public enum Region {
    TOP_LEFT("top-left corner"), TOP("top edge"), TOP_RIGHT("top-right corner"),
    LEFT("left edge"), CENTRE("centre"), RIGHT("right edge"),
    BOTTOM_LEFT("bottom-left corner"), BOTTOM("bottom edge"), BOTTOM_RIGHT("bottom-right corner");

    /** How the report names it. */
    public final String text;

    Region(String text) {
      this.text = text;
    }

    /** The region of pixel (x, y) in a width×height image: column and row of the 3×3 grid. */
    public static Region of(double x, double y, int width, int height) {
      int col = Math.min(2, Math.max(0, (int) (3 * x / width)));
      int row = Math.min(2, Math.max(0, (int) (3 * y / height)));
      return values()[row * 3 + col];
    }
  }

  /** The evidence of one image. */
  public static final class ImageEvidence {
    public final int slice;
    public final String label;
    /** Share of the map's positive mass outside the anatomy (NaN for a map without positive values). */
    public final double massOutside;
    /** Per {@link Region} (ordinal): its share of the map's positive mass that lies outside the anatomy. */
    public final double[] regionMass;
    /** The region holding the most outside mass. */
    public final Region where;
    /** Share of the top-k boxes more than {@link #BOX_OUTSIDE} outside the anatomy. */
    public final double boxesOutside;
    /** Share of the top-k boxes touching the image border. */
    public final double boxesBorder;
    /** Share of the image's pixels that are anatomy (a sanity check of the mask). */
    public final double anatomyFraction;
    /** The background-ablation test ({@link #ablation}), or null when it was not run. */
    public final Ablation ablation;

    ImageEvidence(int slice, String label, double massOutside, double[] regionMass, Region where, double boxesOutside,
        double boxesBorder, double anatomyFraction, Ablation ablation) {
      this.slice = slice;
      this.label = label;
      this.massOutside = massOutside;
      this.regionMass = regionMass;
      this.where = ablation != null ? ablation.where : where;
      this.boxesOutside = boxesOutside;
      this.boxesBorder = boxesBorder;
      this.anatomyFraction = anatomyFraction;
      this.ablation = ablation;
    }

    /**
     * Evidence per pixel outside the anatomy over evidence per pixel inside (1 for a flat map; infinite when all of it
     * is outside; NaN without evidence or when the mask is all anatomy or all background).
     */
    public double density() {
      return BiasReport.density(massOutside, anatomyFraction);
    }

    /**
     * Whether the decision rests on what lies outside the anatomy: with the background-ablation test, whether the
     * decision flips when the outside is replaced by plain background ({@link Ablation#flips}); without it, whether at
     * least {@link #IMAGE_OUTSIDE} of the map's evidence lies outside the anatomy, at least {@link #DENSITY} times
     * denser there than inside.
     */
    public boolean offAnatomy() {
      if (ablation != null) return ablation.flips();
      return mapOffAnatomy();
    }

    /** The map's rule alone: at least {@link #IMAGE_OUTSIDE} outside, at least {@link #DENSITY} times denser. */
    public boolean mapOffAnatomy() {
      return massOutside >= IMAGE_OUTSIDE && density() >= DENSITY;
    }
  }

  /**
   * The background-ablation test of one image: the decision's margin (logit of the predicted class minus the largest
   * other logit) on the image, with every pixel outside the anatomy replaced by plain background
   * ({@link #withoutBackground}), and with the outside replaced in one {@link Region} at a time.
   */
  public static final class Ablation {
    /** Margin of the predicted class on the image (≥ 0). */
    public final double margin;
    /** Margin of the same class with the whole outside replaced (negative: the decision flips). */
    public final double marginPlain;
    /** Per {@link Region} (ordinal): margin on the image minus margin with that region's outside replaced. */
    public final double[] regionDrop;
    /** The region whose outside, replaced alone, lowers the margin most. */
    public final Region where;

    public Ablation(double margin, double marginPlain, double[] regionDrop) {
      if (regionDrop.length != Region.values().length) throw new IllegalArgumentException("one drop per region");
      this.margin = margin;
      this.marginPlain = marginPlain;
      this.regionDrop = regionDrop.clone();
      Region w = Region.CENTRE;
      for (Region r : Region.values()) if (regionDrop[r.ordinal()] > regionDrop[w.ordinal()]) w = r;
      this.where = w;
    }

    /** Whether the decision flips (the predicted class is no longer the first) without the outside. */
    public boolean flips() {
      return marginPlain < 0;
    }
  }

  /**
   * The image with the pixels outside the anatomy (in {@code region} only, or everywhere when null) replaced by the
   * median of the image's pixels outside the anatomy: the plain background the image already has (air in an MRI slice),
   * so nothing new is drawn in, and whatever stands out of it there — a mark, text, a ruler, noise — is gone. This is
   * the background-removal probe of Xiao et al. ("Noise or Signal: The Role of Image Backgrounds in Object
   * Recognition", ICLR 2021: "Only-FG" images keep the object and blank the background) restricted to one place at a
   * time to say where the evidence lies. An image without background pixels is returned unchanged.
   */
  public static float[] withoutBackground(float[] image, boolean[] anatomy, Region region, int width, int height) {
    float[] out = image.clone();
    int n = 0;
    float[] bg = new float[image.length];
    for (int i = 0; i < image.length; i++) if (!anatomy[i]) bg[n++] = image[i];
    if (n == 0) return out;
    float[] sorted = java.util.Arrays.copyOf(bg, n);
    java.util.Arrays.sort(sorted);
    float fill = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    for (int i = 0; i < image.length; i++) {
      if (anatomy[i]) continue;
      if (region != null && Region.of(i % width + 0.5, i / width + 0.5, width, height) != region) continue;
      out[i] = fill;
    }
    return out;
  }

  /** The margin of class {@code c}: its logit minus the largest other logit. */
  public static double margin(float[] logits, int c) {
    double other = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < logits.length; k++) if (k != c) other = Math.max(other, logits[k]);
    return logits.length < 2 ? Double.NaN : logits[c] - other;
  }

  /** Where one prototype's source patch lies. */
  public static final class SourceEvidence {
    public final int prototype;
    public final int classIndex;
    /** Share of the push box's pixels outside the source image's anatomy. */
    public final double outside;
    /** Whether the push box touches the source image's border. */
    public final boolean border;
    /** Region of the push box's centre. */
    public final Region region;

    SourceEvidence(int prototype, int classIndex, double outside, boolean border, Region region) {
      this.prototype = prototype;
      this.classIndex = classIndex;
      this.outside = outside;
      this.border = border;
      this.region = region;
    }

    /** Mostly outside the anatomy. */
    public boolean onBackground() {
      return outside > BOX_OUTSIDE;
    }
  }

  /** The model's verdict. */
  public static final class Verdict {
    public enum Level {
      NONE, WARNING, FLAG
    }

    public final Level level;
    /** The region the off-anatomy evidence agrees on (a flag), else the most frequent one, or null. */
    public final Region region;
    public final int images;
    public final int offAnatomy;
    /** Off-anatomy images whose largest outside mass lies in {@link #region}. */
    public final int inRegion;
    public final double meanMassOutside;
    public final double meanBoxesOutside;
    public final double meanBoxesBorder;
    public final List<SourceEvidence> sources;

    Verdict(Level level, Region region, int images, int offAnatomy, int inRegion, double meanMassOutside,
        double meanBoxesOutside, double meanBoxesBorder, List<SourceEvidence> sources) {
      this.level = level;
      this.region = region;
      this.images = images;
      this.offAnatomy = offAnatomy;
      this.inRegion = inRegion;
      this.meanMassOutside = meanMassOutside;
      this.meanBoxesOutside = meanBoxesOutside;
      this.meanBoxesBorder = meanBoxesBorder;
      this.sources = Collections.unmodifiableList(sources);
    }

    public boolean flagged() {
      return level == Level.FLAG;
    }

    /** A few plain sentences for the Log and bias_report.md. */
    public String summary(String model) {
      StringBuilder s = new StringBuilder();
      if (level == Level.FLAG) {
        s.append(String.format(Locale.ROOT, "SHORTCUT SUSPECTED: %s rests its decision on what lies outside the "
            + "anatomy in %d of %d images, and %d of those on the %s. Look at the flagged images: something in the %s "
            + "(a mark, text, a ruler, a frame) is what the network reads. To take it away, retrain with Train "
            + "Prototype Network's background=mask (measured to remove such a flag; docs/bias-report.md) and run this "
            + "report again on the new network.", model, offAnatomy, images, inRegion, region.text, region.text));
      } else if (level == Level.WARNING) {
        s.append(String.format(Locale.ROOT, "WARNING: %s rests its decision on what lies outside the anatomy in %d of "
            + "%d images, scattered (at most %d in one region, the %s): it reads background, not one artefact.", model,
            offAnatomy, images, inRegion, region.text));
      } else {
        s.append(String.format(Locale.ROOT, "No shortcut flag: %s rests its decision on what lies outside the anatomy "
            + "in %d of %d images (a flag needs %s %% and %d of them in one region).", model, offAnatomy, images,
            pct(MIN_SHARE), MIN_IMAGES));
      }
      s.append(String.format(Locale.ROOT, "%nMean share of the evidence outside the anatomy %s %%; top boxes mostly "
          + "outside the anatomy %s %%, touching the border %s %%.", pct(meanMassOutside), pct(meanBoxesOutside),
          pct(meanBoxesBorder)));
      List<String> bg = new ArrayList<>();
      for (SourceEvidence e : sources) {
        if (e.onBackground() || e.border) {
          bg.add(String.format(Locale.ROOT, "%d (%s%s, %s)", e.prototype, e.onBackground() ? "background" : "",
              e.onBackground() && e.border ? " and border" : e.border ? "border" : "", e.region.text));
        }
      }
      if (!bg.isEmpty()) {
        s.append(String.format(Locale.ROOT, "%nPrototypes pushed onto background or the border of their source image:"
            + " %s.", String.join(", ", bg)));
      }
      return s.toString();
    }
  }

  private BiasReport() {}

  /**
   * Per pixel outside the anatomy over per pixel inside, of a map whose share {@code massOutside} lies outside an
   * anatomy covering {@code anatomyFraction} of the image (1 for a flat map; infinite when all of it is outside; NaN
   * without mass or when the anatomy is all or nothing).
   */
  public static double density(double massOutside, double anatomyFraction) {
    if (!(anatomyFraction > 0 && anatomyFraction < 1) || Double.isNaN(massOutside)) return Double.NaN;
    return massOutside / (1 - anatomyFraction) / ((1 - massOutside) / anatomyFraction);
  }

  /**
   * The evidence map of an explanation, by its {@link Explanation#mapKind}.
   *
   * <p>Gradient kinds (Integrated Gradients, gradient, SmoothGrad; {@link PrototypeMapKind}): the sum
   * over the top prototypes of their last-layer weight times their pixel map, {@code E(x) = Σ_p w_p · m_p(x)}. For
   * Integrated Gradients this is the Integrated Gradients map of the top prototypes' part of the class logit,
   * {@code Σ_p w_p · score_p}, by linearity: by its completeness (Sundararajan et al. 2017) the map sums to how much
   * that part changes between the baseline and the image, so a prototype whose score does not depend on what the
   * image shows (e.g. one that matches plain background in every image) adds nearly nothing, whatever its
   * contribution. Pixel maps are not rescaled: each keeps the units of the logit.
   *
   * <p>{@link PrototypeMapKind#UPSAMPLE}: the sum over its prototypes of contribution × the similarity
   * map's part above its own minimum, scaled to peak 1, {@code E(x) = Σ_p c_p · (m_p(x) − min m_p) / (max m_p − min
   * m_p)}. Unlike {@link PrototypeAttribution} (which scales m_p without removing its floor, right for perturbation
   * metrics), it drops the part of a similarity map that is the same everywhere: ProtoPNet's similarity
   * log((d+1)/(d+ε)) is positive at every position, and that floor says nothing about where the evidence is; left in,
   * it spreads mass evenly and a flat map would put the background's area share of its mass "outside". Flat maps add
   * nothing.
   */
  public static float[] evidenceMap(Explanation e, int width, int height) {
    double[] sum = new double[width * height];
    boolean upsample = e.mapKind == PrototypeMapKind.UPSAMPLE;
    for (Explanation.Contribution c : e.top) {
      if (!upsample) {
        for (int i = 0; i < sum.length; i++) sum[i] += c.weight * c.map[i];
        continue;
      }
      float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
      for (float v : c.map) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      if (!(max > min)) continue;
      double f = c.contribution / (max - min);
      for (int i = 0; i < sum.length; i++) sum[i] += f * (c.map[i] - min);
    }
    float[] out = new float[sum.length];
    for (int i = 0; i < out.length; i++) out[i] = (float) sum[i];
    return out;
  }

  /**
   * The evidence of one image.
   *
   * @param map the explanation map (its positive part is the evidence), width×height row-major
   * @param boxes the top-k boxes {x, y, w, h} in image pixels (may be empty)
   * @param anatomy true = anatomy (foreground), same size
   */
  public static ImageEvidence image(int slice, String label, float[] map, List<int[]> boxes, boolean[] anatomy,
      int width, int height) {
    return image(slice, label, map, boxes, anatomy, width, height, null);
  }

  /** {@link #image(int, String, float[], List, boolean[], int, int)} with the background-ablation test's result. */
  public static ImageEvidence image(int slice, String label, float[] map, List<int[]> boxes, boolean[] anatomy,
      int width, int height, Ablation ablation) {
    double massOutside = Localisation.positiveMassOutside(map, anatomy, width, height);
    double all = 0;
    double[] region = new double[Region.values().length];
    int inside = 0;
    for (int i = 0; i < map.length; i++) {
      double v = Math.max(0, map[i]);
      all += v;
      if (anatomy[i]) inside++;
      else region[Region.of(i % width + 0.5, i / width + 0.5, width, height).ordinal()] += v;
    }
    Region where = Region.CENTRE;
    for (Region r : Region.values()) {
      if (all > 0) region[r.ordinal()] /= all;
      if (region[r.ordinal()] > region[where.ordinal()]) where = r;
    }
    double outside = 0, border = 0;
    for (int[] b : boxes) {
      outside += Localisation.boxOutsideFraction(b, anatomy, width, height) > BOX_OUTSIDE ? 1 : 0;
      border += Localisation.touchesBorder(b, width, height) ? 1 : 0;
    }
    int k = Math.max(1, boxes.size());
    return new ImageEvidence(slice, label, massOutside, region, where, outside / k, border / k,
        inside / (double) map.length, ablation);
  }

  /**
   * Where a prototype's source patch lies: its push box ({@link PrototypeInfo#activationBox}) against the anatomy of
   * the source image (sourceWidth×sourceHeight, the box's pixels).
   */
  public static SourceEvidence source(PrototypeInfo info, boolean[] sourceAnatomy, int sourceWidth, int sourceHeight) {
    int[] b = info.activationBox;
    return new SourceEvidence(info.index, info.classIndex,
        Localisation.boxOutsideFraction(b, sourceAnatomy, sourceWidth, sourceHeight),
        Localisation.touchesBorder(b, sourceWidth, sourceHeight),
        Region.of(b[0] + b[2] / 2.0, b[1] + b[3] / 2.0, sourceWidth, sourceHeight));
  }

  /** The verdict over all images (rules in the class comment). */
  public static Verdict judge(List<ImageEvidence> images, List<SourceEvidence> sources) {
    int n = images.size();
    int[] count = new int[Region.values().length];
    int off = 0;
    double mass = 0, boxes = 0, border = 0;
    int finite = 0;
    for (ImageEvidence e : images) {
      if (!Double.isNaN(e.massOutside)) {
        mass += e.massOutside;
        finite++;
      }
      boxes += e.boxesOutside;
      border += e.boxesBorder;
      if (e.offAnatomy()) {
        off++;
        count[e.where.ordinal()]++;
      }
    }
    Region top = null;
    for (Region r : Region.values()) {
      if (r != Region.CENTRE && count[r.ordinal()] > 0 && (top == null || count[r.ordinal()] > count[top.ordinal()])) {
        top = r;
      }
    }
    if (top == null && count[Region.CENTRE.ordinal()] > 0) top = Region.CENTRE;
    int inRegion = top == null ? 0 : count[top.ordinal()];
    Verdict.Level level = Verdict.Level.NONE;
    if (n > 0 && off >= MIN_IMAGES && off >= MIN_SHARE * n) {
      level = top != Region.CENTRE && inRegion >= CONCENTRATION * off ? Verdict.Level.FLAG : Verdict.Level.WARNING;
    }
    return new Verdict(level, top, n, off, inRegion, finite == 0 ? Double.NaN : mass / finite,
        n == 0 ? Double.NaN : boxes / n, n == 0 ? Double.NaN : border / n, sources);
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.0f", 100 * v);
  }
}
