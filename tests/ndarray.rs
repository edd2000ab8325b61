//! Shared memory and ndarrays against the real Python worker (with numpy).

mod common;

use std::process::Command;
use std::time::Duration;

use appose::value::{self, BlockOwner};
use appose::{DType, ErrorKind, Map, NDArray, Order, SharedMemory, Value};
use common::{eventually, python_service};

const LONG: Option<Duration> = Some(Duration::from_secs(120));

fn inputs(entries: Vec<(&str, Value)>) -> Map {
    let mut m = Map::new();
    for (k, v) in entries {
        m.insert(k, v);
    }
    m
}

#[test]
fn worker_reads_and_writes_a_256_mib_array_in_place() {
    let svc = python_service();
    let n = 64 * 1024 * 1024; // 256 MiB of float32
    let a = NDArray::new(DType::Float32, &[n / 1024, 1024], Order::C).unwrap();
    let data = unsafe { std::slice::from_raw_parts_mut(a.as_ptr().cast::<f32>(), n) };
    for (i, x) in data.iter_mut().enumerate() {
        *x = (i % 1000) as f32;
    }
    let expected: f64 = data.iter().map(|&x| f64::from(x)).sum();
    let script = "\
import numpy as np
v = image.ndarray()
total = float(v.sum(dtype=np.float64))
v *= 2
v[0, 0] = -1.5
{'sum': total, 'shape': list(v.shape), 'dtype': str(v.dtype)}
";
    let task = svc
        .task(
            script,
            Some(inputs(vec![("image", Value::NDArray(a.clone()))])),
            None,
        )
        .unwrap();
    task.wait(LONG).unwrap();
    let out = task.outputs();
    assert_eq!(out.get("sum").unwrap().as_f64(), Some(expected));
    assert_eq!(
        out.get("shape").unwrap().to_json(),
        format!("[{},1024]", n / 1024)
    );
    assert_eq!(out.get("dtype").unwrap().as_str(), Some("float32"));
    // The worker's writes are visible in our own mapping: nothing was copied.
    assert_eq!(data[0], -1.5);
    assert_eq!(data[1], 2.0);
    assert_eq!(data[n - 1], ((n - 1) % 1000) as f32 * 2.0);
}

/// Reads element `i` of a little-endian array as text, for comparison.
fn element(a: &NDArray, i: usize) -> String {
    let size = a.dtype().item_size();
    let b = unsafe { std::slice::from_raw_parts(a.as_ptr().add(i * size), size) };
    match a.dtype() {
        DType::Int8 => (b[0] as i8).to_string(),
        DType::Uint8 => b[0].to_string(),
        DType::Bool => (b[0] != 0).to_string(),
        DType::Int16 => i16::from_le_bytes([b[0], b[1]]).to_string(),
        DType::Uint16 => u16::from_le_bytes([b[0], b[1]]).to_string(),
        DType::Float16 => format!("f16:{:04x}", u16::from_le_bytes([b[0], b[1]])),
        DType::Int32 => i32::from_le_bytes(b.try_into().unwrap()).to_string(),
        DType::Uint32 => u32::from_le_bytes(b.try_into().unwrap()).to_string(),
        DType::Float32 => f32::from_le_bytes(b.try_into().unwrap()).to_string(),
        DType::Int64 => i64::from_le_bytes(b.try_into().unwrap()).to_string(),
        DType::Uint64 => u64::from_le_bytes(b.try_into().unwrap()).to_string(),
        DType::Float64 => f64::from_le_bytes(b.try_into().unwrap()).to_string(),
        DType::Complex64 => format!(
            "{}+{}j",
            f32::from_le_bytes(b[..4].try_into().unwrap()),
            f32::from_le_bytes(b[4..].try_into().unwrap())
        ),
        DType::Complex128 => format!(
            "{}+{}j",
            f64::from_le_bytes(b[..8].try_into().unwrap()),
            f64::from_le_bytes(b[8..].try_into().unwrap())
        ),
    }
}

#[test]
fn worker_made_arrays_of_every_dtype_arrive_exact() {
    let svc = python_service();
    let script = "\
import numpy as np
from appose import NDArray, SharedMemory
out = {}
for name in ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64',
             'float16', 'float32', 'float64', 'complex64', 'complex128']:
    a = NDArray(name, [2, 3])
    v = np.arange(6).reshape(2, 3)
    if name.startswith('uint'):
        v = v * 40
    elif name.startswith('complex'):
        v = (v - 2) + 0.5j * v
    else:
        v = (v - 2) * 1.5 if name.startswith('float') else v - 2
    a.ndarray()[...] = v
    out[name] = a
