//! C ABI for [`crate::builder`].

use std::ffi::{c_char, c_void};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use super::handle::{self, appose_builder, appose_env};
use super::{
    appose_error, appose_status, appose_userdata_free, arg_opt_str, arg_str, check_out, guard,
    to_cstring, FfiError, FfiResult, UserData,
};
use crate::builder::{Builder, BuilderKind};

/// Receives build progress: a title ("Downloading uv", "Solving", ...), the
/// current amount and the maximum (0 when unknown). Runs on the thread
/// calling `appose_builder_build`; `title` lives for the call only.
pub type appose_progress_listener = Option<
    unsafe extern "C" fn(userdata: *mut c_void, title: *const c_char, current: u64, maximum: u64),
>;

/// Receives one line of a tool's output or error output, on the thread
/// calling `appose_builder_build`; `line` lives for the call only.
pub type appose_line_listener =
    Option<unsafe extern "C" fn(userdata: *mut c_void, line: *const c_char)>;

/// The builder behind `b`, locked. A builder that is building (e.g. called
/// from its own callback) is refused rather than deadlocked on.
fn locked(b: &Arc<Mutex<Builder>>) -> FfiResult<MutexGuard<'_, Builder>> {
    match b.try_lock() {
        Ok(g) => Ok(g),
        Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
        Err(TryLockError::WouldBlock) => Err(FfiError::new(
            appose_status::APPOSE_STATUS_INVALID_STATE,
            "the builder is busy building (is this call inside one of its callbacks?)",
        )),
    }
}

/// A new builder of `kind`: "uv", "pixi", "mamba", "custom", or "dynamic"
/// (also NULL), which picks uv, pixi or mamba from the scheme or content.
/// Free with `appose_builder_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_new(
    kind: *const c_char,
    builder_out: *mut *mut appose_builder,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let kind = BuilderKind::from_name(arg_opt_str(kind, "kind")?.unwrap_or("dynamic"))?;
        check_out(builder_out, "builder_out")?;
        *builder_out = handle::insert(Arc::new(Mutex::new(Builder::new(kind))));
        Ok(())
    })
}

/// Applies a setter taking one string.
unsafe fn set(
    builder: *mut appose_builder,
    value: *const c_char,
    what: &str,
    error_out: *mut *mut appose_error,
    f: impl FnOnce(&mut Builder, &str) -> crate::Result<()>,
) -> appose_status {
    guard(error_out, || {
        let b = handle::get(builder)?;
        let v = arg_str(value, what)?;
        f(&mut *locked(&b)?, v)?;
        Ok(())
    })
}

// Written out (not macro-generated) so that cbindgen sees every export.

/// The environment's name: its directory under the envs root.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_name(
    builder: *mut appose_builder,
    name: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, name, "name", error_out, |b, v| b.name(v).map(drop))
}

/// The environment's directory (instead of `<envs root>/<name>`).
#[no_mangle]
pub unsafe extern "C" fn appose_builder_base(
    builder: *mut appose_builder,
    dir: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, dir, "dir", error_out, |b, v| {
        b.base(v);
        Ok(())
    })
}

/// Where named environments and downloaded tools live (default:
/// `APPOSE_ENVS_DIR`, else `~/.local/share/appose`).
#[no_mangle]
pub unsafe extern "C" fn appose_builder_envs_root(
    builder: *mut appose_builder,
    dir: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, dir, "dir", error_out, |b, v| {
        b.envs_root(v);
        Ok(())
    })
}

/// The environment description itself (pixi.toml, pyproject.toml,
/// environment.yml or requirements.txt text).
#[no_mangle]
pub unsafe extern "C" fn appose_builder_content(
    builder: *mut appose_builder,
    content: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, content, "content", error_out, |b, v| {
        b.content(v);
        Ok(())
    })
}

/// Reads the description from a file, at once (its name also gives the
/// scheme).
#[no_mangle]
pub unsafe extern "C" fn appose_builder_file(
    builder: *mut appose_builder,
    path: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, path, "path", error_out, |b, v| b.file(v).map(drop))
}

/// Fetches the description from a URL, at once: blocks until the download
/// ends (no time limit; connecting gives up after 30 s).
#[no_mangle]
pub unsafe extern "C" fn appose_builder_url(
    builder: *mut appose_builder,
    url: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, url, "url", error_out, |b, v| b.url(v).map(drop))
}

/// The description's format: "pixi.toml", "pyproject.toml",
/// "environment.yml" or "requirements.txt".
#[no_mangle]
pub unsafe extern "C" fn appose_builder_scheme(
    builder: *mut appose_builder,
    scheme: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, scheme, "scheme", error_out, |b, v| {
        b.scheme(v).map(drop)
    })
}

