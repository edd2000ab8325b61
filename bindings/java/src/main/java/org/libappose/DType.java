package org.libappose;

/** Element types of an {@link NDArray}, as numpy names them. */
public enum DType {
  INT8("int8", 1),
  INT16("int16", 2),
  INT32("int32", 4),
  INT64("int64", 8),
  UINT8("uint8", 1),
  UINT16("uint16", 2),
  UINT32("uint32", 4),
  UINT64("uint64", 8),
  FLOAT16("float16", 2),
  FLOAT32("float32", 4),
  FLOAT64("float64", 8),
  COMPLEX64("complex64", 8),
  COMPLEX128("complex128", 16),
  BOOL("bool", 1);

  private final String label;
  private final int bytes;

  DType(String label, int bytes) {
    this.label = label;
    this.bytes = bytes;
  }

  /** numpy's name ("float32"). */
  public String label() {
    return label;
  }

  /** Bytes per element. */
  public int bytesPerElement() {
    return bytes;
  }

  /** The C ABI's number for it. */
  int code() {
    return ordinal();
  }

  static DType of(int code) {
    return values()[code];
  }

  public static DType fromLabel(String label) {
    for (DType d : values()) if (d.label.equals(label)) return d;
    throw new IllegalArgumentException("unknown dtype " + label);
  }
}