# Python's NDArray cannot size a bool array itself: give it a block.
b = NDArray('bool', [2, 3], SharedMemory(create=True, rsize=6))
b.ndarray()[...] = [[True, False, True], [False, False, True]]
out['bool'] = b
out
";
    let task = svc.task(script, None, None).unwrap();
    task.wait(LONG).unwrap();
    let out = task.outputs();
    let mut names = Vec::new();
    for d in DType::ALL {
        let Some(Value::NDArray(a)) = out.get(d.name()) else {
            panic!(
                "{} missing or not an ndarray: {:?}",
                d.name(),
                out.get(d.name())
            );
        };
        assert_eq!(a.dtype(), d);
        assert_eq!(a.shape(), &[2, 3]);
        assert_eq!(a.shape_in(Order::F), vec![3, 2]);
        assert!(
            a.shm().unlink_on_drop(),
            "worker-made blocks are ours to unlink"
        );
        names.push(a.shm().name().to_owned());
        let got: Vec<String> = (0..6).map(|i| element(a, i)).collect();
        let want: Vec<String> = match d {
            DType::Int8 | DType::Int16 | DType::Int32 | DType::Int64 => {
                (0..6).map(|i| (i - 2).to_string()).collect()
            }
            DType::Uint8 | DType::Uint16 | DType::Uint32 | DType::Uint64 => {
                (0..6).map(|i| (i * 40).to_string()).collect()
            }
            DType::Float32 => (0..6).map(|i| ((i - 2) as f32 * 1.5).to_string()).collect(),
            DType::Float64 => (0..6).map(|i| ((i - 2) as f64 * 1.5).to_string()).collect(),
            // -3.0, -1.5, 0, 1.5, 3.0, 4.5 as IEEE half floats.
            DType::Float16 => ["c200", "be00", "0000", "3e00", "4200", "4480"]
                .iter()
                .map(|h| format!("f16:{h}"))
                .collect(),
            DType::Complex64 => (0..6)
                .map(|i| format!("{}+{}j", (i - 2) as f32, i as f32 * 0.5))
                .collect(),
            DType::Complex128 => (0..6)
                .map(|i| format!("{}+{}j", (i - 2) as f64, i as f64 * 0.5))
                .collect(),
            DType::Bool => ["true", "false", "true", "false", "false", "true"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        assert_eq!(got, want, "{}", d.name());
    }
    // Dropping the outputs unlinks the worker's blocks (once the reader
    // thread, which woke us, has let go of the task too: microseconds).
    drop(out);
    drop(task);
    for name in names {
        assert!(
            eventually(Duration::from_secs(2), || !appose::shm::exists(&name)),
            "{name} was left behind"
        );
    }
}

#[test]
fn arrays_nested_in_lists_and_maps() {
    let svc = python_service();
    let a = NDArray::new(DType::Int32, &[4], Order::C).unwrap();
    let b = NDArray::new(DType::Float64, &[3, 2], Order::F).unwrap();
    unsafe {
        std::slice::from_raw_parts_mut(a.as_ptr().cast::<i32>(), 4).copy_from_slice(&[1, 2, 3, 4]);
        std::slice::from_raw_parts_mut(b.as_ptr().cast::<f64>(), 6).fill(0.25);
    }
    let mut deep = Map::new();
    deep.insert("b", Value::NDArray(b.clone()));
    deep.insert("label", Value::from("x"));
    let nested = Value::Array(vec![Value::NDArray(a.clone()), Value::Object(deep)]);
    let script = "\
first, rest = items
{'a': int(first.ndarray().sum()), 'b': float(rest['b'].ndarray().sum()),
 'b_shape': list(rest['b'].shape), 'label': rest['label'], 'echo': items}
";
    let task = svc
        .task(script, Some(inputs(vec![("items", nested)])), None)
        .unwrap();
    task.wait(LONG).unwrap();
    let out = task.outputs();
    assert_eq!(out.get("a").unwrap().as_i64(), Some(10));
    assert_eq!(out.get("b").unwrap().as_f64(), Some(1.5));
    // F-order [3, 2] went out as C-order [2, 3].
    assert_eq!(out.get("b_shape").unwrap().to_json(), "[2,3]");
    assert_eq!(out.get("label").unwrap().as_str(), Some("x"));
    // Our own arrays come back as the very same mappings, still ours.
    let Some(Value::Array(echo)) = out.get("echo") else {
        panic!("echo missing")
    };
    let Value::NDArray(back) = &echo[0] else {
        panic!("not an ndarray")
    };
    assert_eq!(back.as_ptr(), a.as_ptr());
    drop(out);
    drop(task);
    assert!(a.shm().exists(), "a block we still hold was unlinked");
}

#[test]
fn a_missing_block_is_refused_before_sending() {
    let svc = python_service();
    // Through JSON: the named block does not exist.
    let json = r#"{"x": {"appose_type": "shm", "name": "psm_0badf00d", "rsize": 8}}"#;
    let err = value::decode_strict(value::parse(json).unwrap(), BlockOwner::Others).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("psm_0badf00d"), "{err}");
    // Through a handle whose block someone unlinked meanwhile.
    let shm = SharedMemory::create(64).unwrap();
    let name = std::ffi::CString::new(format!("/{}", shm.name())).unwrap();
    assert_eq!(unsafe { libc::shm_unlink(name.as_ptr()) }, 0);
    let task = svc
        .task(
            "len(x.buf)",
            Some(inputs(vec![("x", Value::Shm(shm))])),
            None,
        )
        .unwrap();
    let err = task.start().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("no longer exists"), "{err}");
    // The worker never saw it and still answers.
    let ok = svc.task("'healthy'", None, None).unwrap();
    ok.wait(LONG).unwrap();
    assert_eq!(ok.result(), Some(Value::from("healthy")));
}

