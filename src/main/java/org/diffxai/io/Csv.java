package org.diffxai.io;

import ij.measure.ResultsTable;
import java.util.ArrayList;
import java.util.List;

/** Results tables as CSV files. */
public final class Csv {

  private Csv() {}

  /** The table as CSV (header row, comma-separated, '.' decimals). */
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

  private static String quote(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0) return s;
    return '"' + s.replace("\"", "\"\"") + '"';
  }
}
