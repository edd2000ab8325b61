//! Worker objects, variables and calls against the real `appose` Python
//! worker (0.12.0, pinned by the test environment).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use appose::{DType, ErrorKind, Map, NDArray, Order, Syntax, Value, WorkerObject};
use common::{eventually, python_service};

fn int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("not an integer: {v:?}"))
}

fn object(v: Value) -> WorkerObject {
    match v {
        Value::WorkerObject(ref w) => w.clone(),
        other => panic!("not a worker object: {other:?}"),
    }
}

/// How many variables the worker exports (a private detail of appose
/// 0.12.0's Python worker: its `exports` dict).
fn exports(svc: &appose::Service) -> i64 {
    let t = svc.task("len(task._worker.exports)", None, None).unwrap();
    t.wait(Some(Duration::from_secs(60))).unwrap();
    int(&t.result().unwrap())
}

#[test]
fn a_datetime_result_is_used_through_attributes_and_methods() {
    let svc = python_service();
    let t = svc
        .task(
            "import datetime\ndatetime.datetime(2024, 5, 17, 10, 30)",
            None,
            None,
        )
        .unwrap();
    t.wait(Some(Duration::from_secs(60))).unwrap();
    let dt = object(t.result().unwrap());
    assert!(dt.is_owned());
    assert_eq!(int(&dt.attr("year").unwrap()), 2024);
    assert_eq!(
        dt.invoke("isoformat", vec![]).unwrap().as_str(),
        Some("2024-05-17T10:30:00")
    );
    assert!(dt.dir().unwrap().iter().any(|a| a == "month"));
    // A worker object of the same service as an argument is the object itself.
    assert_eq!(
        svc.call("str", vec![Value::WorkerObject(dt.clone())], None)
            .unwrap()
            .as_str(),
        Some("2024-05-17 10:30:00")
    );
    // A method read as an attribute is a worker object too, and callable.
    let weekday = object(dt.attr("weekday").unwrap());
    assert_eq!(int(&weekday.call(vec![]).unwrap()), 4);
}

#[test]
fn an_instance_keeps_its_state_across_method_calls() {
    let svc = python_service();
    let define = svc
        .task(
            "class Counter:\n    def __init__(self, start):\n        self.n = start\n    \
             def add(self, k):\n        self.n += k\n        return self.n\n\
             task.export(Counter=Counter)",
            None,
            None,
        )
        .unwrap();
    define.wait(Some(Duration::from_secs(60))).unwrap();
    let c = object(svc.call("Counter", vec![Value::from(10)], None).unwrap());
    assert_eq!(int(&c.invoke("add", vec![Value::from(5)]).unwrap()), 15);
    assert_eq!(int(&c.invoke("add", vec![Value::from(2)]).unwrap()), 17);
    assert_eq!(int(&c.attr("n").unwrap()), 17);
}

#[test]
fn variables_round_trip() {
    let svc = python_service();
    let mut m = Map::new();
    m.insert("a", Value::from(1));
    m.insert("b", Value::Array(vec![Value::from("x"), Value::Null]));
    let values = vec![
        Value::from("héllo"),
        Value::from(42),
        appose::value::parse("0.25").unwrap(),
        appose::value::parse("123456789012345678901234567890").unwrap(),
        Value::Array(vec![Value::from(1), Value::from(2.5)]),
        Value::Object(m),
    ];
    for (i, v) in values.into_iter().enumerate() {
        let name = format!("v{i}");
        svc.put_var(&name, v.clone(), None).unwrap();
        assert_eq!(svc.get_var(&name, None).unwrap(), v, "{name}");
    }
    let a = NDArray::new(DType::Float32, &[2, 3], Order::C).unwrap();
    // SAFETY: 6 float32 elements, ours alone.
    unsafe { *a.as_ptr().cast::<f32>().add(4) = 7.5 };
    // Our handle keeps the block alive: the worker only maps it.
    svc.put_var("arr", Value::NDArray(a.clone()), None).unwrap();
    let back = svc.get_var("arr", None).unwrap();
    let Value::NDArray(back) = &back else {
        panic!("not an array: {back:?}")
    };
    assert_eq!(back.shape(), &[2, 3]);
    // SAFETY: the block holds 6 float32 elements.
    assert_eq!(unsafe { *back.as_ptr().cast::<f32>().add(4) }, 7.5);
}

#[test]
fn functions_are_called_by_name() {
    let svc = python_service();
    assert_eq!(
        int(&svc
            .call(
                "max",
                vec![Value::from(3), Value::from(9), Value::from(4)],
                None
            )
            .unwrap()),
        9
    );
    let define = svc
        .task(
            "def twice(x):\n    return 2 * x\ntask.export(twice=twice)",
            None,
            None,
        )
        .unwrap();
    define.wait(Some(Duration::from_secs(60))).unwrap();
    assert_eq!(
        int(&svc.call("twice", vec![Value::from(21)], None).unwrap()),
        42
    );
    assert_eq!(
        svc.call("math.sqrt", vec![Value::from(16)], None)
            .err()
            .map(|e| e.kind()),
        Some(ErrorKind::TaskFailed),
        "math is not imported in the task's scope"
    );
}

