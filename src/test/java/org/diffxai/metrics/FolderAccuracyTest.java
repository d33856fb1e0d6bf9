package org.diffxai.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;

class FolderAccuracyTest {
  static final List<String> MODEL = List.of("glioma", "healthy", "meningioma");

  /** Folder classes in another order and case, one model class missing from the folder. */
  @Test
  void accuracyPerClassAndConfusionMatrix() {
    List<String> folder = List.of("Healthy", "glioma"); // sorted sub-folder names
    int[] map = FolderAccuracy.matchClasses(folder, MODEL, "test/", "m");
    assertArrayEquals(new int[] {1, 0}, map);
    // 4 healthy images: predicted healthy, healthy, glioma, meningioma; 3 glioma: glioma, glioma, healthy.
    int[] labels = {0, 0, 0, 0, 1, 1, 1};
    int[] predicted = {1, 1, 0, 2, 0, 0, 1};
    FolderAccuracy a = FolderAccuracy.of(predicted, labels, map, MODEL);
    assertEquals(4.0 / 7, a.accuracy, 1e-12);
    assertEquals(2.0 / 3, a.perClass[0], 1e-12);
    assertEquals(0.5, a.perClass[1], 1e-12);
    assertTrue(Double.isNaN(a.perClass[2]));
    assertArrayEquals(new long[] {2, 1, 0}, a.confusion[0]);
    assertArrayEquals(new long[] {1, 2, 1}, a.confusion[1]);
    assertArrayEquals(new long[] {0, 0, 0}, a.confusion[2]);
    assertEquals("2,1,0;1,2,1;0,0,0", a.toMap().get("folder_confusion_rows_true_columns_predicted"));
    assertEquals("n/a (0 images)", a.toMap().get("folder_accuracy_meningioma"));
    assertTrue(a.describe().startsWith("accuracy 0.5714 (4 of 7 images)"), a.describe());
  }

  @Test
  void unknownFoldersAreNamed() {
    UserException e = assertThrows(UserException.class,
        () -> FolderAccuracy.matchClasses(List.of("glioma", "no_tumor", "pituitary"), MODEL, "/data/test", "m"));
    assertEquals("The class folders no_tumor, pituitary in /data/test are not classes of model m, whose classes are"
        + " glioma, healthy, meningioma. Name each sub-folder after the model's class of its images, or remove it.",
        e.getMessage());
  }
}
