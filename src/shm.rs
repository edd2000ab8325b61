//! Shared memory blocks: POSIX `shm_open` + `mmap`, named like Python's.
//!
//! A thin `libc` layer instead of the `shared_memory` crate: that crate's
//! handles are `!Send` (we hand blocks between the reader thread, the
//! dispatcher and callers), it is unmaintained since 2022, and it cannot
//! attach with the size taken from the block itself, which is what the peers
//! do.
//!
//! Ownership (repeated in the header):
//! - a block this library creates is unlinked when its last handle is
//!   dropped, unless [`SharedMemory::set_unlink_on_drop`] says otherwise;
//! - a block a worker creates and returns in outputs is owned by us too (the
//!   worker never unlinks it) and follows the same rule;
//! - a block attached by name is not ours: it is only unmapped.
//!
//! Blocks still owned when the process exits normally are unlinked by an
//! `atexit` hook, so a program that forgets a handle leaves nothing in
//! `/dev/shm`. Blocks can be used from any thread; the bytes themselves are
//! shared with other processes and no locking is implied.

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Once, Weak};

use crate::error::{Error, ErrorKind, Result};
use crate::lock;

/// A mapped shared memory block. Clones share the mapping.
#[derive(Clone)]
pub struct SharedMemory {
    inner: Arc<Block>,
}

struct Block {
    name: String,
    rsize: usize,
    size: usize,
    ptr: *mut u8,
    unlink_on_drop: AtomicBool,
}

// SAFETY: the mapping is valid for the Block's whole life and is process-wide;
// concurrent access to the bytes is the users' business, as with any shared
// memory (the peers' worker writes them from another process anyway).
unsafe impl Send for Block {}
unsafe impl Sync for Block {}

/// The blocks this process has mapped, by name: attaching to one of them
/// shares the mapping (and its ownership) instead of mapping it again, so a
/// worker handing back one of our own blocks cannot make us unlink it early.
static LIVE: LazyLock<Mutex<HashMap<String, Weak<Block>>>> = LazyLock::new(Default::default);

/// Names of the blocks this process owns and still has mapped.
static OWNED: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);
static AT_EXIT: Once = Once::new();

extern "C" fn unlink_owned_at_exit() {
    // Best effort: a process that exits normally leaves no block it owns.
    if let Ok(names) = OWNED.lock() {
        for name in names.iter() {
            if let Ok(c) = CString::new(format!("/{name}")) {
                // SAFETY: plain syscall with a valid C string.
                unsafe { libc::shm_unlink(c.as_ptr()) };
            }
        }
    }
}

fn track_owned(name: &str, owned: bool) {
    AT_EXIT.call_once(|| {
        // SAFETY: registering a plain extern "C" fn.
        unsafe { libc::atexit(unlink_owned_at_exit) };
    });
    let mut names = lock(&OWNED);
    if owned {
        names.insert(name.to_owned());
    } else {
        names.remove(name);
    }
}

fn c_name(name: &str) -> Result<CString> {
    let valid =
        !name.is_empty() && name.len() <= 250 && !name.contains('/') && !name.contains('\0');
    if !valid {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("invalid shared memory name {name:?} (1-250 characters, no '/')"),
        ));
    }
    Ok(CString::new(format!("/{name}")).expect("checked for NUL"))
}

fn last_os_error(what: String) -> Error {
    Error::io(what, std::io::Error::last_os_error())
}

impl SharedMemory {
    /// Creates a block of `rsize` bytes with a fresh random name
    /// (`psm_` + 8 hex digits, as Python does).
    pub fn create(rsize: usize) -> Result<Self> {
        for _ in 0..100 {
            let bytes = *uuid::Uuid::new_v4().as_bytes();
            let name = format!(
                "psm_{:02x}{:02x}{:02x}{:02x}",
                bytes[0], bytes[1], bytes[2], bytes[3]
            );
            match Self::create_named(&name, rsize) {
                Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
                other => return other,
            }
        }
        Err(Error::new(
            ErrorKind::Io,
            "could not find a free shared memory name in 100 tries",
        ))
    }