/// Adds a conda channel (pixi).
#[no_mangle]
pub unsafe extern "C" fn appose_builder_channel(
    builder: *mut appose_builder,
    channel: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, channel, "channel", error_out, |b, v| {
        b.channel(v);
        Ok(())
    })
}

/// Adds a flag to every tool command.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_flag(
    builder: *mut appose_builder,
    flag: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, flag, "flag", error_out, |b, v| {
        b.flag(v);
        Ok(())
    })
}

/// uv: the venv's Python version.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_python_version(
    builder: *mut appose_builder,
    version: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, version, "version", error_out, |b, v| {
        b.python_version(v);
        Ok(())
    })
}

/// uv: adds a PyPI requirement (`appose` is added when none names it).
#[no_mangle]
pub unsafe extern "C" fn appose_builder_package(
    builder: *mut appose_builder,
    spec: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, spec, "spec", error_out, |b, v| {
        b.package(v);
        Ok(())
    })
}

/// pixi: adds a conda package.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_conda(
    builder: *mut appose_builder,
    spec: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, spec, "spec", error_out, |b, v| {
        b.conda(v);
        Ok(())
    })
}

/// pixi: adds a PyPI package.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_pypi(
    builder: *mut appose_builder,
    spec: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, spec, "spec", error_out, |b, v| {
        b.pypi(v);
        Ok(())
    })
}

/// pixi: the manifest's named environment to install and run.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_pixi_environment(
    builder: *mut appose_builder,
    name: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, name, "name", error_out, |b, v| {
        b.pixi_environment(v);
        Ok(())
    })
}

/// custom: adds a directory of executables.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_bin_path(
    builder: *mut appose_builder,
    dir: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, dir, "dir", error_out, |b, v| {
        b.bin_path(v);
        Ok(())
    })
}

/// Downloads tools from `<base_url>/<tool>/<version>/<file>` instead of
/// their release hosts (overrides `APPOSE_TOOL_MIRROR`).
#[no_mangle]
pub unsafe extern "C" fn appose_builder_tool_mirror(
    builder: *mut appose_builder,
    base_url: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, base_url, "base_url", error_out, |b, v| {
        b.tool_mirror(v);
        Ok(())
    })
}

/// The SHA-256 (64 hexadecimal digits) a downloaded tool archive must
/// have, instead of the one libappose records for the pinned release: for
/// a mirror that serves its own build. Anything else is
/// `APPOSE_STATUS_INVALID_ARGUMENT`.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_tool_sha256(
    builder: *mut appose_builder,
    hex: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    set(builder, hex, "hex", error_out, |b, v| {
        let ok = v.len() == 64 && v.bytes().all(|c| c.is_ascii_hexdigit());
        if !ok {
            return Err(crate::error::Error::new(
                crate::error::ErrorKind::InvalidArgument,
                format!("{v:?} is not a SHA-256: expected 64 hexadecimal digits"),
            ));
        }
        b.tool_sha256(v);
        Ok(())
    })
}

/// Sets an environment variable for the tools and for the environment's
/// workers.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_env_var(
    builder: *mut appose_builder,
    key: *const c_char,
    value: *const c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let b = handle::get(builder)?;
        let key = arg_str(key, "key")?;
        let value = arg_str(value, "value")?;
        locked(&b)?.env_var(key, value)?;
        Ok(())
    })
}

/// custom: also searches the system `PATH` for executables.
#[no_mangle]
pub extern "C" fn appose_builder_append_system_path(
    builder: *mut appose_builder,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let b = handle::get(builder)?;
        locked(&b)?.append_system_path();
        Ok(())
    })
}

/// Adds a progress listener. `userdata_free` as for every registration.
#[no_mangle]
pub extern "C" fn appose_builder_on_progress(
    builder: *mut appose_builder,
    listener: appose_progress_listener,
    userdata: *mut c_void,
    userdata_free: appose_userdata_free,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let b = handle::get(builder)?;
        let Some(listener) = listener else {
            return Err(FfiError::new(
                appose_status::APPOSE_STATUS_NULL_ARGUMENT,
                "`listener` is NULL",
            ));
        };
        let mut b = locked(&b)?;
        let data = UserData::new(userdata, userdata_free);
        b.on_progress(Box::new(move |title: &str, cur: u64, max: u64| {
            let t = to_cstring(title);
            // SAFETY: the C contract of appose_progress_listener.
            unsafe { listener(data.ptr(), t.as_ptr(), cur, max) };
        }));
        Ok(())
    })
}

