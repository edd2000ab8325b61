//! Builders. uv builds are real (uv from PyPI, installed in the test
//! environment, linked into the envs root). pixi and micromamba cannot reach
//! conda-forge here: stand-in executables record their argv and lay out the
//! directories the real tools would, and the worker then really runs through
//! them as a launcher. The real tools are exercised when they are on PATH.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use appose::{Builder, BuilderKind, Environment, ErrorKind, Value};
use common::{eventually, pid_alive, python_env, Closing};

const LONG: Option<Duration> = Some(Duration::from_secs(120));

fn write_exe(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// An envs root whose `.uv/bin/uv` is the real uv of the test environment.
fn uv_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let uv = python_env().join("bin/uv");
    assert!(uv.exists(), "the test environment has uv");
    std::fs::create_dir_all(root.path().join(".uv/bin")).unwrap();
    std::os::unix::fs::symlink(uv, root.path().join(".uv/bin/uv")).unwrap();
    root
}

fn run_task(env: &Environment, script: &str) -> Value {
    let svc = Closing(env.python().unwrap());
    let task = svc.task(script, None, None).unwrap();
    task.wait(LONG).unwrap_or_else(|e| panic!("{e}"));
    task.result().unwrap_or(Value::Null)
}

#[test]
fn uv_builds_from_requirements_and_reuses_the_environment() {
    let root = uv_root();
    let reqs = "appose==0.12.0\nnumpy==2.2.6\n";
    let lines = Arc::new(Mutex::new(0usize));
    let make = || {
        let mut b = Builder::new(BuilderKind::Uv);
        let sink = lines.clone();
        b.envs_root(root.path())
            .name("numpy-env")
            .unwrap()
            .content(reqs)
            .on_output(Box::new(move |_| *sink.lock().unwrap() += 1))
            .on_error(Box::new(|_| {}));
        b
    };
    let t0 = Instant::now();
    let env = make().build().unwrap();
    let first = t0.elapsed();
    let dir = root.path().join("numpy-env");
    assert_eq!(env.base(), dir.as_path());
    assert_eq!(env.bin_paths(), &[dir.join("bin")]);
    assert_eq!(
        std::fs::read_to_string(dir.join("requirements.txt")).unwrap(),
        reqs
    );
    let state = std::fs::read_to_string(dir.join("appose.json")).unwrap();
    assert!(state.starts_with(r#"{"builder":"uv","content":"appose==0.12.0\nnumpy==2.2.6\n""#));
    assert_eq!(
        run_task(&env, "import numpy as np\nint(np.arange(10).sum())"),
        Value::from(45i64)
    );

    // The same spec again: no tool runs at all.
    let mtime = std::fs::metadata(dir.join("appose.json"))
        .unwrap()
        .modified()
        .unwrap();
    let before = *lines.lock().unwrap();
    let t1 = Instant::now();
    let again = make().build().unwrap();
    let second = t1.elapsed();
    assert_eq!(again, env);
    assert_eq!(
        *lines.lock().unwrap(),
        before,
        "the second build ran a tool"
    );
    assert_eq!(
        std::fs::metadata(dir.join("appose.json"))
            .unwrap()
            .modified()
            .unwrap(),
        mtime
    );
    println!("uv build from requirements.txt: first {first:?}, unchanged rebuild {second:?}");
    assert!(second < first);

    // Reuse needs no tool: from an envs root without uv and with nowhere to
    // download it from (offline, or a read-only share), the unchanged
    // environment is still used as it is.
    let elsewhere = tempfile::tempdir().unwrap();
    let mut offline = Builder::new(BuilderKind::Uv);
    offline
        .envs_root(elsewhere.path())
        .base(&dir)
        .content(reqs)
        .tool_mirror("http://127.0.0.1:9");
    assert_eq!(offline.build().unwrap(), env);
    assert_eq!(
        std::fs::read_dir(elsewhere.path()).unwrap().count(),
        0,
        "reusing the environment fetched or installed uv"
    );

    // A changed spec is rebuilt.
    let mut changed = make();
    changed.content("appose==0.12.0\n");
    changed.build().unwrap();
    assert!(std::fs::read_to_string(dir.join("appose.json"))
        .unwrap()
        .contains(r#""content":"appose==0.12.0\n""#));
}

#[test]
fn uv_builds_a_pyproject_with_uv_sync() {
    let root = uv_root();
    let mut b = Builder::new(BuilderKind::Dynamic);
    b.envs_root(root.path())
        .scheme("pyproject.toml")
        .unwrap()
        .content(
            "[project]\nname = \"sync-env\"\nversion = \"0.1.0\"\nrequires-python = \">=3.10\"\n\
         dependencies = [\"appose==0.12.0\"]\n",
        );
    // A pyproject.toml goes to pixi by the peers' priorities; ask for uv.
    assert_eq!(b.resolved_kind().unwrap(), BuilderKind::Pixi);
    let mut b2 = Builder::new(BuilderKind::Uv);
    b2.envs_root(root.path()).content(
        "[project]\nname = \"sync-env\"\nversion = \"0.1.0\"\nrequires-python = \">=3.10\"\n\
         dependencies = [\"appose==0.12.0\"]\n",
    );
    let env = b2.build().unwrap();
    let dir = root.path().join("sync-env");
    assert_eq!(env.bin_paths(), &[dir.join(".venv/bin")]);
    assert!(dir.join("uv.lock").exists());
    assert_eq!(
        run_task(&env, "import appose\nappose.__version__"),
        Value::from("0.12.0")
    );
}

#[test]
fn uv_builds_programmatically() {
    let root = uv_root();
    let mut b = Builder::new(BuilderKind::Uv);
    b.envs_root(root.path())
        .name("prog")
        .unwrap()
        .package("appose==0.12.0");
    let env = b.build().unwrap();
    assert_eq!(
        run_task(&env, "import sys\nsys.prefix"),
        Value::from(root.path().join("prog").to_str().unwrap())
    );
    let state = std::fs::read_to_string(root.path().join("prog/appose.json")).unwrap();
    assert!(
        state.ends_with(r#""pythonVersion":null,"packages":["appose==0.12.0"]}"#),
        "{state}"
    );
}

#[test]
fn content_of_the_wrong_kind_is_refused_before_any_tool_is_fetched() {
    // An empty envs root and an unreachable mirror: any fetch would fail
    // with NotFound, so InvalidArgument proves nothing was fetched.
    let root = tempfile::tempdir().unwrap();
    let yml = "name: x\nchannels:\n  - conda-forge\ndependencies:\n  - python\n";
    let mut uv = Builder::new(BuilderKind::Uv);
    uv.envs_root(root.path())
        .tool_mirror("http://127.0.0.1:9")
        .content(yml);
    let err = uv.build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(
        err.message().contains("requirements.txt or pyproject.toml"),
        "{err}"
    );

    let mut mamba = Builder::new(BuilderKind::Mamba);
    mamba
        .envs_root(root.path())
        .tool_mirror("http://127.0.0.1:9")
        .name("m")
        .unwrap()
        .content("numpy\n");
    assert_eq!(
        mamba.build().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );

    let mut pixi = Builder::new(BuilderKind::Pixi);
    pixi.envs_root(root.path())
        .tool_mirror("http://127.0.0.1:9")
        .name("p")
        .unwrap()
        .conda("python");
    let err = pixi.build().unwrap_err();
    assert!(err.message().contains("add the appose package"), "{err}");

    let mut dynamic = Builder::new(BuilderKind::Dynamic);
    dynamic
        .envs_root(root.path())
        .content("%%% not an environment %%%");
    assert_eq!(
        dynamic.build().unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(
        std::fs::read_dir(root.path()).unwrap().count(),
        0,
        "nothing was written"
    );
}

/// A pixi stand-in: records its argv, lays out `.pixi/envs/<env>/bin/python`
/// (a wrapper around the test environment's python) on install, and on `run`
/// starts the command as a child, the way pixi does.
fn pixi_standin(root: &Path) -> PathBuf {
    let exe = root.join(".pixi/bin/pixi");
    let python = python_env().join("bin/python");
    write_exe(
        &exe,
        &format!(
            r#"#!/bin/sh
echo "pixi $*" >> "{log}"
while [ "${{1#-}}" != "$1" ]; do shift; done
cmd=$1; shift
manifest=""; env=default
case "$cmd" in
  init)
    if [ "$1" = "--import" ]; then dir=$3; else dir=$1; fi
    mkdir -p "$dir"
    [ -f "$dir/pixi.toml" ] || printf '[workspace]\nname = "made"\n\n[dependencies]\n' > "$dir/pixi.toml"
    ;;
  install|run)
    while [ $# -gt 0 ]; do
      case "$1" in
        --manifest-path) manifest=$2; shift 2;;
        --environment) env=$2; shift 2;;
        *) break;;
      esac
    done
    bin="$(dirname "$manifest")/.pixi/envs/$env/bin"
    if [ "$cmd" = install ]; then
      mkdir -p "$bin"
      printf '#!/bin/sh\nexec "{python}" "$@"\n' > "$bin/python"
      chmod +x "$bin/python"
      echo " DEBUG solve{{group=default}}: fetched 10 records in 0.1s" >&2
      echo " INFO resolved conda environment for solve group 'default'" >&2
      echo "✔ The $env environment has been installed." >&2
    else
      PATH="$bin:$PATH" "$@"
      exit $?
    fi
    ;;
esac
"#,
            log = root.join("calls.log").display(),
            python = python.display()
        ),
    );
    exe
}

/// A micromamba stand-in, in the same spirit.
fn micromamba_standin(root: &Path) -> PathBuf {
    let exe = root.join(".mamba/bin/micromamba");
    let python = python_env().join("bin/python");
    write_exe(
        &exe,
        &format!(
            r#"#!/bin/sh
echo "micromamba $*" >> "{log}"
case "$1" in
  create) mkdir -p "$3/conda-meta";;
  env) mkdir -p "$5/bin"; printf '#!/bin/sh\nexec "{python}" "$@"\n' > "$5/bin/python"; chmod +x "$5/bin/python";;
  run) prefix=$3; shift 3; PATH="$prefix/bin:$PATH" "$@"; exit $?;;
esac
"#,
            log = root.join("calls.log").display(),
            python = python.display()
        ),
    );
    exe
}

