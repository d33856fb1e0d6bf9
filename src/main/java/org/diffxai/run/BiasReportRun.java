package org.diffxai.run;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.diffxai.attribution.AttributionSettings;
import org.diffxai.core.Denoiser;
import org.diffxai.core.DifferentiableClassifier;
import org.diffxai.core.Foreground;
import org.diffxai.core.InfoText;
import org.diffxai.core.PrototypeClassifier;
import org.diffxai.core.PrototypeInfo;
import org.diffxai.core.PrototypeMapKind;
import org.diffxai.core.Progress;
import org.diffxai.core.Table;
import org.diffxai.core.UserException;
import org.diffxai.explain.Explanation;
import org.diffxai.explain.ExplanationImages;
import org.diffxai.explain.PrototypeExplainer;
import org.diffxai.guidance.GuidedSampler;
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImageInput;
import org.diffxai.io.InputImages;
import org.diffxai.io.MaskFiles;
import org.diffxai.metrics.BiasReport;
import org.diffxai.model.LoadedModel;
import org.diffxai.model.Models;
import org.diffxai.phantom.Tissue;
import org.scijava.plugin.Parameter;

/**
 * Bias Report: does a prototype network's evidence lie outside the anatomy, and in one place (a shortcut such as a
 * burned-in mark in a corner)? For each image the network's explanation of its predicted class (the top prototypes'
 * attribution map and boxes, as Explain with Prototypes shows them) is measured against the anatomy (the masks when
 * given, else {@link Foreground} estimated from the image), each prototype's source patch against its source image's
 * anatomy, and {@link BiasReport#judge} gives the verdict. Outputs a table (one row per image), a composite stack of the
 * flagged images' evidence, the summary (Log and {@code bias_report.md}); with an output folder also
 * {@code bias_report.csv}, {@code bias_prototypes.csv}, {@code bias_evidence.tif} and {@code bias_report.json}.
 */
public final class BiasReportRun {
  public static final String COMMAND = "Bias Report";
  public static final String TABLE_FILE = "bias_report.csv";
  public static final String PROTOTYPES_FILE = "bias_prototypes.csv";
  public static final String EVIDENCE_FILE = "bias_evidence.tif";
  public static final String SUMMARY_FILE = "bias_report.md";
  public static final String PROVENANCE_FILE = "bias_report.json";
  public static final String SYNTHESIS_FILE = "bias_class_samples.csv";

  /** The keys of Bias Report. */
  public static class Request extends ModelKeys {
    @Parameter(style = "image", required = false, persist = false, description = "Images to check: a folder (with or"
        + " without class sub-folders), an image file or an open image; empty = the active image. Every slice counts.")
    public String image = "";

    @Parameter(style = "model:prototypes", persist = false,
        description = "Prototype network bundle folder, or 'sample-ppnet' for the bundled sample")
    public String model = "sample-ppnet";

    @Parameter(required = false, persist = false, description = "Anatomy masks (non-zero = anatomy) or tissue label"
        + " maps: 'auto' (the _labels.tif beside each image, as Generate Phantoms writes them; every tissue is anatomy,"
        + " background and a planted shortcut are not), a folder, or one file; empty = estimate the anatomy from each"
        + " image")
    public String masks = "";

    @Parameter(min = "1", persist = false, description = "Prototypes per image whose evidence is measured")
    public int top = 3;

    @Parameter(min = "1", persist = false, description = "Slices per model call")
    public int batch = 32;

    @Parameter(choices = {"pad", "crop", "stretch"}, persist = false, description = Fit.KEY_DESCRIPTION)
    public String fit = Fit.KEY_DEFAULT;

    @Parameter(choices = {"ig", "gradient", "smoothgrad", "upsample"}, persist = false,
        description = PrototypeMapKind.KEY_DESCRIPTION)
    public String map = PrototypeMapKind.KEY_DEFAULT;

    @Parameter(style = "model:denoiser", required = false, persist = false, description = "Denoiser for the"
        + " diffusion checks (a bundle folder or 'sample'): each slice is also turned into the other class with"
        + " Counterfactual's defaults and the share of the change outside the anatomy is measured; empty = none")
    public String denoiser = "";

