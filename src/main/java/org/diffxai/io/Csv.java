package org.diffxai.io;

import ij.measure.ResultsTable;
import java.util.ArrayList;
import java.util.List;
import org.diffxai.core.Table;

/** Results tables as CSV files. */
public final class Csv {

  private Csv() {}

  /**
   * The table as CSV: a header row, comma-separated, '.' decimals; whole numbers without decimals, text quoted when it
   * holds a comma, quote or line break; NaN and Infinity as Java spells them.
   */
  public static String of(ResultsTable rt) {
    String[] headings = rt.getHeadings();
    StringBuilder sb = new StringBuilder();
    List<String> cols = new ArrayList<>();
    for (String hd : headings) {
      if (hd.equals(" ") || hd.isEmpty()) continue; // the row-number column
      cols.add(hd);
    }
    sb.append(String.join(",", cols)).append('\n');
    for (int row = 0; row < rt.size(); row++) {
      for (int j = 0; j < cols.size(); j++) {
        if (j > 0) sb.append(',');
        String col = cols.get(j);
        double v = rt.getValue(col, row);
        String s = rt.getStringValue(col, row);
        if (Double.isNaN(v) && s != null && !s.equals("NaN")) sb.append(quote(s));
        else if (v == Math.rint(v) && Math.abs(v) < 1e15) sb.append((long) v);
        else sb.append(Double.toString(v));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /**
   * The table as CSV, in the same format: a header row, comma-separated, '.' decimals; whole numbers without decimals,
   * text quoted when it holds a comma, quote or line break; NaN and Infinity as Java spells them; an empty cell for a
   * row without a value in a column.
   */
  public static String of(Table t) {
    StringBuilder sb = new StringBuilder(String.join(",", t.columns())).append('\n');
    for (int row = 0; row < t.size(); row++) {
      int j = 0;
      for (String col : t.columns()) {
        if (j++ > 0) sb.append(',');
        Object v = t.get(col, row);
        if (v instanceof String) sb.append(quote((String) v));
        else if (v instanceof Double) sb.append(number((Double) v));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static String number(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }

  /** A text cell, quoted when it holds a comma, quote or line break. */
  public static String quote(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) return s;
    return '"' + s.replace("\"", "\"\"") + '"';
  }

}
