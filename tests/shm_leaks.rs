//! `/dev/shm` is left exactly as found, blocks and owner registries: one
//! test alone in its binary, so no other test's blocks come and go while it
//! compares.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use appose::{DType, Map, NDArray, Order, SharedMemory, TaskStatus, Value};
use common::{eventually, python_service};

fn blocks() -> BTreeSet<String> {
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("psm_") || n.starts_with("appose_owner_"))
        .collect()
}

#[test]
fn shared_memory_is_left_as_found() {
    common::python_env();
    let before = blocks();
    {
        let kept = SharedMemory::create(1000).unwrap();
        let _ = SharedMemory::create(1).unwrap();
        let svc = python_service();

        // Our array in, the worker's array out.
        let a = NDArray::new(DType::Int16, &[10, 10], Order::C).unwrap();
        let mut inputs = Map::new();
        inputs.insert("a", Value::NDArray(a));
        inputs.insert("s", Value::Shm(kept.clone()));
        let script =
            "from appose import NDArray\nb = NDArray('float32', [5])\n{'b': b, 'n': len(s.buf)}";
        let t = svc.task(script, Some(inputs), None).unwrap();
        t.wait(Some(Duration::from_secs(60))).unwrap();
        assert_eq!(t.outputs().get("n").and_then(Value::as_i64), Some(1000));

        // An array in the COMPLETION the worker sends after a cancelation:
        // no task takes it, and its block must still go.
        let script = "\
import time
from appose import NDArray
while not task.cancel_requested:
    time.sleep(0.01)
task.cancel()
{'late': NDArray('uint8', [10])}
";
        let c = svc.task(script, None, None).unwrap();
        c.start().unwrap();
        assert!(eventually(Duration::from_secs(30), || c.status()
            == TaskStatus::Running));
        c.cancel().unwrap();
        assert!(c.wait(Some(Duration::from_secs(60))).is_err());
        assert_eq!(c.status(), TaskStatus::Canceled);
        assert_eq!(svc.close(Some(Duration::from_secs(30))).unwrap(), Some(0));
    }
    assert!(
        eventually(Duration::from_secs(5), || blocks() == before),
        "left in /dev/shm: {:?}",
        blocks().difference(&before).collect::<Vec<_>>()
    );
}