    @Parameter(min = "0", persist = false, description = "Class-maximising images per class (Synthesize Explanation's"
        + " defaults, needs the denoiser): where guidance changes a sample, inside or outside its anatomy; 0 = none")
    public int class_samples = 0;
  }

  /** What a run produced. */
  public static final class Result {
    public final BiasReport.Verdict verdict;
    /** The model's name as the report calls it. */
    public final String model;
    public final List<BiasReport.ImageEvidence> images;
    public final Table table;
    public final Table prototypes;
    /** One row per class-maximising image; null without {@code class_samples}. */
    public final Table classSamples;
    /** The flagged images' evidence panels (image + map + box | prototype source), or null when none is flagged. */
    public final ResultImage evidence;
    /** The human-readable report (markdown). */
    public final String summary;
    /** Each slice's counterfactual, in slice order; null without {@code denoiser}. */
    public final List<Change> counterfactuals;
    /** The class-maximising images (target = their class), class by class; null without {@code class_samples}. */
    public final List<Change> synthesized;
    public final Map<String, String> provenance;
    public final List<Path> files;

    Result(BiasReport.Verdict verdict, String model, List<BiasReport.ImageEvidence> images, Table table, Table prototypes,
        Table classSamples, ResultImage evidence, String summary, List<Change> counterfactuals,
        List<Change> synthesized, Map<String, String> provenance, List<Path> files) {
      this.verdict = verdict;
      this.model = model;
      this.images = images;
      this.table = table;
      this.prototypes = prototypes;
      this.classSamples = classSamples;
      this.evidence = evidence;
      this.summary = summary;
      this.counterfactuals = counterfactuals;
      this.synthesized = synthesized;
      this.provenance = provenance;
      this.files = files;
    }

    public Outputs outputs() {
      Outputs o = new Outputs().log(COMMAND + ": " + verdict.summary(model));
      if (counterfactuals != null) o.log(COMMAND + ": " + changeSummary(counterfactuals));
      if (synthesized != null) o.log(COMMAND + ": " + synthesisSummary(synthesized));
      if (evidence != null) o.image(evidence);
      o.table("results", "Bias report", table).table("prototypes", "Bias report prototypes", prototypes);
      return classSamples == null ? o : o.table("class_samples", "Bias report class samples", classSamples);
    }
  }

  /**
   * The counterfactual of one slice towards the other class of its prediction (whether the network flipped), or a
   * class-maximising image of class {@code target} (whether the network calls it that class), and where the change
   * (|counterfactual − image|, or |guided − unguided sample|) lies against the anatomy.
   */
  public static final class Change {
    public final int target;
    public final boolean flipped;
    /** Share of the change outside the anatomy (NaN when nothing changed). */
    public final double outside;
    /** Change per pixel outside the anatomy over change per pixel inside ({@link BiasReport#density}). */
    public final double density;
    /** The region of the 3×3 grid holding most of the change outside the anatomy, and its share of all change. */
    public final BiasReport.Region region;
    public final double regionShare;
    /** The counterfactual or class-maximising image (model size, image units). */
    public final float[] image;

    Change(int target, boolean flipped, BiasReport.ImageEvidence e, float[] image) {
      this.target = target;
      this.flipped = flipped;
      this.outside = e.massOutside;
      this.density = e.density();
      this.region = e.where;
      this.regionShare = e.regionMass[e.where.ordinal()];
      this.image = image;
    }
  }

  private BiasReportRun() {}

  public static Result run(Request r, Env env) {
    RequestKeys.of(Request.class).validate(r);
    try (LoadedModel<PrototypeClassifier> m = Models.prototypes(r.model, r.deviceChoice(), r.batch, r.trust,
        env.progress)) {
      return run(r, m, env);
    }
  }

  /** Reports on an opened prototype network (the caller closes it); opens the counterfactuals' denoiser if asked. */
  public static Result run(Request r, LoadedModel<PrototypeClassifier> m, Env env) {
    RequestKeys.of(Request.class).validate(r);
    String key = r.denoiser == null ? "" : r.denoiser.trim();
    if (key.isEmpty() && r.class_samples > 0) {
      throw new UserException("class_samples=" + r.class_samples + " needs a denoiser to synthesize with: set"
          + " denoiser=sample (or a denoiser bundle folder), or class_samples=0.");
    }
    if (key.isEmpty()) return run(r, m, null, env);
    try (LoadedModel<Denoiser> d = Models.denoiser(key, r.deviceChoice(), null, r.trust, env.progress)) {
      return run(r, m, d, env);
    }
  }

