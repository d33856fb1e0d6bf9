package org.diffxai.phantom;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

/**
 * The phantoms stay byte for byte what they were before the ground-truth masks, the mass-effect switch and the
 * shortcut were added: a SHA-256 over image, noise-free image, lesion fractions and labels of 66 slices (sizes 16 to
 * 256, both contrasts, both classes), recorded with the generator as it was (commit aa300ad).
 */
class PhantomBytesTest {

  @Test
  void existingSettingsGiveTheSameBytes() throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    for (int size : new int[] {16, 48, 64, 100, 256}) {
      for (Contrast c : Contrast.values()) {
        for (int i = 0; i < (size == 256 ? 1 : 4); i++) {
          for (boolean lesion : new boolean[] {false, true}) {
            if (size == 256 && c == Contrast.T2) continue;
            Phantom p = new PhantomGenerator(size, size, c).generate(11 + i, i, lesion);
            ByteBuffer b = ByteBuffer.allocate(p.pixels.length * 13);
            for (float v : p.pixels) b.putFloat(v);
            for (float v : p.clean) b.putFloat(v);
            for (float v : p.lesionMask) b.putFloat(v);
            b.put(p.tissue);
            md.update(b.array());
          }
        }
      }
    }
    StringBuilder hex = new StringBuilder();
    for (byte x : md.digest()) hex.append(String.format("%02x", x));
    assertEquals("d32522a5437b452804b235b431614e78983694370ba3d653f75c35734babe27a", hex.toString());
  }
}
