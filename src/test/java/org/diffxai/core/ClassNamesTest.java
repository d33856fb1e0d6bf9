package org.diffxai.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClassNamesTest {
  static String message(String text) {
    return assertThrows(UserException.class, () -> ClassNames.index(List.of("a", "b", "c"), text, "m", "label"))
        .getMessage();
  }

  @Test
  void namesExactlyThenIgnoringCaseThenIndices() {
    List<String> abc = List.of("a", "b", "c");
    assertEquals(0, ClassNames.index(abc, "a", "m", "label"));
    assertEquals(2, ClassNames.index(abc, " c ", "m", "label"));
    assertEquals(1, ClassNames.index(abc, "B", "m", "label"));
    assertEquals(1, ClassNames.index(abc, "1", "m", "label"));
    assertEquals(0, ClassNames.index(List.of("1", "x"), "1", "m", "label"), "a name wins over an index");
    assertEquals(-1, ClassNames.target(abc, " ", "m"));
  }

  @Test
  void unknownClassesNameTheValidOnes() {
    assertEquals("label=tumour is not a class of model m. Use one of a, b, c (or its index 0 to 2).",
        message("tumour"));
    assertEquals("label=3 is not a class of model m. Use one of a, b, c (or its index 0 to 2).", message("3"));
    assertEquals("No class given. Use one of a, b, c (or its index 0 to 2).", message(""));
    assertEquals("target=x is not a class of model m. Use one of a, b, c (or its index 0 to 2), or leave target empty"
        + " to explain the predicted class.", assertThrows(UserException.class,
        () -> ClassNames.target(List.of("a", "b", "c"), "x", "m")).getMessage());
  }

  @Test
  void aModelWithoutClassNamesTakesNumbers() {
    assertEquals(3, ClassNames.index(List.of(), "3", "m", "label"));
    assertEquals("Model m names no classes, so label= must be a class number (0, 1, ...); got 'a'.",
        assertThrows(UserException.class, () -> ClassNames.index(List.of(), "a", "m", "label")).getMessage());
  }
}
