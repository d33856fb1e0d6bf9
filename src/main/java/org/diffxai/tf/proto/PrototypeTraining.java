package org.diffxai.tf.proto;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.diffxai.core.Calibration;
import org.diffxai.core.Confidence;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.ImageFolder;
import org.diffxai.tf.TrainingData;

/**
 * One training run on a loaded folder of labelled images (sub-folders = classes; the use case with its keys is
 * {@code run.TrainPrototypesRun}): map intensities (0.5/99.5 % percentiles to −1/+1, as for denoisers), hold out a seeded, stratified validation split, train
 * ({@link ProtoTrainer}), measure training and validation accuracy, and write the bundle ({@link ProtoBundleWriter}).
 */
public final class PrototypeTraining {
  private PrototypeTraining() {}

  /** What a run produced. */
  public static final class Result {
    public final Path bundle;
    public final double trainingAccuracy;
    public final double validationAccuracy;
    public final int trainingImages;
    public final int validationImages;
    public final double seconds;
    public final List<ProtoTrainer.Epoch> epochs;

    Result(Path bundle, double trainingAccuracy, double validationAccuracy, int trainingImages, int validationImages,
        double seconds, List<ProtoTrainer.Epoch> epochs) {
      this.bundle = bundle;
      this.trainingAccuracy = trainingAccuracy;
      this.validationAccuracy = validationAccuracy;
      this.trainingImages = trainingImages;
      this.validationImages = validationImages;
      this.seconds = seconds;
      this.epochs = epochs;
    }
  }

