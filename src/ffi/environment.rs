//! C ABI for [`crate::environment`].

use std::ffi::c_char;
use std::sync::Arc;

use super::handle::{self, appose_env, appose_service};
use super::{appose_error, appose_status, arg_str, arg_str_array, check_out, guard, string_out};
use crate::Environment;

/// The system environment: executables found on `PATH`, based in the
/// current directory. Free with `appose_env_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_system(
    env_out: *mut *mut appose_env,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        check_out(env_out, "env_out")?;
        let env = Environment::system()?;
        *env_out = handle::insert(Arc::new(env));
        Ok(())
    })
}

/// An existing environment directory, its kind detected as the peers do:
/// `.pixi/` or `pixi.toml` (run through `pixi run`), `conda-meta/` (through
/// `micromamba run`), `pyvenv.cfg` (a venv), else a plain directory whose
/// `bin/` and itself hold the executables. Installs no packages. Free with
/// `appose_env_free`.
///
/// Blocks for a pixi or conda directory when pixi or micromamba is neither
/// in the default envs root nor on `PATH`: until it is downloaded into the
/// envs root (no time limit; connecting gives up after 30 s). Otherwise it
/// only looks at the directory.
#[no_mangle]
pub unsafe extern "C" fn appose_env_wrap(
    dir: *const c_char,
    env_out: *mut *mut appose_env,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let dir = arg_str(dir, "dir")?;
        check_out(env_out, "env_out")?;
        let env = Environment::wrap(dir)?;
        *env_out = handle::insert(Arc::new(env));
        Ok(())
    })
}

/// The environment's base directory (free with `appose_string_free`).
#[no_mangle]
pub unsafe extern "C" fn appose_env_base(
    env: *const appose_env,
    base_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        check_out(base_out, "base_out")?;
        *base_out = string_out(&env.base().to_string_lossy());
        Ok(())
    })
}

/// A Python worker service (not started yet) with the Appose peers' command:
/// the first of `python`, `python3`, `python.exe`, `bin/python`,
/// `bin/python.exe` found, run with `-c "import appose.python_worker; ..."`.
/// `APPOSE_STATUS_NOT_FOUND` when there is none. Free with
/// `appose_service_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_python(
    env: *const appose_env,
    service_out: *mut *mut appose_service,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        check_out(service_out, "service_out")?;
        let service = env.python()?;
        *service_out = handle::insert(service);
        Ok(())
    })
}

/// A service (not started yet) running the first of the `n_candidates`
/// executables found in the environment, followed by the `n_args`
/// arguments. `args` may be NULL when `n_args` is 0.
///
/// A bare name (`python`) is looked for in each of the bin paths; a name
/// with a `/` is relative to the base directory (`bin/python`), and an
/// absolute path (`/usr/bin/python3`) is taken as it is. Each must be an
/// executable file, else the next is tried; when none is,
/// `APPOSE_STATUS_NOT_FOUND` names the candidates and where they were
/// looked for. In an environment with a launcher (`appose_env_launch_args`
/// not empty, e.g. pixi) the first candidate goes to the launcher
/// unchecked, to resolve itself.
#[no_mangle]
pub unsafe extern "C" fn appose_env_service(
    env: *const appose_env,
    candidates: *const *const c_char,
    n_candidates: usize,
    args: *const *const c_char,
    n_args: usize,
    service_out: *mut *mut appose_service,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        let candidates = arg_str_array(candidates, n_candidates, "candidates")?;
        let args = arg_str_array(args, n_args, "args")?;
        check_out(service_out, "service_out")?;
        let names: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let service = env.service(&names, &args)?;
        *service_out = handle::insert(service);
        Ok(())
    })
}

fn lines_json(items: impl Iterator<Item = String>) -> String {
    crate::Value::Array(items.map(crate::Value::String).collect()).to_json()
}

/// The directories searched for executables, as a JSON array of strings.
/// Free with `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_bin_paths(
    env: *const appose_env,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        check_out(json_out, "json_out")?;
        let paths = env
            .bin_paths()
            .iter()
            .map(|p| p.to_string_lossy().into_owned());
        *json_out = string_out(&lines_json(paths));
        Ok(())
    })
}

/// The launcher put before every worker command (`["/.../pixi", "run",
/// "--manifest-path", ...]`; `[]` for none), as a JSON array. Free with
/// `appose_string_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_launch_args(
    env: *const appose_env,
    json_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        check_out(json_out, "json_out")?;
        *json_out = string_out(&lines_json(env.launch_args().iter().cloned()));
        Ok(())
    })
}