fn calls(root: &Path) -> Vec<String> {
    std::fs::read_to_string(root.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

const PIXI_TOML: &str = "[workspace]\nname = \"cells\"\nchannels = [\"conda-forge\"]\n\
                         platforms = [\"linux-64\"]\n\n[dependencies]\npython = \">=3.10\"\n\n\
                         [pypi-dependencies]\nappose = \"==0.12.0\"\n";

#[test]
fn pixi_from_a_manifest_runs_the_worker_through_pixi_run() {
    let root = tempfile::tempdir().unwrap();
    let pixi = pixi_standin(root.path());
    let progress = Arc::new(Mutex::new(Vec::new()));
    let (errors, outputs) = (
        Arc::new(Mutex::new(Vec::new())),
        Arc::new(Mutex::new(Vec::new())),
    );
    let (p, e, o) = (progress.clone(), errors.clone(), outputs.clone());
    let mut b = Builder::new(BuilderKind::Dynamic);
    b.envs_root(root.path())
        .content(PIXI_TOML)
        .on_progress(Box::new(move |t, c, m| {
            p.lock().unwrap().push((t.to_owned(), c, m))
        }))
        .on_error(Box::new(move |l| e.lock().unwrap().push(l.to_owned())))
        .on_output(Box::new(move |l| o.lock().unwrap().push(l.to_owned())));
    let env = b.build().unwrap();
    let dir = root.path().join("cells");
    let manifest = dir.join("pixi.toml");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), PIXI_TOML);
    assert_eq!(
        calls(root.path()),
        [format!(
            "pixi -vv install --manifest-path {}",
            manifest.display()
        )]
    );
    assert_eq!(
        env.launch_args(),
        [
            pixi.to_str().unwrap(),
            "run",
            "--manifest-path",
            manifest.to_str().unwrap()
        ]
    );
    assert_eq!(env.bin_paths(), &[dir.join(".pixi/envs/default/bin")]);
    assert!(progress
        .lock()
        .unwrap()
        .contains(&("Solving".to_owned(), 1, 1)));
    // pixi's success message is output, not an error.
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
    assert!(outputs
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("has been installed")));

    let svc = Closing(env.python().unwrap());
    assert_eq!(
        svc.argv()[..5],
        [
            pixi.to_str().unwrap(),
            "run",
            "--manifest-path",
            manifest.to_str().unwrap(),
            "python"
        ]
    );
    let t = svc
        .task("import appose\nappose.__version__", None, None)
        .unwrap();
    t.wait(LONG).unwrap();
    assert_eq!(t.result(), Some(Value::from("0.12.0")));
    drop(svc);
    let runs = calls(root.path());
    assert!(runs[1].starts_with("pixi run --manifest-path"), "{runs:?}");

    // Unchanged: no pixi call at all.
    let mut again = Builder::new(BuilderKind::Pixi);
    again
        .envs_root(root.path())
        .content(PIXI_TOML)
        .on_progress(Box::new(|_, _, _| {}));
    again.build().unwrap();
    assert_eq!(calls(root.path()), runs);
}

