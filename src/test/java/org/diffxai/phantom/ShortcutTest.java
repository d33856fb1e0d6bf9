package org.diffxai.phantom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.diffxai.core.UserException;
import org.junit.jupiter.api.Test;

class ShortcutTest {

  /** A planted slice differs from the plain slice exactly on its shortcut pixels, which hold the burn-in value. */
  @Test
  void plantsExactlyItsPixelsAndLeavesEverythingElse() {
    for (Shortcut.Kind kind : new Shortcut.Kind[] {Shortcut.Kind.MARK, Shortcut.Kind.TEXT}) {
      for (Shortcut.Corner corner : Shortcut.Corner.values()) {
        for (int size : new int[] {16, 64, 128}) {
          Shortcut s = new Shortcut(kind, true, 1.0, corner);
          PhantomGenerator g = new PhantomGenerator(size);
          Phantom plain = g.generate(3, 1, true);
          Phantom p = s.plant(plain, 3, 1);
          String at = kind + " " + corner + " " + size;
          int n = 0;
          for (int k = 0; k < size * size; k++) {
            if (p.shortcutPixels[k]) {
              n++;
              assertEquals(Shortcut.VALUE, p.pixels[k], 0f, at);
              assertEquals(Shortcut.VALUE, p.clean[k], 0f, at);
              assertEquals(Tissue.SHORTCUT.code(), p.tissue[k], at);
              // inside its box, in the named corner's quarter of the image
              int x = k % size, y = k / size;
              int[] b = p.shortcutBox;
              assertTrue(x >= b[0] && x < b[0] + b[2] && y >= b[1] && y < b[1] + b[3], at);
              boolean right = corner.key().endsWith("right"), bottom = corner.key().startsWith("bottom");
              assertEquals(right, x >= size / 2, at);
              assertEquals(bottom, y >= size / 2, at);
              // in the air around the head (the text may touch the scalp at the smallest sizes)
              if (kind == Shortcut.Kind.MARK) assertEquals(Tissue.BACKGROUND.code(), plain.tissue[k], at);
            } else {
              assertEquals(plain.pixels[k], p.pixels[k], 0f, at);
              assertEquals(plain.clean[k], p.clean[k], 0f, at);
              assertEquals(plain.tissue[k], p.tissue[k], at);
            }
          }
          int side = Math.max(2, Math.round(size / 16f));
          if (kind == Shortcut.Kind.MARK) assertEquals(side * side, n, at);
          else assertTrue(n > 0 && n < p.shortcutBox[2] * p.shortcutBox[3], at);
          assertArrayEquals(plain.lesionPixels, p.lesionPixels, at);
        }
      }
    }
  }

  /** Only the chosen class, on about the chosen share, decided per slice and reproducibly. */
  @Test
  void shareClassAndDeterminism() {
    Shortcut s = new Shortcut(Shortcut.Kind.MARK, true, 0.8, Shortcut.Corner.TOP_LEFT);
    int planted = 0;
    for (int i = 0; i < 400; i++) {
      boolean a = s.appliesTo(17, i, true);
      assertEquals(a, s.appliesTo(17, i, true));
      assertFalse(s.appliesTo(17, i, false), "never on the other class");
      planted += a ? 1 : 0;
    }
    // Binomial(400, 0.8): mean 320, sd 8; +-4 sd
    assertTrue(planted > 288 && planted < 352, planted + " of 400");
    assertTrue(new Shortcut(Shortcut.Kind.MARK, false, 1.0, Shortcut.Corner.TOP_LEFT).appliesTo(17, 0, false));
    assertFalse(new Shortcut(Shortcut.Kind.MARK, true, 0.0, Shortcut.Corner.TOP_LEFT).appliesTo(17, 0, true));
    Phantom plain = new PhantomGenerator(64).generate(17, 4, true);
    assertSame(plain, Shortcut.NONE.plant(plain, 17, 4));
    assertNull(Shortcut.NONE.plant(plain, 17, 4).shortcutBox);
    Shortcut text = new Shortcut(Shortcut.Kind.TEXT, true, 1.0, Shortcut.Corner.BOTTOM_RIGHT);
    assertArrayEquals(text.plant(plain, 17, 4).pixels, text.plant(plain, 17, 4).pixels, 0f);
    // other slices draw other offsets/digits
    boolean differs = false;
    for (int i = 0; i < 8 && !differs; i++) {
      differs = !java.util.Arrays.equals(text.plant(plain, 17, i).shortcutPixels, text.plant(plain, 17, 4)
          .shortcutPixels);
    }
    assertTrue(differs);
  }

  @Test
  void keysAreParsedWithClearMessages() {
    Shortcut s = Shortcut.parse("Text", "healthy", 0.5, "bottom-left");
    assertEquals(Shortcut.Kind.TEXT, s.kind);
    assertFalse(s.lesionClass);
    assertEquals(Shortcut.Corner.BOTTOM_LEFT, s.corner);
    assertEquals("shortcut=text shortcut_class=healthy shortcut_share=0.5 shortcut_corner=bottom-left", s.describe());
    assertEquals("", Shortcut.parse("none", "lesion", 0.8, "top-left").describe());
    assertTrue(assertThrows(UserException.class, () -> Shortcut.parse("logo", "lesion", 0.8, "top-left"))
        .getMessage().contains("shortcut=mark"));
    assertTrue(assertThrows(UserException.class, () -> Shortcut.parse("mark", "tumour", 0.8, "top-left"))
        .getMessage().contains("shortcut_class=lesion"));
    assertTrue(assertThrows(UserException.class, () -> Shortcut.parse("mark", "lesion", 1.5, "top-left"))
        .getMessage().contains("from 0 to 1"));
    assertTrue(assertThrows(UserException.class, () -> Shortcut.parse("mark", "lesion", 0.8, "middle"))
        .getMessage().contains("top-right"));
  }
}
