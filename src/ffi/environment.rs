//! C ABI for [`crate::environment`].

use std::ffi::c_char;
use std::sync::Arc;

use super::handle::{self, appose_env, appose_service};
use super::{appose_status, arg_str, arg_str_array, check_out, guard, string_out};
use crate::Environment;

/// The system environment: executables found on `PATH`, based in the
/// current directory. Free with `appose_env_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_system(env_out: *mut *mut appose_env) -> appose_status {
    guard(|| {
        check_out(env_out, "env_out")?;
        let env = Environment::system()?;
        *env_out = handle::insert(Arc::new(env));
        Ok(())
    })
}

/// An existing directory as an environment: executables are looked up in
/// `dir/bin` and `dir`. Free with `appose_env_free`.
#[no_mangle]
pub unsafe extern "C" fn appose_env_wrap(
    dir: *const c_char,
    env_out: *mut *mut appose_env,
) -> appose_status {
    guard(|| {
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
) -> appose_status {
    guard(|| {
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
) -> appose_status {
    guard(|| {
        let env = handle::get(env)?;
        check_out(service_out, "service_out")?;
        let service = env.python()?;
        *service_out = handle::insert(service);
        Ok(())
    })
}

/// A service (not started yet) running the first of the `n_candidates`
/// executable names found in the environment, followed by the `n_args`
/// arguments. `args` may be NULL when `n_args` is 0.
#[no_mangle]
pub unsafe extern "C" fn appose_env_service(
    env: *const appose_env,
    candidates: *const *const c_char,
    n_candidates: usize,
    args: *const *const c_char,
    n_args: usize,
    service_out: *mut *mut appose_service,
) -> appose_status {
    guard(|| {
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

/// Frees an environment handle. NULL is a no-op; a handle freed already gives
/// `APPOSE_STATUS_INVALID_HANDLE`. Services made from it are unaffected.
#[no_mangle]
pub extern "C" fn appose_env_free(env: *mut appose_env) -> appose_status {
    guard(|| handle::remove(env))
}