#[test]
fn pixi_imports_environment_yml_and_builds_programmatically() {
    let root = tempfile::tempdir().unwrap();
    pixi_standin(root.path());
    let yml = "name: imported\nchannels:\n  - conda-forge\ndependencies:\n  - python\n  - pip:\n    - appose\n";
    let mut b = Builder::new(BuilderKind::Pixi);
    b.envs_root(root.path()).content(yml);
    b.build().unwrap();
    let dir = root.path().join("imported");
    assert_eq!(
        calls(root.path()),
        [
            format!(
                "pixi init --import {}/environment.yml {}",
                dir.display(),
                dir.display()
            ),
            format!("pixi install --manifest-path {}/pixi.toml", dir.display()),
        ]
    );

    let root = tempfile::tempdir().unwrap();
    pixi_standin(root.path());
    let mut b = Builder::new(BuilderKind::Pixi);
    b.envs_root(root.path())
        .name("prog")
        .unwrap()
        .channel("conda-forge")
        .conda("python=3.11")
        .conda("numpy")
        .pypi("appose==0.12.0")
        .pixi_environment("gpu")
        .flag("--frozen");
    let env = b.build().unwrap();
    let d = root.path().join("prog");
    let m = format!("{}/pixi.toml", d.display());
    assert_eq!(
        calls(root.path()),
        [
            format!("pixi --frozen init {}", d.display()),
            format!("pixi --frozen project channel add --manifest-path {m} conda-forge"),
            format!("pixi --frozen add --manifest-path {m} python=3.11 numpy"),
            format!("pixi --frozen add --pypi --manifest-path {m} appose==0.12.0"),
            format!("pixi --frozen install --manifest-path {m} --environment gpu"),
        ]
    );
    assert_eq!(env.launch_args()[4..], ["--environment", "gpu"]);
    assert_eq!(env.bin_paths(), &[d.join(".pixi/envs/gpu/bin")]);
    assert_eq!(run_task(&env, "1 + 1"), Value::from(2i64));
}