fn python(code: &str) -> String {
    let py = common::python_env().join("bin/python");
    let out = Command::new(py).args(["-c", code]).output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn plain_python_and_the_library_share_blocks_both_ways() {
    // Python attaches to a block the library created.
    let shm = SharedMemory::create(16).unwrap();
    unsafe { shm.as_mut_slice()[..4].copy_from_slice(b"\x01\x02\xfe\xff") };
    let hex = python(&format!(
        "from multiprocessing import shared_memory, resource_tracker\n\
         s = shared_memory.SharedMemory(name='{}')\n\
         resource_tracker.unregister(s._name, 'shared_memory')\n\
         print(bytes(s.buf[:4]).hex(), s.size)\n\
         s.close()",
        shm.name()
    ));
    assert_eq!(hex, "0102feff 16");
    assert!(shm.exists());

    // The library attaches to a block Python created (and left for us).
    let name = python(
        "from multiprocessing import shared_memory, resource_tracker\n\
         s = shared_memory.SharedMemory(create=True, size=10)\n\
         s.buf[:5] = b'hello'\n\
         resource_tracker.unregister(s._name, 'shared_memory')\n\
         print(s.name)\n\
         s.close()",
    );
    assert!(name.starts_with("psm_"), "{name}");
    let theirs = SharedMemory::attach(&name).unwrap();
    assert_eq!(unsafe { &theirs.as_slice()[..5] }, b"hello");
    assert!(!theirs.unlink_on_drop());
    // Take it over so the test leaves /dev/shm clean.
    theirs.set_unlink_on_drop(true);
    drop(theirs);
    assert!(!appose::shm::exists(&name));
}

#[test]
fn update_info_carries_arrays() {
    let svc = python_service();
    let script = "\
from appose import NDArray
a = NDArray('uint8', [3])
a.ndarray()[...] = [7, 8, 9]
task.update('preview', info={'preview': a})
'done'
";
    let task = svc.task(script, None, None).unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let sink = seen.clone();
    task.listen(Box::new(move |e: &appose::TaskEvent| {
        if let Some(Value::Object(info)) = &e.info {
            if let Some(Value::NDArray(a)) = info.get("preview") {
                let bytes = unsafe { std::slice::from_raw_parts(a.as_ptr(), 3) }.to_vec();
                *sink.lock().unwrap() = Some((bytes, a.shm().name().to_owned()));
            }
        }
    }))
    .unwrap();
    task.wait(LONG).unwrap();
    let (bytes, name) = seen.lock().unwrap().take().expect("no preview seen");
    assert_eq!(bytes, vec![7, 8, 9]);
    // The task has ended and nothing holds the array: its block is gone.
    assert!(eventually(Duration::from_secs(2), || !appose::shm::exists(
        &name
    )));
}

// A block first seen in an UPDATE lives while the task runs: a worker that
// previews an array and then returns it gives a usable output array.
#[test]
fn an_array_previewed_in_an_update_and_then_returned_is_usable() {
    let svc = python_service();
    let script = "\
from appose import NDArray
a = NDArray('float32', [4])
a.ndarray()[:] = 7
task.update('preview', info={'a': a})
import time
time.sleep(0.2)
{'a': a}
";
    let task = svc.task(script, None, None).unwrap();
    task.wait(LONG).unwrap();
    let a = match task.outputs().get("a") {
        Some(Value::NDArray(a)) => a.clone(),
        other => panic!("not an array: {:?}", other.map(Value::to_json)),
    };
    let v = unsafe { std::slice::from_raw_parts(a.as_ptr() as *const f32, 4) };
    assert_eq!(v, &[7.0; 4]);
    let name = a.shm().name().to_owned();
    drop(task);
    drop(a);
    assert!(eventually(Duration::from_secs(2), || !appose::shm::exists(
        &name
    )));
}