/// A Groovy worker service (not started): `java -cp <class path> <jvm_args>
/// org.apposed.appose.GroovyWorker`, `java` found in the environment. The
/// class path is built as appose-java builds it: the jars named by
/// `APPOSE_GROOVY_CLASSPATH` (`:`-separated; an element ending in `*` is
/// every jar of its directory) first, then `classpath`; canonical paths,
/// each once. `APPOSE_STATUS_NOT_FOUND`, naming
/// what is missing, when it lacks the GroovyWorker, Groovy or groovy-json
/// (not checked for an environment with a launcher prefix).
#[no_mangle]
pub unsafe extern "C" fn appose_env_groovy(
    env: *const appose_env,
    classpath: *const *const c_char,
    n_classpath: usize,
    jvm_args: *const *const c_char,
    n_jvm_args: usize,
    service_out: *mut *mut appose_service,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        let cp = arg_str_array(classpath, n_classpath, "classpath")?;
        let jvm = arg_str_array(jvm_args, n_jvm_args, "jvm_args")?;
        check_out(service_out, "service_out")?;
        *service_out = handle::insert(env.groovy(&cp, &jvm)?);
        Ok(())
    })
}

/// A service running a Java main class with the environment's `java`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_java(
    env: *const appose_env,
    main_class: *const c_char,
    classpath: *const *const c_char,
    n_classpath: usize,
    jvm_args: *const *const c_char,
    n_jvm_args: usize,
    service_out: *mut *mut appose_service,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        let main_class = arg_str(main_class, "main_class")?;
        let cp = arg_str_array(classpath, n_classpath, "classpath")?;
        let jvm = arg_str_array(jvm_args, n_jvm_args, "jvm_args")?;
        check_out(service_out, "service_out")?;
        *service_out = handle::insert(env.java(main_class, &cp, &jvm)?);
        Ok(())
    })
}

/// An environment from its parts, as the peers' `Environment` is made:
/// `base` (the workers' working directory), directories of executables
/// (`bin_paths`, searched in order), and a launcher prefix (`launch_args`,
/// e.g. `"srun", "--gpus=1"` or `"ssh", "node7"`) put before every
/// worker's program, which is then named bare for the launcher to find.
/// Free with `appose_env_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_new(
    base: *const c_char,
    bin_paths: *const *const c_char,
    n_bin_paths: usize,
    launch_args: *const *const c_char,
    n_launch_args: usize,
    env_out: *mut *mut appose_env,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let base = arg_str(base, "base")?;
        let bins = arg_str_array(bin_paths, n_bin_paths, "bin_paths")?;
        let launch = arg_str_array(launch_args, n_launch_args, "launch_args")?;
        check_out(env_out, "env_out")?;
        let env = Environment::new(
            base,
            bins.into_iter().map(std::path::PathBuf::from).collect(),
            launch,
            Vec::new(),
        );
        *env_out = handle::insert(Arc::new(env));
        Ok(())
    })
}

/// A service running the environment's python with `args` instead of the
/// worker's (e.g. `"-m", "pip", "list"`), not started; `nargs` 0 gives the
/// worker, as `appose_env_python`. Free with `appose_service_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_python_args(
    env: *const appose_env,
    args: *const *const c_char,
    nargs: usize,
    service_out: *mut *mut appose_service,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        let args = arg_str_array(args, nargs, "args")?;
        check_out(service_out, "service_out")?;
        *service_out = handle::insert(env.python_with(&args)?);
        Ok(())
    })
}

/// The environment's kind, as the peers name it: "pixi", "mamba", "uv" (a
/// venv) or "custom" (any other directory). Static; never free it.
#[no_mangle]
pub unsafe extern "C" fn appose_env_type(
    env: *const appose_env,
    type_out: *mut *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        check_out(type_out, "type_out")?;
        *type_out = kind_name(crate::builder::detect(env.base()));
        Ok(())
    })
}

/// The kind of environment directory `dir` is, as `appose_env_type` names
/// it, without wrapping it. Static; never free it.
#[no_mangle]
pub unsafe extern "C" fn appose_env_dir_type(
    dir: *const c_char,
    type_out: *mut *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let dir = arg_str(dir, "dir")?;
        check_out(type_out, "type_out")?;
        *type_out = kind_name(crate::builder::detect(std::path::Path::new(dir)));
        Ok(())
    })
}

/// Writes 1 to `can_out` when `dir` is an environment a builder recognizes
/// (a pixi project or environment, a conda environment, a venv), else 0;
/// any directory can still be wrapped as a plain one.
#[no_mangle]
pub unsafe extern "C" fn appose_env_can_wrap(
    dir: *const c_char,
    can_out: *mut i32,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let dir = arg_str(dir, "dir")?;
        check_out(can_out, "can_out")?;
        *can_out = i32::from(crate::builder::can_wrap(std::path::Path::new(dir)));
        Ok(())
    })
}