#[test]
fn micromamba_creates_updates_and_runs() {
    let root = tempfile::tempdir().unwrap();
    let mm = micromamba_standin(root.path());
    let yml = "name: conda-cells\nchannels:\n  - conda-forge\ndependencies:\n  - python\n";
    let mut b = Builder::new(BuilderKind::Mamba);
    b.envs_root(root.path()).content(yml);
    let env = b.build().unwrap();
    let d = root.path().join("conda-cells");
    assert_eq!(
        calls(root.path()),
        [
            format!("micromamba create --prefix {} -y --no-rc", d.display()),
            format!(
                "micromamba env update -y --prefix {} -f {}/environment.yml",
                d.display(),
                d.display()
            ),
        ]
    );
    assert_eq!(
        env.launch_args(),
        [mm.to_str().unwrap(), "run", "-p", d.to_str().unwrap()]
    );
    assert_eq!(
        run_task(&env, "'through micromamba run'"),
        Value::from("through micromamba run")
    );
    // Wrapping the directory finds the same launcher.
    let w = appose::builder::wrap(&d, Some(root.path())).unwrap();
    assert_eq!(w.launch_args(), env.launch_args());
}

#[test]
fn kill_ends_the_launcher_and_the_worker_behind_it() {
    let root = tempfile::tempdir().unwrap();
    pixi_standin(root.path());
    let mut b = Builder::new(BuilderKind::Pixi);
    b.envs_root(root.path()).content(PIXI_TOML);
    let env = b.build().unwrap();
    let svc = Closing(env.python().unwrap());
    let t = svc
        .task("import os\n[os.getpid(), os.getppid()]", None, None)
        .unwrap();
    t.wait(LONG).unwrap();
    let Some(pids) = t.result().and_then(Value::into_array) else {
        panic!("no pids")
    };
    let (worker, launcher) = (pids[0].as_i64().unwrap(), pids[1].as_i64().unwrap());
    assert!(pid_alive(worker) && pid_alive(launcher));
    assert_ne!(
        worker, launcher,
        "the stand-in runs the worker as its child, like pixi"
    );
    let running = svc
        .task("import time\ntime.sleep(300)", None, None)
        .unwrap();
    running.start().unwrap();
    svc.kill();
    assert_eq!(
        running.wait(LONG).unwrap_err().kind(),
        ErrorKind::TaskCrashed
    );
    assert!(
        eventually(Duration::from_secs(5), || !pid_alive(worker)),
        "the worker behind the launcher survived"
    );
    assert!(!pid_alive(launcher));
}

