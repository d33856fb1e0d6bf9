package org.diffxai.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A results table as plain data: named columns in the order they first appear, rows of numbers or text. The run layer
 * returns tables; the Fiji layer shows them as ImageJ results tables and io writes them as CSV. The API follows
 * ImageJ's {@code ResultsTable} ({@code incrementCounter}, {@code addValue}) so code reads the same.
 */
public final class Table {
  private final List<String> columns = new ArrayList<>();
  private final List<Map<String, Object>> rows = new ArrayList<>();
  private final Map<String, Integer> decimals = new LinkedHashMap<>();

  /** Starts a new row; later {@code addValue} calls fill it. */
  public Table incrementCounter() {
    rows.add(new LinkedHashMap<>());
    return this;
  }

  /** Sets a number in the current row (NaN allowed: an undefined value). */
  public Table addValue(String column, double value) {
    return put(column, value);
  }

  /** Sets a text in the current row. */
  public Table addValue(String column, String value) {
    return put(column, value == null ? "" : value);
  }

  private Table put(String column, Object value) {
    if (rows.isEmpty()) throw new IllegalStateException("call incrementCounter() before addValue");
    if (!columns.contains(column)) columns.add(column);
    rows.get(rows.size() - 1).put(column, value);
    return this;
  }

  /** Decimal places to show for a numeric column (display only; files keep full precision). */
  public Table setDecimalPlaces(String column, int places) {
    decimals.put(column, places);
    return this;
  }

  /** The decimal places set for a column, or -1. */
  public int decimalPlaces(String column) {
    return decimals.getOrDefault(column, -1);
  }

  public int size() {
    return rows.size();
  }

  public List<String> columns() {
    return Collections.unmodifiableList(columns);
  }

  /** The cell: a Double, a String, or null when the row has no value in that column. */
  public Object get(String column, int row) {
    return rows.get(row).get(column);
  }

  /** The cell as a number (NaN for text or a missing value). */
  public double getValue(String column, int row) {
    Object v = get(column, row);
    return v instanceof Double ? (Double) v : Double.NaN;
  }

  /** The cell as text ("" when missing; numbers as Java prints them). */
  public String getString(String column, int row) {
    Object v = get(column, row);
    return v == null ? "" : v.toString();
  }

  /** True when the column holds text in some row. */
  public boolean isText(String column) {
    for (Map<String, Object> r : rows) {
      if (r.get(column) instanceof String) return true;
    }
    return false;
  }
}
