package org.libappose;

import java.math.BigInteger;

/** A worker's value as the Java type a proxy method returns. */
final class Convert {
  private Convert() {}

  static Object to(Class<?> type, Object v) {
    if (type == void.class || type == Void.class) return null;
    if (v == null) {
      if (type.isPrimitive()) {
        throw new ApposeException(ApposeException.INVALID_STATE, "the worker returned None for a " + type);
      }
      return null;
    }
    if (type.isInstance(v)) return v;
    if (v instanceof Number) {
      Number n = (Number) v;
      if (type == int.class || type == Integer.class) return n.intValue();
      if (type == long.class || type == Long.class) return n.longValue();
      if (type == double.class || type == Double.class) return n.doubleValue();
      if (type == float.class || type == Float.class) return n.floatValue();
      if (type == short.class || type == Short.class) return n.shortValue();
      if (type == byte.class || type == Byte.class) return n.byteValue();
      if (type == BigInteger.class) return new BigInteger(n.toString());
    }
    if ((type == boolean.class || type == Boolean.class) && v instanceof Boolean) return v;
    if (type == String.class) return v.toString();
    throw new ApposeException(
        ApposeException.INVALID_STATE,
        "the worker returned a " + v.getClass().getSimpleName() + " where " + type.getName()
            + " was expected: " + v);
  }
}