#[test]
fn custom_environments_use_directories_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    let mut b = Builder::new(BuilderKind::Custom);
    b.base(dir.path())
        .bin_path(python_env().join("bin"))
        .env_var("APPOSE_TEST_MARK", "custom-env")
        .unwrap();
    let env = b.build().unwrap();
    assert_eq!(env.bin_paths()[0], dir.path().join("bin"));
    assert_eq!(
        run_task(&env, "import os\nos.environ['APPOSE_TEST_MARK']"),
        Value::from("custom-env")
    );
    assert_eq!(b.rebuild().unwrap_err().kind(), ErrorKind::InvalidState);
}

/// A real tool, when this machine has it (it cannot reach conda-forge
/// otherwise, so the tests' setup does not install it); a skip otherwise.
fn real_tool_when_present(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        common::skip(&format!("the real {tool}: it is not on PATH"));
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let mut b = Builder::new(BuilderKind::from_name(tool).unwrap());
    b.envs_root(root.path()).name("real").unwrap();
    if tool == "pixi" {
        b.conda("python").pypi("appose==0.12.0");
    } else {
        b.content("name: real\nchannels:\n  - conda-forge\ndependencies:\n  - python\n  - pip\n  - pip:\n    - appose==0.12.0\n");
    }
    let env = b.build().unwrap();
    assert_eq!(run_task(&env, "6 * 7"), Value::from(42i64));
}

#[test]
fn real_pixi_when_present() {
    real_tool_when_present("pixi");
}

#[test]
fn real_micromamba_when_present() {
    real_tool_when_present("micromamba");
}

/// A user's directory: one file that must survive whatever the builder does.
fn user_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("thesis.txt"), "years of work").unwrap();
    dir
}

fn survives(dir: &Path) {
    assert_eq!(
        std::fs::read_to_string(dir.join("thesis.txt")).unwrap(),
        "years of work",
        "the user's file in {} is gone",
        dir.display()
    );
}

/// `rebuild`, `delete`, and the mamba and pixi builders starting over, on a
/// directory that is not an environment: refused, with the reason, and the
/// user's file is still there.
#[test]
fn a_directory_that_is_not_an_environment_is_never_deleted() {
    let root = tempfile::tempdir().unwrap();
    micromamba_standin(root.path());
    pixi_standin(root.path());
    let user = user_dir();
    // Its real path, so that the message names it as given.
    let user_path = user.path().canonicalize().unwrap();
    let refused = |e: appose::Error, verb: &str| {
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        let msg = e.message();
        assert!(
            msg.starts_with(&format!("refusing to {verb} {}: ", user_path.display())),
            "{msg}"
        );
        assert!(
            msg.contains("it is not an environment (no appose.json, ")
                && msg.contains("conda-meta/")
                && msg.contains("pyvenv.cfg")
                && msg.ends_with(") and not empty"),
            "{msg}"
        );
    };

    let mut b = Builder::new(BuilderKind::Uv);
    b.envs_root(root.path())
        .base(&user_path)
        .content("appose\n");
    refused(b.delete().unwrap_err(), "delete");
    survives(user.path());
    refused(b.rebuild().unwrap_err(), "delete");
    survives(user.path());

    // The mamba builder clears a directory it is to build afresh.
    let mut b = Builder::new(BuilderKind::Mamba);
    b.envs_root(root.path())
        .base(&user_path)
        .content("name: x\ndependencies:\n  - python\n");
    refused(b.build().unwrap_err(), "clear");
    survives(user.path());

    // So does the pixi builder, given packages rather than a manifest.
    let mut b = Builder::new(BuilderKind::Pixi);
    b.envs_root(root.path())
        .base(&user_path)
        .conda("python")
        .pypi("appose");
    refused(b.build().unwrap_err(), "clear");
    survives(user.path());
    assert!(
        calls(root.path()).is_empty(),
        "no tool ran: {:?}",
        calls(root.path())
    );
}

