package org.diffxai.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ij.ImagePlus;
import ij.ImageStack;
import ij.measure.Calibration;
import ij.process.ByteProcessor;
import ij.process.ColorProcessor;
import ij.process.FloatProcessor;
import ij.process.ShortProcessor;
import org.diffxai.core.UserException;
import org.diffxai.io.Fit;
import org.diffxai.io.FloatStack;
import org.diffxai.io.ImagePlusPlanes;
import org.diffxai.io.InputImages;
import org.junit.jupiter.api.Test;

class ExplainInputTest {

  @Test
  void eightBitValuesAreKept() {
    ByteProcessor bp = new ByteProcessor(3, 2, new byte[] {0, 1, 2, (byte) 200, (byte) 254, (byte) 255});
    FloatStack s = ExplainInput.grayPlanes(new ImagePlusPlanes(new ImagePlus("b", bp), "b"), "b");
    assertArrayEquals(new float[] {0, 1, 2, 200, 254, 255}, s.plane(0));
  }

  /** Signed 16-bit images are stored unsigned with a calibration function; training reads them calibrated, so do we. */
  @Test
  void sixteenBitGoesThroughItsCalibration() {
    ShortProcessor sp = new ShortProcessor(2, 1, new short[] {(short) 32768, (short) 32773}, null);
    ImagePlus imp = new ImagePlus("s", sp);
    Calibration cal = new Calibration();
    cal.setFunction(Calibration.STRAIGHT_LINE, new double[] {-32768, 1}, "Gray Value");
    imp.setCalibration(cal);
    assertArrayEquals(new float[] {0, 5}, ExplainInput.grayPlanes(new ImagePlusPlanes(imp, "s"), "s").plane(0));
  }

  /** Colour is converted by (R + G + B) / 3 and counted, never refused (issue 12). */
  @Test
  void greyRgbIsGreyColourIsConvertedAndCounted() {
    ColorProcessor cp = new ColorProcessor(2, 2, new int[] {0x000000, 0x101010, 0x808080, 0xffffff});
    InputImages g = ExplainInput.read(new ImagePlusPlanes(new ImagePlus("g", cp), "g"), "g");
    assertArrayEquals(new float[] {0, 16, 128, 255}, g.stack().plane(0));
    assertEquals(1, g.summary().greyAsColour);
    assertEquals(0, g.summary().colour);
    ColorProcessor colour = new ColorProcessor(2, 2, new int[] {0x000000, 0x101010, 0x808081, 0xff0000});
    InputImages c = ExplainInput.read(new ImagePlusPlanes(new ImagePlus("c", colour), "c.png"), "c.png");
    assertArrayEquals(new float[] {0, 16, (128 + 128 + 129) / 3f, 85}, c.stack().plane(0));
    assertEquals(1, c.summary().colour);
    assertTrue(c.notes().get(0).conversions().get(0).startsWith("colour (RGB) converted to grey by (R + G + B) / 3"),
        c.notes().get(0).describe());
  }

  @Test
  void slicesAndFramesAreExplainedChannelsRejected() {
    ImageStack st = new ImageStack(2, 2);
    for (int i = 0; i < 6; i++) st.addSlice("s" + i, new FloatProcessor(2, 2, new float[] {i, i, i, i}));
    ImagePlus imp = new ImagePlus("h", st);
    imp.setDimensions(1, 2, 3);
    FloatStack s = ExplainInput.grayPlanes(new ImagePlusPlanes(imp, "h"), "h");
    assertEquals(6, s.planeCount());
    assertEquals("s4", s.label(4));
    assertEquals(4f, s.plane(4)[0]);
    imp.setDimensions(2, 3, 1);
    UserException e = assertThrows(UserException.class, () -> ExplainInput.grayPlanes(new ImagePlusPlanes(imp, "h"), "h"));
    assertEquals("The image h has 2 channels; one grey channel is needed. Keep one channel (Image > Color > Split"
        + " Channels, or Image > Duplicate... with one channel) and use that.", e.getMessage());
  }

  @Test
  void nonFiniteValuesAreRejected() {
    ImageStack st = new ImageStack(2, 2);
    st.addSlice(new FloatProcessor(2, 2, new float[] {0, 0, 0, 0}));
    st.addSlice(new FloatProcessor(2, 2, new float[] {0, 0, 0, Float.NaN}));
    UserException e = assertThrows(UserException.class,
        () -> ExplainInput.grayPlanes(new ImagePlusPlanes(new ImagePlus("n", st), "n.tif"), "n.tif"));
    assertEquals("The image n.tif, plane 2, has a NaN value at x=1, y=1. Replace non-finite values (Process > Math >"
        + " Remove NaNs...) first.", e.getMessage());
  }

  @Test
  void fitKeepsTheModelSizeAndResizesOthers() {
    float[] p = new float[16 * 16];
    assertSame(p, ExplainInput.fit(p, 16, 16, 16, 16, Fit.PAD));
    float[] big = new float[64 * 64];
    java.util.Arrays.fill(big, 7f);
    float[] small = ExplainInput.fit(big, 64, 64, 16, 16, Fit.DEFAULT);
    assertEquals(256, small.length);
    for (float v : small) assertEquals(7f, v, 1e-5f);
  }
}