fn line_listener(
    builder: *mut appose_builder,
    listener: appose_line_listener,
    userdata: *mut c_void,
    userdata_free: appose_userdata_free,
    error: bool,
) -> FfiResult {
    let b = handle::get(builder)?;
    let Some(listener) = listener else {
        return Err(FfiError::new(
            appose_status::APPOSE_STATUS_NULL_ARGUMENT,
            "`listener` is NULL",
        ));
    };
    let mut b = locked(&b)?;
    let data = UserData::new(userdata, userdata_free);
    let l = Box::new(move |line: &str| {
        let c = to_cstring(line);
        // SAFETY: the C contract of appose_line_listener.
        unsafe { listener(data.ptr(), c.as_ptr()) };
    });
    if error {
        b.on_error(l);
    } else {
        b.on_output(l);
    }
    Ok(())
}

/// Adds a listener for the tools' output lines.
#[no_mangle]
pub extern "C" fn appose_builder_on_output(
    builder: *mut appose_builder,
    listener: appose_line_listener,
    userdata: *mut c_void,
    userdata_free: appose_userdata_free,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        line_listener(builder, listener, userdata, userdata_free, false)
    })
}

/// Adds a listener for the tools' error lines (pixi's success message and
/// `-vv` log are not errors and go to the output listeners).
#[no_mangle]
pub extern "C" fn appose_builder_on_error(
    builder: *mut appose_builder,
    listener: appose_line_listener,
    userdata: *mut c_void,
    userdata_free: appose_userdata_free,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        line_listener(builder, listener, userdata, userdata_free, true)
    })
}

/// Builds the environment (or reuses it when its `appose.json` matches this
/// configuration) and returns it. Blocks until the tool (uv, pixi or
/// micromamba, downloaded first if missing; none for "custom") finishes,
/// with no time limit: minutes for a large environment. Callbacks run on
/// this thread. A failing tool gives `APPOSE_STATUS_IO` with its exit code,
/// command line and error output in `appose_last_error()`.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_build(
    builder: *mut appose_builder,
    env_out: *mut *mut appose_env,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || build_with(builder, env_out, Builder::build))
}

/// Runs `op` on the builder and hands out the environment it makes.
unsafe fn build_with(
    builder: *mut appose_builder,
    env_out: *mut *mut appose_env,
    op: fn(&mut Builder) -> crate::Result<crate::Environment>,
) -> FfiResult {
    let b = handle::get(builder)?;
    check_out(env_out, "env_out")?;
    let env = op(&mut *locked(&b)?)?;
    *env_out = handle::insert(Arc::new(env));
    Ok(())
}

/// Installs the builder's tool (uv, pixi or micromamba) into the envs root
/// unless it is there already, e.g. to prepare for offline use, and writes
/// its path (free with `appose_string_free`). Blocks until the download and
/// unpacking finish (no time limit; connecting gives up after 30 s).
#[no_mangle]
pub unsafe extern "C" fn appose_builder_install_tool(
    builder: *mut appose_builder,
    path_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let b = handle::get(builder)?;
        check_out(path_out, "path_out")?;
        let path = locked(&b)?.install_tool()?;
        *path_out = super::string_out(&path.to_string_lossy());
        Ok(())
    })
}

/// Deletes the environment's directory (as `appose_builder_delete`), then
/// builds it; blocks as both do.
#[no_mangle]
pub unsafe extern "C" fn appose_builder_rebuild(
    builder: *mut appose_builder,
    env_out: *mut *mut appose_env,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || build_with(builder, env_out, Builder::rebuild))
}

/// Deletes the environment's directory, if it exists. Only a directory that
/// is an environment (it has `appose.json`, `.pixi/`, `pixi.toml`,
/// `conda-meta/`, `pyvenv.cfg` or `.venv/pyvenv.cfg`) or is empty is
/// deleted, and never `/`, the current directory, `HOME`, the envs root or a
/// directory holding one of them: `APPOSE_STATUS_INVALID_ARGUMENT` says why.
/// A symlink is judged by its target, whose contents are deleted. Blocks
/// until every file is removed.
#[no_mangle]
pub extern "C" fn appose_builder_delete(
    builder: *mut appose_builder,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let b = handle::get(builder)?;
        locked(&b)?.delete()?;
        Ok(())
    })
}

/// Frees a builder handle (and, once not building, its listeners).
#[no_mangle]
pub extern "C" fn appose_builder_free(builder: *mut appose_builder) -> appose_status {
    guard(std::ptr::null_mut(), || handle::remove(builder))
}