  /** Reports on an opened prototype network with the counterfactuals' denoiser (null = none; the caller closes both). */
  public static Result run(Request r, LoadedModel<PrototypeClassifier> m, LoadedModel<Denoiser> d, Env env) {
    RequestKeys.of(Request.class).validate(r);
    PrototypeClassifier c = m.get();
    // the diffusion checks guide with the network's gradients: refused before anything runs
    DifferentiableClassifier guide = d == null ? null : GuidedModels.differentiable(c, m.name(),
        "Leave denoiser empty");
    Fit fit = Fit.of(r.fit);
    boolean folder = ImageKeys.isFolder(r.image);
    // Every image is brought to the model's size, so maps, boxes and masks share one grid.
    InputImages in = ImageKeys.read(env, "image", r.image, ImageInput.Settings.size(c.width(), c.height()).fit(fit)
        .channels(1), env.progress);
    String imageName = ImageKeys.name(env, "image", r.image, in);
    FloatStack image = in.stack();
    int w = image.width, h = image.height;
    try (OutputFolder out = OutputFolder.open(r, COMMAND, TABLE_FILE, PROTOTYPES_FILE, EVIDENCE_FILE, SUMMARY_FILE,
        PROVENANCE_FILE, SYNTHESIS_FILE)) {
      PrototypeMapKind kind = PrototypeMapKind.of(r.map);
      AttributionSettings settings = new AttributionSettings();
      List<Explanation> explanations = new PrototypeExplainer(c, m.name()).mapKind(kind, settings).explain(image,
          r.top, -1, r.batch, fit, imageName, env.progress);
      List<BiasReport.ImageEvidence> evidence = new ArrayList<>();
      List<String> anatomySource = new ArrayList<>();
      List<boolean[]> anatomies = new ArrayList<>();
      int fromMasks = 0;
      for (Explanation e : explanations) {
        env.progress.checkCancelled();
        Optional<boolean[]> given = mask(r.masks, folder ? Paths.get(r.image.trim()) : null, in, e.slice, w, h);
        boolean[] anatomy = given.orElseGet(() -> Foreground.estimate(image.plane(e.slice), w, h));
        fromMasks += given.isPresent() ? 1 : 0;
        anatomies.add(anatomy);
        anatomySource.add(given.isPresent() ? "mask" : "estimated");
        List<int[]> boxes = new ArrayList<>();
        for (Explanation.Contribution t : e.top) boxes.add(t.box);
        evidence.add(BiasReport.image(e.slice, image.label(e.slice), BiasReport.evidenceMap(e, w, h), boxes,
            anatomy, w, h, ablation(c, image.plane(e.slice), anatomy, e, w, h)));
      }
      List<BiasReport.SourceEvidence> sources = sources(c, m.gallery());
      BiasReport.Verdict verdict = BiasReport.judge(evidence, sources);
      List<String> classes = c.classNames();
      List<Change> changes = d == null ? null : counterfactuals(d, guide, image, explanations, anatomies, r.batch,
          env.progress);
      List<Change> synthesized = d == null || r.class_samples == 0 ? null : classSamples(r, d, guide, m, env);
      Table table = table(folder ? null : imageName, image, explanations, evidence, anatomySource, changes, classes);
      Table protoTable = prototypeTable(sources, classes);
      Map<String, String> prov = Provenance.of(COMMAND, r);
      prov.putAll(m.provenance());
      prov.putAll(in.summary().toStrings());
      prov.put("image", imageName);
      prov.put("slices", Integer.toString(image.planeCount()));
      prov.put("anatomy", fromMasks + " from masks, " + (explanations.size() - fromMasks)
          + " estimated from the image (core.Foreground)");
      prov.put("evidence", kind == PrototypeMapKind.UPSAMPLE ? "the top prototypes of the predicted class:"
          + " contribution x similarity map above its minimum, scaled to peak 1 (metrics.BiasReport.evidenceMap)"
          : "the top prototypes of the predicted class: sum of last-layer weight x " + kind.key() + " map of the"
          + " prototype's score (metrics.BiasReport.evidenceMap)");
      if (kind != PrototypeMapKind.UPSAMPLE) prov.putAll(settings.describe(c.height(), c.width()));
      prov.put("verdict", verdict.level.name().toLowerCase(Locale.ROOT));
      if (verdict.region != null) prov.put("region", verdict.region.text);
      if (d != null) {
        CounterfactualRun.Request cf = new CounterfactualRun.Request();
        prov.put("counterfactuals", "each slice towards the other class of its prediction with Counterfactual's"
            + " defaults (depth " + cf.depth + ", scale " + cf.scale + ", closeness " + cf.closeness + ", steps "
            + cf.steps + ", seed " + cf.seed + "; docs/guidance.md); change = |counterfactual - unguided"
            + " reconstruction| (same noise and steps, no guidance: what guidance changed); not part of the verdict");
        d.provenance().forEach((k, v) -> prov.put("denoiser." + k, v));
      }
      if (synthesized != null) {
        SynthesizeExplanationRun.Request se = new SynthesizeExplanationRun.Request();
        prov.put("class_samples", r.class_samples + " per class, Synthesize Explanation's defaults (scale " + se.scale
            + ", DDIM " + se.steps + " steps, seed " + se.seed + "); change = |guided - unguided| of the same seed, against the anatomy estimated from"
            + " the unguided sample (core.Foreground); not part of the verdict");
      }
      String summary = markdown(verdict, m.name(), imageName, evidence, changes, synthesized, prov.get("anatomy"));
      ResultImage panels = null;
      List<Explanation> flagged = new ArrayList<>();
      for (int i = 0; i < evidence.size(); i++) {
        BiasReport.ImageEvidence e = evidence.get(i);
        if (e.offAnatomy() && (verdict.level != BiasReport.Verdict.Level.FLAG || e.where == verdict.region)) {
          flagged.add(explanations.get(i));
        }
      }
      if (!flagged.isEmpty() && m.gallery() != null) {
        panels = ResultImage.ofRgb("bias_evidence", "Bias report evidence",
            ExplanationImages.overlays(image, flagged, m.gallery(), classes), Map.of("Info", InfoText.of(prov)));
      }
      if (out.active()) {
        out.csv(TABLE_FILE, table);
        out.csv(PROTOTYPES_FILE, protoTable);
        out.text(SUMMARY_FILE, summary);
        out.json(PROVENANCE_FILE, prov);
        if (panels != null) out.tiff(EVIDENCE_FILE, panels);
      }
      Table synthesisTable = synthesized == null ? null : synthesisTable(synthesized, classes);
      if (out.active() && synthesisTable != null) out.csv(SYNTHESIS_FILE, synthesisTable);
      return new Result(verdict, m.name(), evidence, table, protoTable, synthesisTable, panels, summary, changes,
          synthesized, prov, out.commit());
    }
  }

