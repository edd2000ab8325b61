package org.libappose;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.libappose.internal.Bridge;
import org.libappose.internal.Json;

/**
 * Outputs from their JSON text, exact, with the {@code appose_type} objects
 * in them (arrays, blocks, worker objects) turned into Java objects that own
 * a handle of their own, taken from the task's typed outputs: an array the
 * worker made stays mapped, and a worker object stays in the worker, as long
 * as its Java object is in use.
 */
final class Values {
  private Values() {}

  private static final class Leaf {
    final List<Object> path;
    final String tag;
    final Object parent;
    final Object key;

    Leaf(List<Object> path, String tag, Object parent, Object key) {
      this.path = path;
      this.tag = tag;
      this.parent = parent;
      this.key = key;
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> outputs(Service service, long task, String json) {
    Object parsed = Json.parse(json);
    if (!(parsed instanceof Map)) throw new ApposeException(ApposeException.INVALID_JSON, json);
    Map<String, Object> raw = (Map<String, Object>) parsed;
    List<Leaf> leaves = new ArrayList<>();
    find(raw, new ArrayList<>(), leaves);
    if (leaves.isEmpty()) return raw;
    Bridge b = Native.bridge();
    long map = b.taskOutputs(task);
    try {
      for (Leaf leaf : leaves) {
        Object typed = take(b, service, map, leaf);
        if (typed == null) continue;
        if (leaf.parent instanceof Map) {
          ((Map<String, Object>) leaf.parent).put((String) leaf.key, typed);
        } else {
          ((List<Object>) leaf.parent).set((Integer) leaf.key, typed);
        }
      }
    } finally {
      b.free(Bridge.FREE_MAP, map);
    }
    return raw;
  }

  @SuppressWarnings("unchecked")
  private static void find(Object v, List<Object> path, List<Leaf> out) {
    if (v instanceof Map) {
      Map<String, Object> m = (Map<String, Object>) v;
      for (Map.Entry<String, Object> e : m.entrySet()) {
        visit(e.getValue(), path, e.getKey(), m, out);
      }
    } else if (v instanceof List) {
      List<Object> l = (List<Object>) v;
      for (int i = 0; i < l.size(); i++) visit(l.get(i), path, i, l, out);
    }
  }

  private static void visit(Object child, List<Object> path, Object key, Object parent, List<Leaf> out) {
    List<Object> here = new ArrayList<>(path);
    here.add(key);
    if (child instanceof Map) {
      Object tag = ((Map<?, ?>) child).get("appose_type");
      if (tag instanceof String
          && (tag.equals("ndarray") || tag.equals("shm") || tag.equals("worker_object"))) {
        out.add(new Leaf(here, (String) tag, parent, key));
        return;
      }
    }
    find(child, here, out);
  }

  /** The typed object at the leaf's path, or null to leave the raw map. */
  private static Object take(Bridge b, Service service, long map, Leaf leaf) {
    long v = 0;
    try {
      for (Object step : leaf.path) {
        long next =
            v == 0
                ? b.valueChild(map, 0, (String) step, 0)
                : step instanceof String
                    ? b.valueChild(v, 1, (String) step, 0)
                    : b.valueChild(v, 2, null, (Integer) step);
        b.free(Bridge.FREE_VALUE, v);
        v = next;
      }
      switch (leaf.tag) {
        case "ndarray":
          return NDArray.own(b.valueTake(v, 0));
        case "shm":
          return SharedMemory.own(b.valueTake(v, 1));
        default:
          return new WorkerObject(service, b.valueTake(v, 2));
      }
    } catch (ApposeException e) {
      // Not decodable here (a block that is gone): left as it came.
      return null;
    } finally {
      b.free(Bridge.FREE_VALUE, v);
    }
  }

  /** A value handle for a Java value (free it with FREE_VALUE). */
  static long toValue(Object v) {
    Bridge b = Native.bridge();
    if (v instanceof WorkerObject) return b.valueFromWorkerObject(((WorkerObject) v).handle());
    if (v instanceof NDArray) return b.valueFromNdarray(((NDArray) v).handle());
    return b.valueFromJson(Json.write(v));
  }
}
