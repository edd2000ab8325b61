package org.libappose.internal;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON as the workers write it, read and written exactly: NaN, Infinity and
 * -Infinity as doubles, integers as Long or (beyond 64 bits) BigInteger,
 * other numbers as Double. Objects come back as LinkedHashMap (key order
 * kept), arrays as ArrayList.
 */
public final class Json {
  /** A value that writes its own JSON (arrays, blocks, worker objects). */
  public interface Encodable {
    String toJson();
  }

  private final String text;
  private int i;

  private Json(String text) {
    this.text = text;
  }

  public static Object parse(String text) {
    Json p = new Json(text);
    p.ws();
    Object v = p.value(0);
    p.ws();
    if (p.i != text.length()) throw p.fail("text after the value");
    return v;
  }

  private IllegalArgumentException fail(String what) {
    return new IllegalArgumentException(what + " at offset " + i + " of the worker's JSON");
  }

  private void ws() {
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
      i++;
    }
  }

  private boolean take(String word) {
    if (text.startsWith(word, i)) {
      i += word.length();
      return true;
    }
    return false;
  }

  private Object value(int depth) {
    if (depth > 10_000) throw fail("nesting too deep");
    if (i >= text.length()) throw fail("a value expected");
    char c = text.charAt(i);
    switch (c) {
      case '{':
        {
          i++;
          Map<String, Object> m = new LinkedHashMap<>();
          ws();
          if (take("}")) return m;
          while (true) {
            ws();
            if (i >= text.length() || text.charAt(i) != '"') throw fail("a key expected");
            String key = string();
            ws();
            if (!take(":")) throw fail("':' expected");
            ws();
            m.put(key, value(depth + 1));
            ws();
            if (take(",")) continue;
            if (take("}")) return m;
            throw fail("',' or '}' expected");
          }
        }
      case '[':
        {
          i++;
          List<Object> a = new ArrayList<>();
          ws();
          if (take("]")) return a;
          while (true) {
            ws();
            a.add(value(depth + 1));
            ws();
            if (take(",")) continue;
            if (take("]")) return a;
            throw fail("',' or ']' expected");
          }
        }
      case '"':
        return string();
      default:
        if (take("true")) return Boolean.TRUE;
        if (take("false")) return Boolean.FALSE;
        if (take("null")) return null;
        if (take("NaN")) return Double.NaN;
        if (take("Infinity")) return Double.POSITIVE_INFINITY;
        if (take("-Infinity")) return Double.NEGATIVE_INFINITY;
        return number();
    }
  }

  private Object number() {
    int start = i;
    boolean integral = true;
    if (i < text.length() && text.charAt(i) == '-') i++;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c >= '0' && c <= '9') {
        i++;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
        integral = false;
        i++;
      } else {
        break;
      }
    }
    String s = text.substring(start, i);
    if (s.isEmpty() || s.equals("-")) throw fail("a value expected");
    try {
      if (integral) {
        if (s.length() <= 18) return Long.parseLong(s);
        BigInteger big = new BigInteger(s);
        return big.bitLength() < 64 ? (Object) big.longValue() : big;
      }
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw fail("a malformed number");
    }
  }

  private String string() {
    i++; // the opening quote
    StringBuilder sb = new StringBuilder();
    while (true) {
      if (i >= text.length()) throw fail("an unterminated string");
      char c = text.charAt(i++);
      if (c == '"') return sb.toString();
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (i >= text.length()) throw fail("an unterminated escape");
      char e = text.charAt(i++);
      switch (e) {
        case 'n': sb.append('\n'); break;
        case 't': sb.append('\t'); break;
        case 'r': sb.append('\r'); break;
        case 'b': sb.append('\b'); break;
        case 'f': sb.append('\f'); break;
        case 'u':
          if (i + 4 > text.length()) throw fail("a short \\u escape");
          try {
            sb.append((char) Integer.parseInt(text.substring(i, i + 4), 16));
          } catch (NumberFormatException ex) {
            throw fail("a malformed \\u escape");
          }
          i += 4;
          break;
        default: sb.append(e);
      }
    }
  }

  /** JSON text for a Java value (see the class comment for the mapping). */
  public static String write(Object v) {
    StringBuilder sb = new StringBuilder();
    write(sb, v, 0);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v, int depth) {
    if (depth > 10_000) throw new IllegalArgumentException("a value nested too deep (a cycle?)");
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Encodable) {
      sb.append(((Encodable) v).toJson());
    } else if (v instanceof CharSequence || v instanceof Character) {
      quote(sb, v.toString());
    } else if (v instanceof Boolean) {
      sb.append(v);
    } else if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isNaN(d)) sb.append("NaN");
      else if (Double.isInfinite(d)) sb.append(d > 0 ? "Infinity" : "-Infinity");
      else if (d == Math.rint(d) && Math.abs(d) < 1e15) sb.append((long) d).append(".0");
      else sb.append(d);
    } else if (v instanceof BigDecimal) {
      sb.append(((BigDecimal) v).toString());
    } else if (v instanceof Number) {
      sb.append(v.toString()); // Long, Integer, Short, Byte, BigInteger
    } else if (v instanceof Map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!(e.getKey() instanceof String)) {
          throw new IllegalArgumentException("map keys must be strings, not " + e.getKey());
        }
        if (!first) sb.append(',');
        first = false;
        quote(sb, (String) e.getKey());
        sb.append(':');
        write(sb, e.getValue(), depth + 1);
      }
      sb.append('}');
    } else if (v instanceof Iterable) {
      sb.append('[');
      boolean first = true;
      for (Object o : (Iterable<?>) v) {
        if (!first) sb.append(',');
        first = false;
        write(sb, o, depth + 1);
      }
      sb.append(']');
    } else if (v instanceof Object[]) {
      write(sb, java.util.Arrays.asList((Object[]) v), depth);
    } else {
      throw new IllegalArgumentException(
          "a " + v.getClass().getName() + " cannot be sent to a worker: use strings, numbers,"
              + " booleans, null, lists, maps, NDArray, SharedMemory or WorkerObject");
    }
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      switch (c) {
        case '"': sb.append("\\\""); break;
        case '\\': sb.append("\\\\"); break;
        case '\n': sb.append("\\n"); break;
        case '\r': sb.append("\\r"); break;
        case '\t': sb.append("\\t"); break;
        default:
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
      }
    }
    sb.append('"');
  }
}