  /**
   * The background-ablation test of one image (model size): the margin of its predicted class on the image, with the
   * whole outside of the anatomy replaced by plain background, and with each region's outside replaced alone; one
   * model call of ten images.
   */
  private static BiasReport.Ablation ablation(PrototypeClassifier c, float[] plane, boolean[] anatomy, Explanation e,
      int w, int h) {
    BiasReport.Region[] regions = BiasReport.Region.values();
    int px = w * h;
    float[] x = new float[(regions.length + 1) * px];
    System.arraycopy(BiasReport.withoutBackground(plane, anatomy, null, w, h), 0, x, 0, px);
    for (BiasReport.Region r : regions) {
      System.arraycopy(BiasReport.withoutBackground(plane, anatomy, r, w, h), 0, x, (r.ordinal() + 1) * px, px);
    }
    float[][] logits = c.logits(x, regions.length + 1);
    double margin = BiasReport.margin(e.logits, e.predicted);
    double[] drop = new double[regions.length];
    for (BiasReport.Region r : regions) {
      drop[r.ordinal()] = margin - BiasReport.margin(logits[r.ordinal() + 1], e.predicted);
    }
    return new BiasReport.Ablation(margin, BiasReport.margin(logits[0], e.predicted), drop);
  }

  /** The anatomy mask of plane p from the masks key, or empty (none given, or no mask for this image). */
  private static Optional<boolean[]> mask(String masks, Path folder, InputImages in, int p, int w, int h) {
    if (masks == null || masks.trim().isEmpty() || masks.trim().equalsIgnoreCase("none")) return Optional.empty();
    InputImages.Note note = in.noteOfPlane(p);
    Path file = folder != null ? folder.resolve(note.source) : Paths.get(note.source);
    int first = p;
    while (first > 0 && in.noteOfPlane(first - 1) == note) first--;
    int index = p - first;
    Optional<Path> f = MaskFiles.find(file, masks, MaskFiles.Kind.LABELS);
    if (!f.isPresent() && masks.trim().equalsIgnoreCase("auto")) {
      return Optional.empty(); // no companion: the anatomy is estimated
    }
    if (!f.isPresent()) {
      throw new UserException("No anatomy mask for " + note.source + " in masks=" + masks.trim() + ". Give a mask "
          + "per image (same name, or name_labels.tif), masks=auto, or leave masks empty to estimate the anatomy.");
    }
    if (f.get().equals(MaskFiles.companion(file, MaskFiles.Kind.LABELS))) {
      // a tissue label map: its anatomy is every tissue code, not background and not a planted shortcut
      return Optional.of(MaskFiles.readLabelMask(f.get(), Tissue::isAnatomy, w, h));
    }
    return Optional.of(MaskFiles.read(f.get(), index, w, h));
  }

