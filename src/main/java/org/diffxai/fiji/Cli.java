package org.diffxai.fiji;

public final class Cli {
  public static void main(String[] args) {
    System.out.println("placeholder");
  }
}
