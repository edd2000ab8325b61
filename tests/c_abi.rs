//! Builds the C test programs with warnings as errors against the shared
//! library and runs them against the real Python worker; builds a program
//! the way the README shows and checks that it loads the library.
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

/// The SONAME the build gives the library: while 0.x every minor release
/// may break the ABI, so it names the minor version (`libappose.so.0.2`).
fn soname() -> String {
    let (major, minor) = (
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
    );
    if major == "0" {
        format!("libappose.so.{major}.{minor}")
    } else {
        format!("libappose.so.{major}")
    }
}

/// The directory cargo built the library in (`target/debug`), after
/// checking that the library there is newer than the sources.
fn profile_dir() -> PathBuf {
    // target/debug/deps/c_abi-<hash> -> target/debug
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let lib = dir.join("libappose.so");
    let built = std::fs::metadata(&lib)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is missing: run `cargo build` first", lib.display()));
    assert!(
        built >= newest_source(&root().join("src")),
        "{} is older than the sources: run `cargo build` first",
        lib.display()
    );
    dir
}

/// The freshly built shared library, seen through its SONAME in a scratch
/// dir (set up once: the tests of this file run in parallel).
fn library_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(make_library_dir).clone()
}

fn make_library_dir() -> PathBuf {
    let lib = profile_dir().join("libappose.so");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-abi");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["libappose.so".to_owned(), soname()] {
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
fn c_worker_object_test_program_passes() {
    let exe = compile("tests/c/worker_object_test.c", &library_dir());
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

/// What `readelf -d` says of an ELF file: (SONAME, NEEDED entries).
fn dynamic_section(file: &Path) -> (Option<String>, Vec<String>) {
    let out = Command::new("readelf")
        .arg("-d")
        .arg(file)
        .output()
        .expect("readelf runs");
    assert!(out.status.success(), "readelf -d {} failed", file.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |line: &str, tag: &str| {
        line.split_once(tag)
            .and_then(|(_, rest)| rest.trim().strip_prefix('['))
            .and_then(|rest| rest.strip_suffix(']'))
            .map(str::to_owned)
    };
    let soname = text.lines().find_map(|l| field(l, "Library soname:"));
    let needed = text
        .lines()
        .filter_map(|l| field(l, "Shared library:"))
        .collect();
    (soname, needed)
}

/// A program built as the README shows (`cc app.c -Iinclude
/// -Ltarget/<profile> -lappose`) runs with only LD_LIBRARY_PATH or an rpath
/// naming that directory: the library's SONAME exists there as a link.
#[test]
fn a_program_linked_as_the_readme_shows_loads_the_library() {
    let lib_dir = profile_dir();
    let soname = soname();
    let (lib_soname, _) = dynamic_section(&lib_dir.join("libappose.so"));
    assert_eq!(lib_soname.as_deref(), Some(soname.as_str()));
    let link = lib_dir.join(&soname);
    assert_eq!(
        std::fs::read_link(&link).ok().as_deref(),
        Some(Path::new("libappose.so")),
        "{} is not a link to libappose.so (build.rs makes it)",
        link.display()
    );

    let scratch = tempfile::tempdir().unwrap();
    let source = scratch.path().join("app.c");
    std::fs::write(
        &source,
        "#include <stdio.h>\n#include <string.h>\n#include \"appose.h\"\n\
         int main(void) {\n  printf(\"%s\\n\", appose_version());\n  \
         return strcmp(appose_version(), APPOSE_VERSION) != 0;\n}\n",
    )
    .unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let build = |out: &Path, extra: &[String]| {
        let status = Command::new(&cc)
            .current_dir(scratch.path())
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror"])
            .arg("app.c")
            .arg(format!("-I{}", root().join("include").display()))
            .arg(format!("-L{}", lib_dir.display()))
            .arg("-lappose")
            .args(extra)
            .arg("-o")
            .arg(out)
            .status()
            .expect("a C compiler runs");
        assert!(status.success(), "compiling app.c failed");
        let (_, needed) = dynamic_section(out);
        assert!(
            needed.contains(&soname),
            "{} needs {needed:?}",
            out.display()
        );
    };
    let run = |exe: &Path, library_path: Option<&Path>| {
        let mut cmd = Command::new(exe);
        cmd.env_remove("LD_LIBRARY_PATH");
        if let Some(p) = library_path {
            cmd.env("LD_LIBRARY_PATH", p);
        }
        cmd.output().unwrap()
    };

    let app = scratch.path().join("app");
    build(&app, &[]);
    let out = run(&app, Some(&lib_dir));
    assert!(
        out.status.success(),
        "app with LD_LIBRARY_PATH={} failed: {}",
        lib_dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );
    // Without it the loader has no way to the library: the above is what
    // made it work.
    let out = run(&app, None);
    assert!(
        !out.status.success(),
        "app ran without LD_LIBRARY_PATH: is a libappose installed system-wide?"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&soname),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let app_rpath = scratch.path().join("app-rpath");
    build(&app_rpath, &[format!("-Wl,-rpath,{}", lib_dir.display())]);
    let out = run(&app_rpath, None);
    assert!(
        out.status.success(),
        "app with an rpath failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", env!("CARGO_PKG_VERSION"))
    );
}
