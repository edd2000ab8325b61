//! C ABI for [`crate::shm`].

use std::ffi::{c_char, c_void};

use super::handle::{self, appose_shm};
use super::{appose_error, appose_status, arg_str, check_out, guard, string_out};
use crate::SharedMemory;

/// Creates a block of `rsize` bytes named `psm_` + 8 random hex digits.
/// Owned: unlinked when its last handle (including arrays over it and values
/// holding it) is freed, and at normal process exit; if the process is
/// killed, by the next process that uses the library. Free with
/// `appose_shm_free`. Its pages are reserved in /dev/shm: a block that does
/// not fit gives `APPOSE_STATUS_IO`, with the sizes and the fix in
/// `appose_last_error()`, instead of SIGBUS at the first write. Blocks while
/// the pages are reserved (allocated and zeroed): time grows with `rsize`,
/// a few tenths of a second per GiB.
#[no_mangle]
pub unsafe extern "C" fn appose_shm_create(
    rsize: usize,
    shm_out: *mut *mut appose_shm,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        check_out(shm_out, "shm_out")?;
        *shm_out = handle::insert(SharedMemory::create(rsize)?);
        Ok(())
    })
}

/// Creates a block with a given name (no leading slash). Owned, as
/// `appose_shm_create`, and blocks as it does. `APPOSE_STATUS_ALREADY_EXISTS`
/// if the name is taken.
#[no_mangle]
pub unsafe extern "C" fn appose_shm_create_named(
    name: *const c_char,
    rsize: usize,
    shm_out: *mut *mut appose_shm,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let name = arg_str(name, "name")?;
        check_out(shm_out, "shm_out")?;
        *shm_out = handle::insert(SharedMemory::create_named(name, rsize)?);
        Ok(())
    })
}

/// Attaches to an existing block by name; its size is read from the block.
/// Not owned (only unmapped when freed) unless the block is already mapped
/// in this process, whose mapping and ownership it then shares.
#[no_mangle]
pub unsafe extern "C" fn appose_shm_attach(
    name: *const c_char,
    shm_out: *mut *mut appose_shm,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let name = arg_str(name, "name")?;
        check_out(shm_out, "shm_out")?;
        *shm_out = handle::insert(SharedMemory::attach(name)?);
        Ok(())
    })
}

/// The block's name (free with `appose_string_free`).
#[no_mangle]
pub unsafe extern "C" fn appose_shm_name(
    shm: *const appose_shm,
    name_out: *mut *mut c_char,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let shm = handle::get(shm)?;
        check_out(name_out, "name_out")?;
        *name_out = string_out(shm.name());
        Ok(())
    })
}

/// The requested size in bytes.
#[no_mangle]
pub unsafe extern "C" fn appose_shm_rsize(
    shm: *const appose_shm,
    rsize_out: *mut usize,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let shm = handle::get(shm)?;
        check_out(rsize_out, "rsize_out")?;
        *rsize_out = shm.rsize();
        Ok(())
    })
}

/// The mapped size in bytes (equal to rsize on Linux).
#[no_mangle]
pub unsafe extern "C" fn appose_shm_size(
    shm: *const appose_shm,
    size_out: *mut usize,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let shm = handle::get(shm)?;
        check_out(size_out, "size_out")?;
        *size_out = shm.size();
        Ok(())
    })
}

/// The block's first byte. Valid while any handle to the block (this one, an
/// array over it, a map holding it) lives.
#[no_mangle]
pub unsafe extern "C" fn appose_shm_data(
    shm: *const appose_shm,
    data_out: *mut *mut c_void,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let shm = handle::get(shm)?;
        check_out(data_out, "data_out")?;
        *data_out = shm.as_ptr().cast();
        Ok(())
    })
}

/// Whether the block is unlinked when its last handle goes.
#[no_mangle]
pub unsafe extern "C" fn appose_shm_unlink_on_free(
    shm: *const appose_shm,
    unlink_out: *mut bool,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let shm = handle::get(shm)?;
        check_out(unlink_out, "unlink_out")?;
        *unlink_out = shm.unlink_on_drop();
        Ok(())
    })
}

/// Sets whether the block is unlinked when its last handle goes (and at
/// normal process exit, or after a kill by the next process that uses the
/// library). Pass false to keep a block for another process.
#[no_mangle]
pub extern "C" fn appose_shm_set_unlink_on_free(
    shm: *mut appose_shm,
    unlink: bool,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        handle::get(shm)?.set_unlink_on_drop(unlink);
        Ok(())
    })
}

/// Removes the block's name now (Python's `unlink()`): nobody can attach
/// to it any more, while every mapping (this one, arrays over it, the
/// worker's) stays usable until its last handle goes. The block is then not
/// unlinked again when freed. `APPOSE_STATUS_NOT_FOUND` when the name was
/// gone already (or now names another block, which is left alone).
#[no_mangle]
pub extern "C" fn appose_shm_unlink(
    shm: *const appose_shm,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        handle::get(shm)?.unlink()?;
        Ok(())
    })
}

/// Attaches to an existing block as `appose_shm_attach` does, refusing it
/// (`APPOSE_STATUS_INVALID_ARGUMENT`) when it is smaller than `rsize`
/// bytes: the size the sender said it has.
#[no_mangle]
pub unsafe extern "C" fn appose_shm_attach_sized(
    name: *const c_char,
    rsize: usize,
    shm_out: *mut *mut appose_shm,
    error_out: *mut *mut appose_error,
) -> appose_status {
    guard(error_out, || {
        let name = arg_str(name, "name")?;
        check_out(shm_out, "shm_out")?;
        *shm_out = handle::insert::<appose_shm>(SharedMemory::attach_sized(name, Some(rsize))?);
        Ok(())
    })
}

/// Frees a block handle. The mapping stays while other handles use it.
#[no_mangle]
pub extern "C" fn appose_shm_free(shm: *mut appose_shm) -> appose_status {
    guard(std::ptr::null_mut(), || handle::remove(shm))
}