/// What is an environment (or empty) is deleted, as before; a missing
/// directory is nothing to delete; a rebuild starts from nothing.
#[test]
fn environments_and_empty_directories_are_deleted() {
    let root = tempfile::tempdir().unwrap();
    let delete = |dir: &Path| {
        let mut b = Builder::new(BuilderKind::Uv);
        b.envs_root(root.path()).base(dir);
        b.delete()
    };
    for marker in [
        "appose.json",
        "pyvenv.cfg",
        "conda-meta/",
        ".pixi/",
        "pixi.toml",
    ] {
        let dir = root.path().join("env");
        std::fs::create_dir_all(dir.join("lib/site-packages")).unwrap();
        std::fs::write(dir.join("lib/site-packages/mod.py"), "").unwrap();
        match marker.strip_suffix('/') {
            Some(d) => std::fs::create_dir(dir.join(d)).unwrap(),
            None => std::fs::write(dir.join(marker), "{}").unwrap(),
        }
        delete(&dir).unwrap_or_else(|e| panic!("{marker}: {e}"));
        assert!(!dir.exists(), "an environment with {marker} survived");
    }
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    delete(&empty).unwrap();
    assert!(!empty.exists());
    delete(&root.path().join("never-made")).unwrap();

    // rebuild: a real uv venv, something stray put in it, built again.
    let root = uv_root();
    let dir = root.path().join("venv");
    let mut b = Builder::new(BuilderKind::Uv);
    b.envs_root(root.path()).base(&dir);
    b.build().unwrap();
    std::fs::write(dir.join("stray.txt"), "").unwrap();
    let env = b.rebuild().unwrap();
    assert!(
        !dir.join("stray.txt").exists(),
        "rebuild kept the old directory"
    );
    assert!(dir.join("pyvenv.cfg").is_file() && dir.join("appose.json").is_file());
    assert_eq!(env.bin_paths(), &[dir.join("bin")]);
}

/// A base that is a symlink is judged by what it leads to: a link to a
/// user's directory is refused (and kept), a link to an environment empties
/// the environment and keeps the link and its target directory, so the
/// rebuild goes where the link says.
#[test]
fn a_symlink_base_is_judged_by_its_target() {
    let root = tempfile::tempdir().unwrap();
    let user = user_dir();
    let link = root.path().join("link");
    std::os::unix::fs::symlink(user.path(), &link).unwrap();
    let mut b = Builder::new(BuilderKind::Uv);
    b.envs_root(root.path()).base(&link);
    let e = b.delete().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
    assert!(
        e.message().starts_with(&format!(
            "refusing to delete {} (a link to {}): it is not an environment",
            link.display(),
            user.path().canonicalize().unwrap().display()
        )),
        "{e}"
    );
    survives(user.path());
    assert!(link.is_symlink());

    let env = root.path().join("real-env");
    std::fs::create_dir_all(env.join("bin")).unwrap();
    std::fs::write(env.join("appose.json"), "{}").unwrap();
    std::fs::remove_file(&link).unwrap();
    std::os::unix::fs::symlink(&env, &link).unwrap();
    b.delete().unwrap();
    assert!(link.is_symlink() && env.is_dir());
    assert_eq!(std::fs::read_dir(&env).unwrap().count(), 0);
}