    /// Creates a block with the given name (without the leading slash).
    pub fn create_named(name: &str, rsize: usize) -> Result<Self> {
        if rsize == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a shared memory block needs a size above 0",
            ));
        }
        let c = c_name(name)?;
        // SAFETY: plain syscall with a valid C string.
        let fd = unsafe {
            libc::shm_open(
                c.as_ptr(),
                libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
                0o600,
            )
        };
        if fd < 0 {
            return Err(last_os_error(format!(
                "cannot create shared memory block {name}"
            )));
        }
        let sized = libc::off_t::try_from(rsize)
            .ok()
            // SAFETY: fd is ours and open.
            .filter(|&len| unsafe { libc::ftruncate(fd, len) } == 0);
        if sized.is_none() {
            let err = last_os_error(format!(
                "cannot size shared memory block {name} to {rsize} bytes"
            ));
            // SAFETY: fd is ours; the name is the block we just created.
            unsafe {
                libc::close(fd);
                libc::shm_unlink(c.as_ptr());
            }
            return Err(err);
        }
        match Self::map(fd, name, rsize, rsize, true) {
            Ok(shm) => Ok(shm),
            Err(e) => {
                // SAFETY: the name is the block we just created.
                unsafe { libc::shm_unlink(c.as_ptr()) };
                Err(e)
            }
        }
    }

    /// Attaches to an existing block; its size is read from the block. Not
    /// owned: dropping the last handle only unmaps it.
    pub fn attach(name: &str) -> Result<Self> {
        Self::attach_sized(name, None)
    }

    /// Attaches to an existing block whose requested size is known (an
    /// `shm` value's `rsize`); refuses a block smaller than that.
    pub fn attach_sized(name: &str, rsize: Option<usize>) -> Result<Self> {
        Self::attach_or_share(name, rsize).map(|(shm, _)| shm)
    }

    /// [`SharedMemory::attach_sized`], also saying whether the block was newly
    /// mapped (`true`) or already mapped in this process (`false`).
    pub(crate) fn attach_or_share(name: &str, rsize: Option<usize>) -> Result<(Self, bool)> {
        let c = c_name(name)?;
        let live = lock(&LIVE).get(name).and_then(Weak::upgrade);
        if let Some(inner) = live {
            let shm = SharedMemory { inner };
            if rsize.is_some_and(|r| r > shm.size()) {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "shared memory block {name} has {} bytes, {} were expected",
                        shm.size(),
                        rsize.unwrap_or(0)
                    ),
                ));
            }
            return Ok((shm, false));
        }
        // SAFETY: plain syscall with a valid C string.
        let fd = unsafe { libc::shm_open(c.as_ptr(), libc::O_RDWR, 0) };
        if fd < 0 {
            return Err(last_os_error(format!(
                "cannot attach to shared memory block {name}"
            )));
        }
        // SAFETY: zeroed stat is a valid out-buffer; fd is open.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            let err = last_os_error(format!("cannot read the size of block {name}"));
            // SAFETY: fd is ours.
            unsafe { libc::close(fd) };
            return Err(err);
        }
        let size = usize::try_from(st.st_size).unwrap_or(0);
        let rsize = rsize.unwrap_or(size);
        if size == 0 || rsize > size {
            // SAFETY: fd is ours.
            unsafe { libc::close(fd) };
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("shared memory block {name} has {size} bytes, {rsize} were expected"),
            ));
        }
        Self::map(fd, name, rsize, size, false).map(|shm| (shm, true))
    }

    /// Maps `fd` (and closes it: the mapping keeps the block).
    fn map(fd: libc::c_int, name: &str, rsize: usize, size: usize, owned: bool) -> Result<Self> {
        // SAFETY: fd is open read-write and `size` bytes long.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        let err = (ptr == libc::MAP_FAILED)
            .then(|| last_os_error(format!("cannot map shared memory block {name}")));
        // SAFETY: fd is ours.
        unsafe { libc::close(fd) };
        if let Some(e) = err {
            return Err(e);
        }
        if owned {
            track_owned(name, true);
        }
        let inner = Arc::new(Block {
            name: name.to_owned(),
            rsize,
            size,
            ptr: ptr.cast(),
            unlink_on_drop: AtomicBool::new(owned),
        });
        lock(&LIVE).insert(name.to_owned(), Arc::downgrade(&inner));
        Ok(SharedMemory { inner })
    }

    /// The block's name, without the leading slash (e.g. `psm_1a2b3c4d`).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The size that was asked for.
    pub fn rsize(&self) -> usize {
        self.inner.rsize
    }

    /// The size of the mapping (equal to `rsize` on Linux).
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// The first byte of the mapping; valid while any handle lives.
    pub fn as_ptr(&self) -> *mut u8 {
        self.inner.ptr
    }

    /// The block's bytes. Another process may change them at any time.
    ///
    /// # Safety
    /// No one (in this or another process) may write the block while the
    /// slice is in use.
    pub unsafe fn as_slice(&self) -> &[u8] {
        std::slice::from_raw_parts(self.inner.ptr, self.inner.size)
    }

    /// The block's bytes, writable.
    ///
    /// # Safety
    /// No one else may access the block while the slice is in use.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn as_mut_slice(&self) -> &mut [u8] {
        std::slice::from_raw_parts_mut(self.inner.ptr, self.inner.size)
    }

    /// Whether the block is unlinked when the last handle goes.
    pub fn unlink_on_drop(&self) -> bool {
        self.inner.unlink_on_drop.load(Ordering::Acquire)
    }

    /// Sets whether the block is unlinked when the last handle goes (and at
    /// normal process exit).
    pub fn set_unlink_on_drop(&self, unlink: bool) {
        self.inner.unlink_on_drop.store(unlink, Ordering::Release);
        track_owned(&self.inner.name, unlink);
    }

    /// Whether the block still exists under its name.
    pub fn exists(&self) -> bool {
        exists(&self.inner.name)
    }
}

