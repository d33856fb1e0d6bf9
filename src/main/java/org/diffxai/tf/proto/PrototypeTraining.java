package org.diffxai.tf.proto;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.diffxai.core.Calibration;
import org.diffxai.core.Confidence;
import org.diffxai.core.IntensityMapping;
import org.diffxai.core.Progress;
import org.diffxai.core.UserException;
import org.diffxai.io.ImageFolder;
import org.diffxai.tf.TrainingData;

/**
 * One training run end to end: load a folder of labelled images (sub-folders = classes), map intensities (0.5/99.5 %
 * percentiles to −1/+1, as for denoisers), hold out a seeded, stratified validation split, train
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
   * Trains on {@code images} and writes the bundle to {@code output} (which must not exist).
   *
   * @param net architecture; its size and class count are set from {@code size} and the folder
   * @param validation fraction of each class held out for validation, in [0, 0.9]
   */
  public static Result run(Path images, int size, ProtoConfig net, ProtoTrainingOptions options, double validation,
      Path output, ProtoBundleWriter.Metadata meta, Progress progress) {
    if (progress == null) progress = Progress.NONE;
    if (!(validation >= 0 && validation <= 0.9)) {
      throw new UserException("validation must be a fraction between 0 and 0.9, got " + validation + ".");
    }
    Path dest = output.toAbsolutePath().normalize();
    if (Files.exists(dest)) {
      throw new UserException("Output " + dest + " already exists. Choose a new output folder or delete the old one.");
    }
    ImageFolder folder = ImageFolder.load(images, size, true, progress.sub(0, 0.05));
    IntensityMapping map = folder.percentileMapping(0.5, 99.5);
    List<float[]> model = folder.toModelSpace(map);
    int[] labels = folder.labels();
    List<String> classes = folder.classNames();
    boolean[] held = split(labels, classes, validation, options.seed());

    List<float[]> trainX = new ArrayList<>();
    List<float[]> trainOriginal = new ArrayList<>();
    List<String> trainNames = new ArrayList<>();
    List<float[]> valX = new ArrayList<>();
    List<Integer> trainY = new ArrayList<>();
    List<Integer> valY = new ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      if (held[i]) {
        valX.add(model.get(i));
        valY.add(labels[i]);
      } else {
        trainX.add(model.get(i));
        trainY.add(labels[i]);
        trainOriginal.add(folder.image(i));
        trainNames.add(folder.root().relativize(folder.files().get(i)).toString().replace('\\', '/'));
      }
    }
    TrainingData train = TrainingData.of(size, size, 1, trainX).withLabels(toArray(trainY), classes);
    ProtoConfig cfg = new ProtoConfig(net).size(size, size).channels(1).numClasses(classes.size()).validate();
    try (ProtoTrainer trainer = new ProtoTrainer(cfg, options)) {
      trainer.train(train, progress.sub(0.05, 0.97));
      progress.report("Measuring accuracy", Double.NaN);
      double trainAcc = trainer.accuracy(train);
      double valAcc = Double.NaN;
      if (!valX.isEmpty()) {
        TrainingData val = TrainingData.of(size, size, 1, valX).withLabels(toArray(valY), classes);
        valAcc = trainer.accuracy(val);
        progress.report("Calibrating on the validation split", Double.NaN);
        meta.confidence(confidence(trainer, val));
      }
      meta.intensity(map).classNames(classes).trainingImages(trainNames, trainOriginal)
          .accuracy(trainAcc, valAcc, valX.size(), validation);
      if (meta.source.isEmpty()) meta.source(folder.root().toString());
      Path bundle = ProtoBundleWriter.write(dest, trainer, meta, progress.sub(0.97, 1));
      return new Result(bundle, trainAcc, valAcc, trainX.size(), valX.size(), trainer.seconds(), trainer.epochs());
    }
  }

  /**
   * Temperature scaling and the OOD threshold fitted on the validation split ({@link Calibration}): the temperature
   * minimising the validation NLL, ECE before and after, and the largest validation OOD statistic.
   */
  static ProtoBundleWriter.Calibrated confidence(ProtoTrainer trainer, TrainingData validation) {
    Calibration.Fit fit = Calibration.fit(trainer.logits(validation), validation.labels());
    float[][] md = trainer.minDistances(validation);
    double[] stat = new double[md.length];
    for (int i = 0; i < md.length; i++) stat[i] = Confidence.oodStatistic(md[i]);
    return new ProtoBundleWriter.Calibrated(fit, Calibration.oodThreshold(stat));
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