/// `base(".")`, `base("..")` and `base($HOME)` in a process whose current
/// directory and `HOME` are scratch directories (changing them here would
/// affect the other tests of this binary): each refused, nothing deleted.
/// `/` and the real home are only ever checked by the unit tests.
#[test]
fn the_current_directory_home_and_their_ancestors_are_refused() {
    const CHILD: &str = "APPOSE_TEST_DELETE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        // The child: try each base given, report what happened.
        let root = tempfile::tempdir().unwrap();
        for base in std::env::var(CHILD).unwrap().split('|') {
            let mut b = Builder::new(BuilderKind::Uv);
            b.envs_root(root.path()).base(base);
            match b.delete() {
                Ok(()) => println!("RESULT {base} => deleted"),
                Err(e) => println!("RESULT {base} => {:?}: {}", e.kind(), e.message()),
            }
        }
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tmp_path = tmp.path().canonicalize().unwrap();
    let cwd = tmp_path.join("work/here");
    let home = tmp_path.join("home");
    for dir in [&cwd, &home] {
        std::fs::create_dir_all(dir).unwrap();
        // Environments by their looks, so only the location guards them.
        std::fs::write(dir.join("appose.json"), "{}").unwrap();
        std::fs::write(dir.join("thesis.txt"), "years of work").unwrap();
    }
    let (tmp_s, cwd_s, home_s) = (
        tmp_path.to_str().unwrap(),
        cwd.to_str().unwrap(),
        home.to_str().unwrap(),
    );
    let bases = [".", "..", "../here", home_s, &format!("{home_s}/..")];
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "the_current_directory_home_and_their_ancestors_are_refused",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, bases.join("|"))
        .env("HOME", &home)
        .current_dir(&cwd)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<&str> = stdout
        .lines()
        // The test harness may print its own text before ours on a line.
        .filter_map(|l| l.split_once("RESULT ").map(|(_, r)| r))
        .collect();
    let refused = "InvalidArgument: refusing to delete";
    let expect = [
        format!(". => {refused} . ({cwd_s}): it is the current directory"),
        format!(".. => {refused} .. ({tmp_s}/work): it holds the current directory ({cwd_s})"),
        format!("../here => {refused} ../here ({cwd_s}): it is the current directory"),
        format!("{home_s} => {refused} {home_s}: it is the home directory"),
        format!("{home_s}/.. => {refused} {home_s}/.. ({tmp_s}): it holds the current directory ({cwd_s})"),
    ];
    assert_eq!(results, expect, "{stdout}");
    survives(&cwd);
    survives(&home);
}

#[test]
fn a_custom_builder_refuses_what_it_would_ignore() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = Builder::new(BuilderKind::Custom);
    b.base(dir.path()).channel("conda-forge").package("numpy");
    let e = b.build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidState);
    assert!(
        e.message().contains("channels, packages"),
        "{}",
        e.message()
    );
    let mut b = Builder::new(BuilderKind::Custom);
    b.name("x").unwrap();
    let e = b.build().unwrap_err();
    assert!(e.message().contains("name"), "{}", e.message());
}

#[test]
fn an_environment_without_appose_is_allowed_but_said_so_at_build_and_at_the_first_task() {
    let root = uv_root();
    let warnings = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = warnings.clone();
    let mut b = Builder::new(BuilderKind::Uv);
    // Requirements without appose: a venv it is missing from.
    b.envs_root(root.path())
        .name("no-appose")
        .unwrap()
        .content("six==1.16.0\n")
        .on_error(Box::new(move |l| sink.lock().unwrap().push(l.to_owned())));
    let env = b.build().unwrap();
    assert!(
        warnings
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("do not name appose")),
        "{:?}",
        warnings.lock().unwrap()
    );
    let svc = Closing(env.python().unwrap());
    let t = svc.task("1", None, None).unwrap();
    let e = t.wait(LONG).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TaskCrashed);
    assert!(
        e.message().contains(&format!(
            "appose is not installed in {}: add appose to its requirements",
            env.base().display()
        )),
        "{}",
        e.message()
    );
}

