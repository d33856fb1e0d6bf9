package org.diffxai.run;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.diffxai.core.Chart;
import org.diffxai.core.Table;

/**
 * What a run shows: images, tables and plots, in the order they should appear, each with the id of the script output
 * it fills. Plain data; the Fiji layer presents it ({@code fiji.Present}), headless front-ends ignore it (the files
 * are in the output folder).
 */
public final class Outputs {

  /** A table with its output id and window title. */
  public static final class NamedTable {
    public final String id;
    public final String title;
    public final Table table;

    NamedTable(String id, String title, Table table) {
      this.id = id;
      this.title = title;
      this.table = table;
    }
  }

  /** A plot with its output id. */
  public static final class NamedChart {
    public final String id;
    public final Chart chart;

    NamedChart(String id, Chart chart) {
      this.id = id;
      this.chart = chart;
    }
  }

  private final List<ResultImage> images = new ArrayList<>();
  private final List<NamedTable> tables = new ArrayList<>();
  private final List<NamedChart> charts = new ArrayList<>();
  private final List<String> log = new ArrayList<>();

  /** Adds an image (null is ignored). */
  public Outputs image(ResultImage image) {
    if (image != null) images.add(image);
    return this;
  }

  public Outputs table(String id, String title, Table table) {
    if (table != null) tables.add(new NamedTable(id, title, table));
    return this;
  }

  public Outputs chart(String id, Chart chart) {
    if (chart != null) charts.add(new NamedChart(id, chart));
    return this;
  }

  /** Adds text for the Log window (null is ignored). */
  public Outputs log(String text) {
    if (text != null) log.add(text);
    return this;
  }

  public List<ResultImage> images() {
    return Collections.unmodifiableList(images);
  }

  public List<NamedTable> tables() {
    return Collections.unmodifiableList(tables);
  }

  public List<NamedChart> charts() {
    return Collections.unmodifiableList(charts);
  }

  /** Text for the Log window, in order. */
  public List<String> log() {
    return Collections.unmodifiableList(log);
  }
}