/// Whether a block of that name exists.
pub fn exists(name: &str) -> bool {
    let Ok(c) = c_name(name) else {
        return false;
    };
    // SAFETY: plain syscall with a valid C string.
    let fd = unsafe { libc::shm_open(c.as_ptr(), libc::O_RDONLY, 0) };
    if fd >= 0 {
        // SAFETY: fd is ours.
        unsafe { libc::close(fd) };
        true
    } else {
        false
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        {
            let mut live = lock(&LIVE);
            if live
                .get(&self.name)
                .is_some_and(|w| std::ptr::eq(w.as_ptr(), self))
            {
                live.remove(&self.name);
            }
        }
        // SAFETY: ptr/size are exactly what mmap gave us.
        unsafe { libc::munmap(self.ptr.cast(), self.size) };
        if self.unlink_on_drop.load(Ordering::Acquire) {
            if let Ok(c) = c_name(&self.name) {
                // SAFETY: plain syscall with a valid C string.
                unsafe { libc::shm_unlink(c.as_ptr()) };
            }
            track_owned(&self.name, false);
        }
    }
}

impl std::fmt::Debug for SharedMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedMemory")
            .field("name", &self.inner.name)
            .field("rsize", &self.inner.rsize)
            .field("size", &self.inner.size)
            .finish()
    }
}

impl PartialEq for SharedMemory {
    fn eq(&self, other: &Self) -> bool {
        self.inner.name == other.inner.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_attach_and_unlink() {
        let a = SharedMemory::create(4096 + 3).unwrap();
        assert!(a.name().starts_with("psm_") && a.name().len() == 12);
        assert_eq!((a.rsize(), a.size()), (4099, 4099));
        unsafe { a.as_mut_slice()[4098] = 42 };
        // Attaching to a block mapped here already shares that mapping.
        let b = SharedMemory::attach(a.name()).unwrap();
        assert_eq!(b.as_ptr(), a.as_ptr());
        assert_eq!(unsafe { b.as_slice()[4098] }, 42);
        let name = a.name().to_owned();
        drop(a);
        assert!(exists(&name), "b still holds it");
        drop(b);
        assert!(!exists(&name));
    }

    #[test]
    fn opting_out_keeps_the_block() {
        let a = SharedMemory::create(10).unwrap();
        a.set_unlink_on_drop(false);
        let name = a.name().to_owned();
        drop(a);
        assert!(exists(&name));
        let b = SharedMemory::attach(&name).unwrap();
        assert!(!b.unlink_on_drop(), "attached blocks are not ours");
        b.set_unlink_on_drop(true);
        drop(b);
        assert!(!exists(&name));
    }

    #[test]
    fn bad_requests_are_refused() {
        assert_eq!(
            SharedMemory::create(0).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(
            SharedMemory::attach("psm_nosuch00").unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            SharedMemory::attach("a/b").unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let a = SharedMemory::create(16).unwrap();
        let err = SharedMemory::attach_sized(a.name(), Some(17)).unwrap_err();
        assert!(
            err.message().contains("16 bytes, 17 were expected"),
            "{err}"
        );
        let err = SharedMemory::create_named(a.name(), 16).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    }

    #[test]
    fn blocks_over_4_gib() {
        // Sparse: nothing is touched but the last page.
        let big = (4usize << 30) + 4096;
        let a = SharedMemory::create(big).unwrap();
        unsafe { *a.as_ptr().add(big - 1) = 7 };
        let b = SharedMemory::attach(a.name()).unwrap();
        assert_eq!(b.size(), big);
        assert_eq!(b.rsize(), big);
        assert_eq!(unsafe { *b.as_ptr().add(big - 1) }, 7);
    }
}