#[test]
fn a_cold_uv_build_gives_progress_and_keeps_ordinary_output_out_of_errors() {
    let root = uv_root();
    let progress = Arc::new(Mutex::new(Vec::<(String, u64, u64)>::new()));
    let (out, err) = (
        Arc::new(Mutex::new(Vec::<String>::new())),
        Arc::new(Mutex::new(Vec::<String>::new())),
    );
    let (p, o, e) = (progress.clone(), out.clone(), err.clone());
    let mut b = Builder::new(BuilderKind::Uv);
    b.envs_root(root.path())
        .name("progress-env")
        .unwrap()
        .content("appose==0.12.0\n")
        .on_progress(Box::new(move |t, c, m| {
            p.lock().unwrap().push((t.to_owned(), c, m))
        }))
        .on_output(Box::new(move |l| o.lock().unwrap().push(l.to_owned())))
        .on_error(Box::new(move |l| e.lock().unwrap().push(l.to_owned())));
    b.build().unwrap();
    let titles: Vec<String> = progress
        .lock()
        .unwrap()
        .iter()
        .map(|p| p.0.clone())
        .collect();
    assert_eq!(
        titles,
        [
            "Creating the virtual environment",
            "Installing packages",
            "Environment ready"
        ],
        "{:?}",
        progress.lock().unwrap()
    );
    assert_eq!(
        progress.lock().unwrap().last().map(|p| (p.1, p.2)),
        Some((2, 2))
    );
    let err = err.lock().unwrap();
    assert!(
        !err.iter()
            .any(|l| l.starts_with("Resolved ") || l.starts_with("Installed ")),
        "uv's status lines reached the error listeners: {err:?}"
    );
    assert!(
        out.lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("Installed ") || l.starts_with("Audited ")),
        "{:?}",
        out.lock().unwrap()
    );
}

#[test]
fn an_envs_root_that_cannot_be_written_is_named_first() {
    // A path under a regular file: not writable even for root.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("file"), "").unwrap();
    let root = tmp.path().join("file").join("envs");
    for kind in [BuilderKind::Uv, BuilderKind::Pixi, BuilderKind::Mamba] {
        let mut b = Builder::new(kind);
        b.envs_root(&root).name("x").unwrap();
        if kind == BuilderKind::Uv {
            b.content("appose==0.12.0\n");
        } else if kind == BuilderKind::Pixi {
            b.conda("python").pypi("appose==0.12.0");
        } else {
            b.content("name: x\ndependencies:\n  - python\n  - pip:\n    - appose==0.12.0\n");
        }
        let e = b.build().unwrap_err();
        assert!(
            e.message().starts_with(&format!(
                "the envs root {} cannot be written",
                root.display()
            )),
            "{kind:?}: {}",
            e.message()
        );
    }
}

#[test]
fn an_environment_rebuilds_and_deletes_itself_from_what_its_builder_wrote() {
    let root = uv_root();
    let mut b = Builder::new(BuilderKind::Uv);
    b.envs_root(root.path())
        .name("self-rebuild")
        .unwrap()
        .content("appose==0.12.0\n");
    let env = b.build().unwrap();
    let wrapped = Environment::wrap(env.base()).unwrap();
    // Recovered from appose.json: the same configuration, the same place.
    let mut again = wrapped.builder().unwrap();
    again.envs_root(root.path()); // where this test's uv lives
    std::fs::write(env.base().join("marker"), "").unwrap();
    let rebuilt = again.rebuild().unwrap();
    assert_eq!(rebuilt.base(), env.base());
    assert!(!env.base().join("marker").exists(), "rebuilt from scratch");
    assert_eq!(run_task(&rebuilt, "6 * 7"), Value::from(42i64));
    // delete() needs no tool.
    wrapped.delete().unwrap();
    assert!(!env.base().join("appose.json").exists());
}

#[test]
fn a_pixi_sub_environment_is_installed_and_activated() {
    let root = tempfile::tempdir().unwrap();
    let pixi = pixi_standin(root.path());
    let mut b = Builder::new(BuilderKind::Dynamic);
    b.envs_root(root.path()).content(PIXI_TOML);
    let env = b.build().unwrap();
    let dir = root.path().join("cells");
    let manifest = dir.join("pixi.toml");
    let gpu = appose::builder::activate(&dir, "gpu", Some(root.path())).unwrap();
    assert_eq!(
        calls(root.path()).last().unwrap(),
        &format!(
            "pixi install --manifest-path {} --environment gpu",
            manifest.display()
        )
    );
    assert_eq!(
        gpu.launch_args(),
        [
            pixi.to_str().unwrap(),
            "run",
            "--manifest-path",
            manifest.to_str().unwrap(),
            "--environment",
            "gpu"
        ]
    );
    assert_eq!(gpu.bin_paths(), &[dir.join(".pixi/envs/gpu/bin")]);
    assert_eq!(run_task(&gpu, "6 * 7"), Value::from(42i64));
    // Only pixi environments have named sub-environments.
    let venv = Environment::wrap(python_env()).unwrap();
    assert_eq!(
        venv.activate("gpu").unwrap_err().kind(),
        ErrorKind::InvalidState
    );
    drop(env);
}
