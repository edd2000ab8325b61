//! Builds the C test programs with warnings as errors against the shared
//! library and runs them against the real Python worker.
//!
//! `cargo test` does not build the cdylib, so run `cargo build` first
//! (`tests/run.sh` does); a library older than the sources is refused here
//! rather than tested.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn newest_source(dir: &Path) -> SystemTime {
    let mut newest = SystemTime::UNIX_EPOCH;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        let t = if meta.is_dir() {
            newest_source(&entry.path())
        } else {
            meta.modified().unwrap()
        };
        newest = newest.max(t);
    }
    newest
}

/// The freshly built shared library, seen through its SONAME in a scratch
/// dir (set up once: the tests of this file run in parallel).
fn library_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(make_library_dir).clone()
}

fn make_library_dir() -> PathBuf {
    // target/debug/deps/c_abi-<hash> -> target/debug/libappose.so
    let exe = std::env::current_exe().unwrap();
    let lib = exe.parent().unwrap().parent().unwrap().join("libappose.so");
    let built = std::fs::metadata(&lib)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is missing: run `cargo build` first", lib.display()));
    assert!(
        built >= newest_source(&root().join("src")),
        "{} is older than the sources: run `cargo build` first",
        lib.display()
    );
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-abi");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["libappose.so", "libappose.so.0"] {
        let link = dir.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&lib, &link).unwrap();
    }
    dir
}

fn compile(source: &str, lib_dir: &Path) -> PathBuf {
    let out = lib_dir.join(Path::new(source).file_stem().unwrap());
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g"])
        .arg("-I")
        .arg(root().join("include"))
        .arg(root().join(source))
        .arg("-o")
        .arg(&out)
        .arg("-L")
        .arg(lib_dir)
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .args(["-lappose", "-lpthread"])
        .status()
        .expect("a C compiler runs");
    assert!(status.success(), "compiling {source} failed");
    out
}

/// Runs a compiled test program on the Python environment; its stdout,
/// after asserting that it succeeded and printed `expect`.
fn run_program(exe: &Path, expect: &str) -> String {
    let out = Command::new(exe)
        .arg(common::python_env())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{} failed: {:?}",
        exe.display(),
        out.status
    );
    assert!(stdout.contains(expect), "{stdout}");
    stdout
}

#[test]
fn c_abi_test_program_passes() {
    let exe = compile("tests/c/abi_test.c", &library_dir());
    run_program(&exe, "all checks passed");
}

#[test]
fn c_ndarray_test_program_passes_and_leaves_no_block() {
    let lib_dir = library_dir();
    let exe = compile("tests/c/ndarray_test.c", &lib_dir);
    let out = Command::new(&exe)
        .arg(common::python_env())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "ndarray_test failed: {:?}",
        out.status
    );
    assert!(stdout.contains("all checks passed"));
    let leftover = stdout
        .lines()
        .find_map(|l| l.strip_prefix("leftover: "))
        .expect("the program names its leftover block");
    assert!(leftover.starts_with("psm_"));
    assert!(
        !appose::shm::exists(leftover),
        "{leftover} outlived the process that owned it"
    );
}

/// Many tasks on three services through one event queue, taken when its fd
/// is readable and with no blocking call; a crash and a deaf worker's close
/// through the queue; errors read on another thread; thread hooks.
#[test]
fn c_queue_test_program_passes() {
    let exe = compile("tests/c/queue_test.c", &library_dir());
    run_program(&exe, "queue_test: all checks passed");
}

/// Every function of the header with NULL pointers, invalid UTF-8 and freed
/// handles, one argument at a time (generated from the header itself).
#[test]
fn every_function_survives_misuse() {
    let lib_dir = library_dir();
    let source = lib_dir.join("misuse.c");
    let gen = Command::new("python3")
        .arg(root().join("tests/support/gen_misuse.py"))
        .arg(root().join("include/appose.h"))
        .arg(&source)
        .status()
        .expect("python3 runs");
    assert!(gen.success(), "generating the misuse test failed");
    let exe = compile(source.to_str().unwrap(), &lib_dir);
    run_program(&exe, ", 0 failures");
}