fn kind_name(kind: crate::BuilderKind) -> *const c_char {
    match kind {
        crate::BuilderKind::Uv => c"uv",
        crate::BuilderKind::Pixi => c"pixi",
        crate::BuilderKind::Mamba => c"mamba",
        crate::BuilderKind::Custom | crate::BuilderKind::Dynamic => c"custom",
    }
    .as_ptr()
}

/// A builder for this environment, recovered from the `appose.json` its
/// builder wrote (else from the description in its directory:
/// `pixi.toml`, `pyproject.toml`, `environment.yml`, `requirements.txt`),
/// its base the environment's directory: set an envs root, listeners,
/// then rebuild. `APPOSE_STATUS_NOT_FOUND` when there is nothing to
/// recover it from. Free with `appose_builder_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_builder(
    env: *const appose_env,
    builder_out: *mut *mut super::handle::appose_builder,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        check_out(builder_out, "builder_out")?;
        let b = env.builder()?;
        *builder_out =
            handle::insert::<super::handle::appose_builder>(Arc::new(std::sync::Mutex::new(b)));
        Ok(())
    })
}

/// Deletes the environment's directory and builds it again from its
/// recovered builder (see `appose_env_builder`), with the default envs
/// root for tools. Blocks until the tools finish (minutes). Writes the new
/// environment to `env_out`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_rebuild(
    env: *const appose_env,
    env_out: *mut *mut appose_env,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        check_out(env_out, "env_out")?;
        *env_out = handle::insert(Arc::new(env.rebuild()?));
        Ok(())
    })
}

/// The named sub-environment `name` (e.g. "gpu") of a pixi environment,
/// installed if needed (`pixi install --environment name`): its workers run
/// through `pixi run --environment name`. Blocks until pixi finishes
/// installing it. `APPOSE_STATUS_INVALID_STATE` for other kinds. Free the
/// new environment with `appose_env_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_activate(
    env: *const appose_env,
    name: *const c_char,
    env_out: *mut *mut appose_env,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let env = handle::get(env)?;
        let name = arg_str(name, "name")?;
        check_out(env_out, "env_out")?;
        *env_out = handle::insert(Arc::new(env.activate(name)?));
        Ok(())
    })
}

/// Deletes the environment's directory, as `appose_builder_delete` does
/// (only a directory that is an environment). Runs no tool.
#[no_mangle]
pub extern "C" fn appose_env_delete(
    env: *const appose_env,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        handle::get(env)?.delete()?;
        Ok(())
    })
}

/// A new handle to the same environment (e.g. to keep the `env` of an
/// APPOSE_EVENT_BUILT beyond its batch). Free it with `appose_env_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_clone(
    env: *const appose_env,
    env_out: *mut *mut appose_env,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let e = handle::get(env)?;
        check_out(env_out, "env_out")?;
        *env_out = handle::insert::<appose_env>(e);
        Ok(())
    })
}

/// Frees an environment handle. NULL is a no-op; a handle freed already gives
/// `APPOSE_STATUS_INVALID_HANDLE`. Services made from it are unaffected.
#[no_mangle]
pub extern "C" fn appose_env_free(env: *mut appose_env) -> appose_status {
    guard(std::ptr::null_mut(), || handle::remove(env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;
    use std::ptr;

    #[test]
    fn an_environment_from_its_parts_runs_workers_through_its_launcher() {
        let base = CString::new("/srv/env").unwrap();
        let bins = [CString::new("/srv/env/bin").unwrap()];
        let launch = [
            CString::new("srun").unwrap(),
            CString::new("--gpus=1").unwrap(),
        ];
        let bin_ptrs: Vec<*const c_char> = bins.iter().map(|c| c.as_ptr()).collect();
        let launch_ptrs: Vec<*const c_char> = launch.iter().map(|c| c.as_ptr()).collect();
        let mut env = ptr::null_mut();
        // SAFETY: live strings and arrays of the given lengths.
        let st = unsafe {
            appose_env_new(
                base.as_ptr(),
                bin_ptrs.as_ptr(),
                1,
                launch_ptrs.as_ptr(),
                2,
                &mut env,
                ptr::null_mut(),
            )
        };
        assert_eq!(st, appose_status::APPOSE_STATUS_OK);
        let Ok(e) = handle::get(env) else {
            panic!("no environment handle")
        };
        let svc = e.python().unwrap();
        assert_eq!(svc.argv()[..3], ["srun", "--gpus=1", "python"]);
        assert!(appose_env_free(env) == appose_status::APPOSE_STATUS_OK);
    }
}