  /** Each prototype's push box against the anatomy estimated on its source image in the gallery. */
  private static List<BiasReport.SourceEvidence> sources(PrototypeClassifier c, FloatStack gallery) {
    List<BiasReport.SourceEvidence> out = new ArrayList<>();
    if (gallery == null) return out;
    Map<Integer, boolean[]> anatomy = new HashMap<>();
    for (int p = 0; p < c.prototypes(); p++) {
      PrototypeInfo info = c.prototype(p);
      if (info.galleryPlane < 0 || info.galleryPlane >= gallery.planeCount()) continue;
      boolean[] a = anatomy.computeIfAbsent(info.galleryPlane,
          g -> Foreground.estimate(gallery.plane(g), gallery.width, gallery.height));
      out.add(BiasReport.source(info, a, gallery.width, gallery.height));
    }
    return out;
  }

  static Table table(String imageName, FloatStack images, List<Explanation> explanations,
      List<BiasReport.ImageEvidence> evidence, List<String> anatomySource, List<Change> changes, List<String> classes) {
    Table t = new Table();
    for (int i = 0; i < evidence.size(); i++) {
      BiasReport.ImageEvidence e = evidence.get(i);
      Explanation x = explanations.get(i);
      t.incrementCounter();
      t.addValue("image", imageName != null ? imageName : images.label(e.slice));
      t.addValue("slice", e.slice + 1);
      t.addValue("predicted", classes.get(x.predicted));
      t.addValue("anatomy", anatomySource.get(i));
      t.addValue("anatomy_fraction", e.anatomyFraction);
      t.addValue("mass_outside", e.massOutside);
      t.addValue("density_outside", e.density());
      t.addValue("boxes_outside", e.boxesOutside);
      t.addValue("boxes_border", e.boxesBorder);
      t.addValue("margin", e.ablation.margin);
      t.addValue("margin_without_background", e.ablation.marginPlain);
      t.addValue("off_anatomy", e.offAnatomy() ? 1 : 0);
      t.addValue("region", e.where.text);
      t.addValue("region_drop", e.ablation.regionDrop[e.where.ordinal()]);
      t.addValue("region_mass", e.regionMass[e.where.ordinal()]);
      if (changes != null) {
        Change ch = changes.get(i);
        t.addValue("cf_target", classes.get(ch.target));
        t.addValue("cf_flipped", ch.flipped ? 1 : 0);
        t.addValue("cf_change_outside", ch.outside);
        t.addValue("cf_density_outside", ch.density);
        t.addValue("cf_region", ch.region.text);
        t.addValue("cf_region_share", ch.regionShare);
      }
    }
    for (String col : new String[] {"anatomy_fraction", "mass_outside", "density_outside", "boxes_outside", "boxes_border",
        "margin", "margin_without_background", "region_drop", "region_mass", "cf_change_outside",
        "cf_density_outside", "cf_region_share"}) {
      t.setDecimalPlaces(col, 4);
    }
    return t;
  }

