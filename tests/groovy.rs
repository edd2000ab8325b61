//! The Groovy syntax against the second real peer: appose-java 0.9.0's
//! GroovyWorker (fetched from Maven Central by tests/support/groovy-deps.sh).
//! 0.9.0 has no automatic worker objects: objects are exported explicitly.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use appose::{Environment, ErrorKind, Map, Syntax, Value};

/// The GroovyWorker's class path, or why it cannot run here.
fn classpath() -> Result<Vec<String>, String> {
    for tool in ["java", "mvn"] {
        let ok = Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Err(format!("{tool} does not run here"));
        }
    }
    let dest = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("groovy-deps");
    let status = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/groovy-deps.sh"
        ))
        .arg(&dest)
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("Maven could not fetch appose-java 0.9.0".into());
    }
    let mut jars: Vec<String> = std::fs::read_dir(&dest)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .map(|e| e.path().to_string_lossy().into_owned())
        .filter(|p| p.ends_with(".jar"))
        .collect();
    jars.sort();
    Ok(jars)
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("not an integer: {v:?}"))
}

#[test]
fn variables_calls_and_explicit_objects_on_the_groovy_worker() {
    let cp = match classpath() {
        Ok(cp) => cp,
        Err(why) => return common::skip(&format!("the GroovyWorker: {why}")),
    };
    let svc = Environment::system().unwrap().groovy(&cp, &[]).unwrap();
    assert_eq!(svc.syntax(), Some(Syntax::Groovy));
    let long = Some(Duration::from_secs(60));

    // Variables round trip.
    let mut m = Map::new();
    m.insert("a", Value::from(1));
    m.insert("b", Value::from("two"));
    for (name, v) in [
        ("n", Value::from(42)),
        ("s", Value::from("héllo")),
        ("l", Value::Array(vec![Value::from(1), Value::from(2)])),
        ("m", Value::Object(m)),
    ] {
        svc.put_var(name, v.clone(), None).unwrap();
        assert_eq!(svc.get_var(name, None).unwrap(), v, "{name}");
    }

    // Calls: a static method by its dotted name, and an exported closure.
    assert_eq!(
        int(&svc
            .call("Math.max", vec![Value::from(3), Value::from(9)], None)
            .unwrap()),
        9
    );
    svc.task(
        "def twice(v) { 2 * v }\ntask.export([twice: this.&twice])",
        None,
        None,
    )
    .unwrap()
    .wait(long)
    .unwrap();
    assert_eq!(
        int(&svc.call("twice", vec![Value::from(21)], None).unwrap()),
        42
    );

    // An explicitly exported object through a proxy: methods, a property,
    // its attribute list; never deleted when the proxy goes.
    svc.task("task.export([sb: new StringBuilder('ab')])", None, None)
        .unwrap()
        .wait(long)
        .unwrap();
    let sb = svc.proxy("sb", None).unwrap();
    sb.invoke("append", vec![Value::from("cd")]).ok();
    assert_eq!(int(&sb.invoke("length", vec![]).unwrap()), 4);
    assert_eq!(
        sb.invoke("toString", vec![]).unwrap().as_str(),
        Some("abcd")
    );
    assert_eq!(sb.attr("empty").unwrap(), Value::Bool(false));
    assert!(sb.dir().unwrap().iter().any(|n| n == "reverse"));
    drop(sb);
    assert_eq!(
        svc.proxy("sb", None)
            .unwrap()
            .invoke("toString", vec![])
            .unwrap()
            .as_str(),
        Some("abcd")
    );

    // Errors are the worker's.
    let e = svc.call("noSuchFunction", vec![], None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TaskFailed);
    assert!(e.message().contains("noSuchFunction"), "{}", e.message());
    svc.close(long).unwrap();
}

#[test]
fn the_worker_jars_can_come_from_the_variable_as_a_directory_wildcard() {
    let cp = match classpath() {
        Ok(cp) => cp,
        Err(why) => return common::skip(&format!("the GroovyWorker: {why}")),
    };
    let dir = std::fs::canonicalize(PathBuf::from(&cp[0]).parent().unwrap()).unwrap();
    // Every test here sets it the same way (std serialises its access to
    // the environment), and the other test's explicit jars, in the same
    // directory, make no difference to it.
    // SAFETY: std's environment lock covers our reads; no C code reads it.
    unsafe { std::env::set_var("APPOSE_GROOVY_CLASSPATH", format!("{}/*", dir.display())) };
    // The appose jar again, by a roundabout path: it keeps one place.
    let again = format!(
        "{}/../{}/appose-0.9.0.jar",
        dir.display(),
        dir.file_name().unwrap().to_string_lossy()
    );
    let svc = Environment::system()
        .unwrap()
        .groovy(&[again.clone(), again], &[])
        .unwrap();
    let argv = svc.argv();
    assert_eq!(
        argv[2],
        format!("{0}/*:{0}/appose-0.9.0.jar", dir.display()),
        "{argv:?}"
    );
    let long = Some(Duration::from_secs(60));
    let task = svc.task("6 * 7", None, None).unwrap();
    task.start().unwrap();
    task.wait(long).unwrap();
    assert_eq!(task.result().map(|v| int(&v)), Some(42));
    svc.close(long).unwrap();
}
