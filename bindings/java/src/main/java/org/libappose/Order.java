package org.libappose;

/** The order of an array's dimensions: C (row-major, numpy's default) or F (column-major). */
public enum Order {
  C,
  F
}
