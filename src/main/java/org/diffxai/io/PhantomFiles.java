package org.diffxai.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.diffxai.phantom.Phantom;
import org.diffxai.phantom.PhantomSet;
import org.diffxai.phantom.Shortcut;
import org.diffxai.phantom.Tissue;

/**
 * Writes the slices of a {@link PhantomSet} as files: per slice {@code dir/<class>/phantom_0000.tif} (32-bit) and, with ground truth, its companions (see {@link MaskFiles})
 * {@code phantom_0000_mask.tif} (the lesion mask, {@link Phantom#lesionPixels}; empty for healthy slices),
 * {@code phantom_0000_labels.tif} (the {@link Tissue} code per pixel) and, when the set plants a shortcut,
 * {@code phantom_0000_shortcut.tif} (its pixels; empty for slices without it). Each file is written atomically, the
 * companions before the image, so an image is never without its masks.
 */
public final class PhantomFiles {

  private PhantomFiles() {}

  /**
   * Writes slice k (and its companions when {@code groundTruth}) into {@code dir/<class>/}.
   *
   * @return the files written, relative to {@code dir} ('/'-separated), companions first
   */
  public static List<String> write(Path dir, PhantomSet set, int k, Phantom p, boolean groundTruth) {
    Path file = dir.resolve(p.className()).resolve(set.fileName(k));
    List<String> written = new ArrayList<>();
    String info = set.describe() + "\nclass=" + p.className() + "\nindex=" + set.index(k);
    Map<String, String> props = new LinkedHashMap<>();
    props.put("phantom.class", p.className());
    props.put("phantom.index", String.valueOf(set.index(k)));
    props.put("phantom.seed", String.valueOf(set.seed));
    props.put("phantom.contrast", set.contrast.name());
    if (set.shortcut.kind != Shortcut.Kind.NONE) {
      boolean planted = p.shortcutBox != null;
      props.put("phantom.shortcut", planted ? set.shortcut.kind.key() : "none");
      if (planted) {
        int[] b = p.shortcutBox;
        props.put("phantom.shortcut_box", String.format(Locale.ROOT, "%d,%d,%d,%d", b[0], b[1], b[2], b[3]));
        props.put("phantom.shortcut_corner", set.shortcut.corner.key());
        info += "\nshortcut=" + set.shortcut.kind.key() + " at x,y,w,h=" + props.get("phantom.shortcut_box");
      }
    }
    if (groundTruth) {
      String of = "\nimage=" + file.getFileName();
      written.add(relative(dir, MaskFiles.companion(file, MaskFiles.Kind.LESION)));
      written.add(relative(dir, MaskFiles.companion(file, MaskFiles.Kind.LABELS)));
      MaskFiles.writeMask(MaskFiles.companion(file, MaskFiles.Kind.LESION), p.lesionPixels, p.width, p.height,
          info + of + "\nmask=lesion: 255 where the lesion's core, rim or oedema changed the noise-free image",
          withKind(props, "lesion"));
      MaskFiles.writeLabels(MaskFiles.companion(file, MaskFiles.Kind.LABELS), p.tissue, p.width, p.height,
          Tissue.values().length - 1, info + of + "\nlabels=" + Tissue.legend(), withKind(props, "labels"));
      if (set.shortcut.kind != Shortcut.Kind.NONE) {
        written.add(relative(dir, MaskFiles.companion(file, MaskFiles.Kind.SHORTCUT)));
        MaskFiles.writeMask(MaskFiles.companion(file, MaskFiles.Kind.SHORTCUT), p.shortcutPixels, p.width, p.height,
            info + of + "\nmask=shortcut: 255 where the planted shortcut replaced the image",
            withKind(props, "shortcut"));
      }
    }
    StreamingTiffWriter w = new StreamingTiffWriter(file, p.width, p.height, 1, 1, 1);
    boolean ok = false;
    try {
      w.displayRange(0, 1).info(info);
      for (Map.Entry<String, String> e : props.entrySet()) w.property(e.getKey(), e.getValue());
      w.writePlane(p.pixels, set.label(k));
      w.close();
      ok = true;
    } finally {
      if (!ok) w.abort();
    }
    written.add(relative(dir, file));
    return written;
  }

  private static String relative(Path dir, Path file) {
    return dir.relativize(file).toString().replace('\\', '/');
  }

  private static Map<String, String> withKind(Map<String, String> props, String kind) {
    Map<String, String> m = new LinkedHashMap<>(props);
    m.put("phantom.mask", kind);
    return m;
  }
}