  static Table prototypeTable(List<BiasReport.SourceEvidence> sources, List<String> classes) {
    Table t = new Table();
    for (BiasReport.SourceEvidence s : sources) {
      t.incrementCounter();
      t.addValue("prototype", s.prototype);
      t.addValue("class", classes.get(s.classIndex));
      t.addValue("source_outside", s.outside);
      t.addValue("source_border", s.border ? 1 : 0);
      t.addValue("background", s.onBackground() ? 1 : 0);
      t.addValue("region", s.region.text);
    }
    t.setDecimalPlaces("source_outside", 4);
    return t;
  }

  private static String markdown(BiasReport.Verdict v, String model, String images,
      List<BiasReport.ImageEvidence> evidence, List<Change> changes, List<Change> synthesized, String anatomy) {
    StringBuilder s = new StringBuilder();
    s.append("# Bias report\n\n");
    s.append("Model: ").append(model).append("  \nImages: ").append(images).append(" (").append(evidence.size())
        .append(" slices)  \nAnatomy: ").append(anatomy).append("\n\n");
    s.append(v.summary(model).replace("\n", "\n\n")).append("\n\n");
    if (changes != null) s.append(changeSummary(changes)).append("\n\n");
    if (synthesized != null) s.append(synthesisSummary(synthesized)).append("\n\n");
    s.append(String.format(Locale.ROOT, "Rules (metrics.BiasReport): an image's decision rests on the background when"
        + " it flips with everything outside the anatomy replaced by plain background (the median background value);"
        + " its place is the region of a 3x3 grid whose outside, replaced alone, lowers the decision's margin most. A"
        + " shortcut flag needs at least %.0f %% of the images (and %d) to flip, at least %.0f %% of them with the same"
        + " border region. The map columns (mass_outside, density_outside, boxes) describe the explanation and do not"
        + " enter the verdict.%n", 100 * BiasReport.MIN_SHARE, BiasReport.MIN_IMAGES, 100 * BiasReport.CONCENTRATION));
    return s.toString();
  }

  /**
   * The counterfactual of every explained slice towards the other class of its prediction
   * ({@link CounterfactualRun#counterfactuals} with Counterfactual's defaults), and where each changed the image.
   */
  private static List<Change> counterfactuals(LoadedModel<Denoiser> d, DifferentiableClassifier c, FloatStack image,
      List<Explanation> explanations, List<boolean[]> anatomies, int batch, Progress progress) {
    int[] explained = new int[explanations.size()];
    for (int i = 0; i < explained.length; i++) explained[i] = explanations.get(i).predicted;
    int[] target = CounterfactualRun.otherClasses(c, image, explained);
    CounterfactualRun.Request cf = new CounterfactualRun.Request();
    // the change guidance made: against the unguided reconstruction (same noise and steps), so the denoiser's own
    // reconstruction error, which no classifier asked for, drops out (docs/guidance.md)
    CounterfactualRun.Changes ch = CounterfactualRun.changes(d, c, image, target, cf.depth, cf.scale, cf.closeness,
        cf.steps, cf.seed, batch, true, progress);
    List<Change> out = new ArrayList<>(explained.length);
    for (int i = 0; i < explained.length; i++) {
      GuidedSampler.Trace t = ch.traces[i];
      out.add(change(target[i], t.flipStep >= 0, ch.maps[i], anatomies.get(i), t.image, image.width, image.height));
    }
    return out;
  }


  /** One paragraph on the counterfactuals: how many flipped and how much of their change lies outside the anatomy. */
  static String changeSummary(List<Change> changes) {
    int flipped = 0;
    for (Change c : changes) flipped += c.flipped ? 1 : 0;
    return String.format(Locale.ROOT, "Counterfactuals (each slice towards the other class): %d of %d flipped the"
        + " network; ", flipped, changes.size()) + placement(changes, "they");
  }