#[test]
fn missing_names_fail_with_the_workers_traceback() {
    let svc = python_service();
    let e = svc.call("no_such_function", vec![], None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TaskFailed);
    assert!(e.message().contains("NameError"), "{}", e.message());
    let t = svc.task("object()", None, None).unwrap();
    t.wait(Some(Duration::from_secs(60))).unwrap();
    let o = object(t.result().unwrap());
    let e = o.attr("nope").unwrap_err();
    assert!(e.message().contains("AttributeError"), "{}", e.message());
    // Names that are not identifiers never reach a script.
    let e = svc.get_var("x; import os", None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn released_objects_leave_the_worker() {
    let svc = python_service();
    let before = exports(&svc);
    // 1,000 objects from 1,000 tasks, and 10,000 from one task.
    let mut held = Vec::new();
    for _ in 0..1000 {
        let t = svc.task("object()", None, None).unwrap();
        t.wait(Some(Duration::from_secs(60))).unwrap();
        held.push(t.result().unwrap());
    }
    let t = svc
        .task("[object() for _ in range(10000)]", None, None)
        .unwrap();
    t.wait(Some(Duration::from_secs(60))).unwrap();
    let many = t.result().unwrap();
    assert_eq!(many.as_array().unwrap().len(), 10_000);
    assert_eq!(exports(&svc), before + 11_000);
    drop(held);
    drop(many);
    drop(t);
    assert!(
        eventually(Duration::from_secs(30), || exports(&svc) == before),
        "exports: {} (was {before})",
        exports(&svc)
    );
}

#[test]
fn a_proxy_to_a_callers_variable_never_deletes_it() {
    let svc = python_service();
    svc.put_var("kept", Value::from(5), None).unwrap();
    let before = exports(&svc);
    let p = svc.proxy("kept", None).unwrap();
    assert!(!p.is_owned());
    assert_eq!(int(&p.invoke("bit_length", vec![]).unwrap()), 3);
    drop(p);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(exports(&svc), before);
    assert_eq!(int(&svc.get_var("kept", None).unwrap()), 5);
}

#[test]
fn objects_outliving_their_service_are_harmless() {
    let svc = python_service();
    let t = svc.task("object()", None, None).unwrap();
    t.wait(Some(Duration::from_secs(60))).unwrap();
    let o = object(t.result().unwrap());
    svc.close(Some(Duration::from_secs(10))).unwrap();
    let e = o.attr("x").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ServiceClosed);
    drop(o);
    drop(t);
}

#[test]
fn worker_objects_in_update_info_are_usable() {
    let svc = python_service();
    let t = svc
        .task(
            "import fractions\ntask.update('half', info={'f': fractions.Fraction(1, 2)})",
            None,
            None,
        )
        .unwrap();
    let seen = Arc::new(Mutex::new(None));
    let sink = seen.clone();
    t.listen(Box::new(move |ev: &appose::TaskEvent| {
        if let Some(Value::Object(m)) = &ev.info {
            if let Some(Value::WorkerObject(w)) = m.get("f") {
                *sink.lock().unwrap() = Some(w.clone());
            }
        }
    }))
    .unwrap();
    t.wait(Some(Duration::from_secs(60))).unwrap();
    let f = seen
        .lock()
        .unwrap()
        .take()
        .expect("no worker object in info");
    assert_eq!(int(&f.attr("denominator").unwrap()), 2);
}

#[test]
fn a_custom_worker_needs_a_syntax() {
    let svc = common::python_program(&[
        "-c",
        "import appose.python_worker; appose.python_worker.main()",
    ]);
    assert_eq!(svc.syntax(), None);
    let e = svc.get_var("x", None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState);
    assert!(e.message().contains("syntax"), "{}", e.message());
    svc.set_syntax(Some(Syntax::from_name("python").unwrap()));
    svc.put_var("x", Value::from(3), None).unwrap();
    assert_eq!(int(&svc.get_var("x", None).unwrap()), 3);
}

#[test]
fn a_numpy_result_returned_directly_is_a_usable_worker_object() {
    let svc = python_service();
    let t = svc
        .task("import numpy as np\nnp.arange(6).reshape(2, 3)", None, None)
        .unwrap();
    t.wait(Some(Duration::from_secs(60))).unwrap();
    let a = object(t.result().unwrap());
    assert_eq!(
        a.attr("shape").unwrap(),
        appose::value::parse("[2, 3]").unwrap()
    );
    assert_eq!(
        a.invoke("tolist", vec![]).unwrap(),
        appose::value::parse("[[0, 1, 2], [3, 4, 5]]").unwrap()
    );
    let t = svc
        .task("import numpy as np\nnp.float32(1.5)", None, None)
        .unwrap();
    t.wait(Some(Duration::from_secs(60))).unwrap();
    let x = object(t.result().unwrap());
    assert_eq!(x.invoke("item", vec![]).unwrap().as_f64(), Some(1.5));
}