  /**
   * Trains on a loaded folder and writes the bundle's files into {@code dir} (an existing, empty directory; the caller
   * makes the result appear atomically, e.g. through {@code run.OutputFolder}).
   *
   * @param folder the labelled training images (classes = sub-folders)
   * @param foreground with background randomize or mask, the anatomy of training image i (folder index) at training
   *     size; null with background keep
   * @param net architecture; its size and class count are set from the folder
   * @param validation fraction of each class held out for validation, in [0, 0.9]
   */
  public static Result run(ImageFolder folder, IntFunction<boolean[]> foreground, ProtoConfig net,
      ProtoTrainingOptions options, double validation, Path dir, ProtoBundleWriter.Metadata meta, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    if (!(validation >= 0 && validation <= 0.9)) {
      throw new UserException("validation must be a fraction between 0 and 0.9, got " + validation + ".");
    }
    boolean masked = options.background() != ProtoTrainingOptions.Background.KEEP;
    if (masked && foreground == null) throw new IllegalArgumentException("background " + options.background()
        + " needs the foreground");
    int size = folder.size();
    IntensityMapping map = folder.percentileMapping(0.5, 99.5);
    List<float[]> model = folder.toModelSpace(map);
    int[] labels = folder.labels();
    List<String> classes = folder.classNames();
    boolean[] held = split(labels, classes, validation, options.seed());

    List<boolean[]> trainForeground = masked ? new ArrayList<>() : null;
    List<float[]> trainX = new ArrayList<>();
    List<float[]> trainOriginal = new ArrayList<>();
    List<String> trainNames = new ArrayList<>();
    List<float[]> valX = new ArrayList<>();
    List<float[]> valOriginal = new ArrayList<>();
    List<Integer> trainY = new ArrayList<>();
    List<Integer> valY = new ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      if (held[i]) {
        valX.add(model.get(i));
        valOriginal.add(folder.image(i));
        valY.add(labels[i]);
      } else {
        trainX.add(model.get(i));
        trainY.add(labels[i]);
        trainOriginal.add(folder.image(i));
        trainNames.add(folder.root().relativize(folder.files().get(i)).toString().replace('\\', '/'));
        if (masked) trainForeground.add(foreground.apply(i));
      }
    }
    TrainingData train = TrainingData.of(size, size, 1, trainX).withLabels(toArray(trainY), classes);
    ProtoConfig cfg = new ProtoConfig(net).size(size, size).channels(1).numClasses(classes.size()).validate();
    try (ProtoTrainer full = new ProtoTrainer(cfg, options)) {
      full.train(train, trainForeground, progress.sub(0.05, 0.97));
      ProtoTrainer trainer = full.withoutUnchosen(); // ProtoPool: without the pool prototypes no slot chose
      try {
        progress.report("Measuring accuracy", Double.NaN);
        double trainAcc = trainer.accuracy(train);
        double valAcc = Double.NaN;
        if (!valX.isEmpty()) {
          TrainingData val = TrainingData.of(size, size, 1, valX).withLabels(toArray(valY), classes);
          valAcc = trainer.accuracy(val);
          progress.report("Calibrating on the validation split", Double.NaN);
          meta.confidence(confidence(trainer, val, valOriginal, map));
        }
        meta.intensity(map).classNames(classes).trainingImages(trainNames, trainOriginal)
            .accuracy(trainAcc, valAcc, valX.size(), validation);
        if (meta.source.isEmpty()) meta.source(folder.root().toString());
        if (meta.input.isEmpty()) meta.input(folder.input().summary().toMap());
        Path bundle = ProtoBundleWriter.write(dir, trainer, meta, progress.sub(0.97, 1));
        return new Result(bundle, trainAcc, valAcc, trainX.size(), valX.size(), trainer.seconds(), trainer.epochs());
      } finally {
        if (trainer != full) trainer.close();
      }
    }
  }

  /**
   * Temperature scaling and the OOD thresholds fitted on the validation split ({@link Calibration}): the temperature
   * minimising the validation NLL, ECE before and after, and the largest validation value of each OOD statistic (the
   * out-of-range share against the clip range [−1, 1] the training images were mapped to).
   */
  static ProtoBundleWriter.Calibrated confidence(ProtoTrainer trainer, TrainingData validation, List<float[]> images,
      IntensityMapping map) {
    Calibration.Fit fit = Calibration.fit(trainer.logits(validation), validation.labels());
    float[][] md = trainer.minDistances(validation);
    ProtoConfig cfg = trainer.config();
    float[] w = trainer.weights().get("last_layer");
    int k = cfg.numClasses();
    int p = cfg.prototypes();
    float[][] last = new float[k][p];
    for (int c = 0; c < k; c++) System.arraycopy(w, c * p, last[c], 0, p);
    int[] classOf = new int[p];
    for (int j = 0; j < p; j++) classOf[j] = ProtoBundleWriter.prototypeClass(cfg, w, j);
    int[][] sets = Confidence.classPrototypes(classOf, last);
    double[] nearest = new double[md.length];
    double[] coverage = new double[md.length];
    for (int i = 0; i < md.length; i++) {
      nearest[i] = Confidence.nearestPart(md[i]);
      coverage[i] = Confidence.classCoverage(md[i], sets);
    }
    double[] range = new double[images.size()];
    for (int i = 0; i < range.length; i++) {
      float[] x = images.get(i);
      range[i] = Confidence.outOfRange(x, 0, x.length, map, -1, 1);
    }
    return new ProtoBundleWriter.Calibrated(fit, Calibration.oodThreshold(nearest), Calibration.oodThreshold(coverage),
        Calibration.oodThreshold(range));
  }

  /**
   * Seeded, stratified hold-out: in each class, round(fraction · n) images (at least one when the fraction is positive
   * and the class has two or more) go to validation; at least one image per class stays for training.
   */
  static boolean[] split(int[] labels, List<String> classes, double fraction, long seed) {
    boolean[] held = new boolean[labels.length];
    Random rnd = new Random(seed * 0x9E3779B97F4A7C15L + 3);
    for (int c = 0; c < classes.size(); c++) {
      List<Integer> idx = new ArrayList<>();
      for (int i = 0; i < labels.length; i++) {
        if (labels[i] == c) idx.add(i);
      }
      if (idx.isEmpty()) {
        throw new UserException("Class '" + classes.get(c) + "' has no images. Put images into every class folder.");
      }
      for (int i = idx.size() - 1; i > 0; i--) {
        int j = rnd.nextInt(i + 1);
        Integer tmp = idx.get(i);
        idx.set(i, idx.get(j));
        idx.set(j, tmp);
      }
      int k = (int) Math.round(fraction * idx.size());
      if (fraction > 0 && idx.size() >= 2) k = Math.max(1, k);
      k = Math.min(k, idx.size() - 1);
      for (int i = 0; i < k; i++) held[idx.get(i)] = true;
    }
    return held;
  }

  private static int[] toArray(List<Integer> l) {
    int[] a = new int[l.size()];
    for (int i = 0; i < a.length; i++) a[i] = l.get(i);
    return a;
  }
}