  /**
   * The class-maximising images: per class, Synthesize Explanation's unguided and guided samples of the same seeds
   * (its defaults), and where guidance changed each sample against the anatomy estimated from the unguided one.
   */
  private static List<Change> classSamples(Request r, LoadedModel<Denoiser> d, DifferentiableClassifier c,
      LoadedModel<PrototypeClassifier> m, Env env) {
    // not closed here: it is the caller's model seen as a classifier with gradients
    LoadedModel<DifferentiableClassifier> g = LoadedModel.of(c, m.name(), m.provenance())
        .withClassNames(m.classNames());
    int w = c.width(), h = c.height();
    List<Change> out = new ArrayList<>();
    for (int k = 0; k < c.classNames().size(); k++) {
      SynthesizeExplanationRun.Request se = new SynthesizeExplanationRun.Request();
      se.model = r.model;
      se.target = c.classNames().get(k);
      se.samples = r.class_samples;
      se.device = r.device;
      SynthesizeExplanationRun.Result res = SynthesizeExplanationRun.run(se, d, g, env);
      for (int i = 0; i < r.class_samples; i++) {
        float[] u = res.unguided.get(i).image, v = res.guided.get(i).image;
        float[] change = new float[w * h];
        for (int p = 0; p < change.length; p++) change[p] = Math.abs(v[p] - u[p]);
        boolean[] anatomy = Foreground.estimate(u, w, h);
        out.add(change(k, GuidedSampler.argmax(c.probabilities(v, 1)[0]) == k, change, anatomy, v, w, h));
      }
    }
    return out;
  }

  private static Change change(int target, boolean reached, float[] change, boolean[] anatomy, float[] image, int w,
      int h) {
    return new Change(target, reached, BiasReport.image(-1, null, change, List.of(), anatomy, w, h), image);
  }

  static Table synthesisTable(List<Change> synthesized, List<String> classes) {
    Table t = new Table();
    int[] index = new int[classes.size()];
    for (Change c : synthesized) {
      t.incrementCounter();
      t.addValue("class", classes.get(c.target));
      t.addValue("sample", ++index[c.target]);
      t.addValue("classified_as_class", c.flipped ? 1 : 0);
      t.addValue("change_outside", c.outside);
      t.addValue("density_outside", c.density);
      t.addValue("region", c.region.text);
      t.addValue("region_share", c.regionShare);
    }
    for (String col : new String[] {"change_outside", "density_outside", "region_share"}) t.setDecimalPlaces(col, 4);
    return t;
  }

  /** One paragraph on the class-maximising images: how much of what guidance changed lies outside the anatomy. */
  static String synthesisSummary(List<Change> synthesized) {
    return String.format(Locale.ROOT, "Class-maximising images (%d, guided towards each class): ", synthesized.size())
        + placement(synthesized, "guidance");
  }

  /** Where a set of changes lies against the anatomy: the mean share and density outside, and the commonest region. */
  private static String placement(List<Change> changes, String who) {
    return String.format(Locale.ROOT, "%s of what %s changed lies outside the anatomy (per pixel %s the change inside;"
        + " %d of them at least %.0f times); %s.", meanOutside(changes), who, meanDensity(changes), dense(changes),
        BiasReport.DENSITY, where(changes));
  }

  private static String meanOutside(List<Change> changes) {
    double sum = 0;
    int n = 0;
    for (Change c : changes) {
      if (!Double.isNaN(c.outside)) {
        sum += c.outside;
        n++;
      }
    }
    return n == 0 ? "none" : String.format(Locale.ROOT, "on average %.0f %%", 100 * sum / n);
  }

  private static String meanDensity(List<Change> changes) {
    double sum = 0;
    int n = 0;
    for (Change c : changes) {
      if (Double.isFinite(c.density)) {
        sum += c.density;
        n++;
      }
    }
    return n == 0 ? "undefined" : String.format(Locale.ROOT, "%.2f times", sum / n);
  }

  /** Where the outside change is largest most often: the region and in how many images. */
  private static String where(List<Change> changes) {
    int[] count = new int[BiasReport.Region.values().length];
    for (Change c : changes) if (!Double.isNaN(c.outside)) count[c.region.ordinal()]++;
    int best = 0;
    for (int r = 1; r < count.length; r++) if (count[r] > count[best]) best = r;
    return String.format(Locale.ROOT, "the change outside the anatomy is largest in the %s in %d of %d",
        BiasReport.Region.values()[best].text, count[best], changes.size());
  }

  private static int dense(List<Change> changes) {
    int k = 0;
    for (Change c : changes) k += c.density >= BiasReport.DENSITY ? 1 : 0;
    return k;
  }
}
