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
//! `/dev/shm`. A process that is killed cannot clean up: the blocks it owned
//! are unlinked by the next process that uses the library, from the owner
//! registry each process keeps in `/dev/shm` (`registry.rs` says how, and
//! how a live owner's blocks are never touched). Blocks can be used from
//! any thread; the bytes themselves are shared with other processes and no
//! locking is implied.
//!
//! Space: `/dev/shm` is a tmpfs, often small (Docker gives 64 MB), and
//! `ftruncate` alone only sets a size: the pages come at the first write,
//! and a write that finds the filesystem full kills the process with SIGBUS.
//! So creation also reserves the pages (`fallocate`), and a block that does
//! not fit is refused with the sizes and the fix, leaving nothing behind.
//! Reserving zeroes every page up front: the first write then no longer has
//! to, so the time moves rather than grows.

mod registry;

use std::collections::HashMap;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use crate::error::{Error, ErrorKind, Result};
use crate::lock;

pub use registry::{reclaim_orphans, registry_path};

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
    /// Tells this block apart from a later one of the same name, for the
    /// registry.
    ino: u64,
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

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 250 && !name.contains('/') && !name.contains('\0')
}

fn c_name(name: &str) -> Result<CString> {
    if !valid_name(name) {
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

fn inode(fd: libc::c_int, name: &str) -> Result<u64> {
    // SAFETY: zeroed stat is a valid out-buffer; fd is open.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(last_os_error(format!(
            "cannot read the inode of block {name}"
        )));
    }
    Ok(st.st_ino)
}

/// Where glibc's `shm_open` keeps blocks on Linux.
pub(crate) const SHM_DIR: &str = "/dev/shm";

/// Reserved in steps, so that a signal (a JVM's, a profiler's) interrupting
/// `fallocate`, which then gives back what that call had reserved, costs
/// one step and not the whole block.
const RESERVE_STEP: usize = 64 << 20;

/// Reserves the pages of a new block of `rsize` bytes, so that running out
/// of space is this error rather than SIGBUS at the first write.
fn reserve(fd: libc::c_int, name: &str, rsize: usize) -> Result<()> {
    // A block larger than the free space is refused before anything is
    // reserved: reserving up to the failure would first fill /dev/shm,
    // which on a tmpfs as large as the memory gets processes killed (a
    // request for 2^60 bytes did) before fallocate says ENOSPC.
    if let Some(s) = space() {
        if s.total > 0 && rsize as u64 > s.free {
            return Err(no_space(
                name,
                rsize,
                "No space left on device (more than is free)",
                Some(s),
            ));
        }
    }
    let mut done = 0;
    while done < rsize {
        let step = RESERVE_STEP.min(rsize - done);
        // Sizes fit off_t: ftruncate took rsize already.
        // SAFETY: fd is ours and open.
        let rc = unsafe { libc::fallocate(fd, 0, done as libc::off_t, step as libc::off_t) };
        if rc == 0 {
            done += step;
            continue;
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            // Not a tmpfs (ramfs has no size limit, other filesystems may
            // lack fallocate): nothing can be reserved; the free space was
            // checked above.
            Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) => return Ok(()),
            Some(libc::ENOSPC) | Some(libc::ENOMEM) => {
                return Err(no_space(name, rsize, &err.to_string(), space()))
            }
            _ => {
                return Err(Error::io(
                    format!(
                        "cannot reserve {} for shared memory block {name}",
                        bytes(rsize as u64)
                    ),
                    err,
                ))
            }
        }
    }
    Ok(())
}

/// Free and total bytes of the filesystem holding the blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Space {
    pub free: u64,
    pub total: u64,
}

/// The space of `/dev/shm`, if it can be read.
pub(crate) fn space() -> Option<Space> {
    let path = CString::new(SHM_DIR).expect("no NUL");
    // SAFETY: zeroed statvfs is a valid out-buffer; the path is a C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let unit = st.f_frsize as u64;
    Some(Space {
        free: st.f_bavail as u64 * unit,
        total: st.f_blocks as u64 * unit,
    })
}

/// `n` bytes, exactly and in binary units: `67108864 bytes (64.0 MiB)`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = "";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    if unit.is_empty() {
        format!("{n} bytes")
    } else {
        format!("{n} bytes ({value:.1} {unit})")
    }
}

/// A `--shm-size` that holds `needed` bytes: whole GiB, a power of two.
pub(crate) fn suggested_shm_size(needed: u64) -> String {
    let gib = needed.div_ceil(1 << 30).max(1).next_power_of_two();
    format!("{gib}g")
}

/// What `/dev/shm` has, for messages: `/dev/shm has N free of M`.
pub(crate) fn describe_space(space: Option<Space>) -> String {
    match space {
        Some(s) => format!("{SHM_DIR} has {} free of {}", bytes(s.free), bytes(s.total)),
        None => format!("the free space of {SHM_DIR} cannot be read"),
    }
}

fn no_space(name: &str, rsize: usize, why: &str, space: Option<Space>) -> Error {
    let used = space.map_or(0, |s| s.total.saturating_sub(s.free));
    let size = suggested_shm_size(used + rsize as u64);
    Error::new(
        ErrorKind::Io,
        format!(
            "cannot reserve {} for shared memory block {name}: {why}; {}. \
             Without the reservation the first write would kill the process \
             with SIGBUS. Make room: free blocks no longer needed, run the \
             container with --shm-size={size}, or remount {SHM_DIR} larger \
             (mount -o remount,size={size} {SHM_DIR}).",
            bytes(rsize as u64),
            describe_space(space),
        ),
    )
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

    /// Creates a block with the given name (without the leading slash). Its
    /// pages are reserved: a block `/dev/shm` has no room for is refused.
    pub fn create_named(name: &str, rsize: usize) -> Result<Self> {
        if rsize == 0 {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                "a shared memory block needs a size above 0",
            ));
        }
        let c = c_name(name)?;
        if name.starts_with(registry::PREFIX) {
            // Reclaiming would take such a block for a dead owner's registry.
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "invalid shared memory name {name:?}: names starting with {:?} \
                     are the library's owner registries",
                    registry::PREFIX
                ),
            ));
        }
        registry::reclaim_once();
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
        // Until mapped, a failure takes the block back: unlinked, and out of
        // the registry if it got there.
        let fail = |err: Error, registered: bool| -> Result<Self> {
            // SAFETY: fd is ours; the name is the block we just created.
            unsafe {
                libc::close(fd);
                libc::shm_unlink(c.as_ptr());
            }
            if registered {
                registry::disown(name);
            }
            Err(err)
        };
        let ino = match inode(fd, name) {
            Ok(ino) => ino,
            Err(e) => return fail(e, false),
        };
        // Recorded before it takes any space: if this process is killed from
        // here on, the next one unlinks the block.
        if let Err(e) = registry::own(name, ino) {
            // A /dev/shm full to the last page has no room for the registry
            // either: say so as for the block itself.
            if e.raw_os_error() == Some(libc::ENOSPC) {
                return fail(no_space(name, rsize, &e.to_string(), space()), false);
            }
            let context = format!(
                "cannot record shared memory block {name} in this process's owner \
                 registry in {SHM_DIR} (which lets the next process remove the \
                 block if this one is killed)"
            );
            return fail(Error::io(context, e), false);
        }
        let sized = libc::off_t::try_from(rsize)
            .ok()
            // SAFETY: fd is ours and open.
            .filter(|&len| unsafe { libc::ftruncate(fd, len) } == 0);
        let sized = match sized {
            Some(_) => reserve(fd, name, rsize),
            None => Err(last_os_error(format!(
                "cannot size shared memory block {name} to {rsize} bytes"
            ))),
        };
        if let Err(err) = sized {
            return fail(err, true);
        }
        match Self::map(fd, name, rsize, rsize, ino, true) {
            Ok(shm) => Ok(shm),
            Err(e) => {
                // SAFETY: the name is the block we just created.
                unsafe { libc::shm_unlink(c.as_ptr()) };
                registry::disown(name);
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
        registry::reclaim_once();
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
        Self::map(fd, name, rsize, size, st.st_ino, false).map(|shm| (shm, true))
    }

    /// Maps `fd` (and closes it: the mapping keeps the block).
    fn map(
        fd: libc::c_int,
        name: &str,
        rsize: usize,
        size: usize,
        ino: u64,
        owned: bool,
    ) -> Result<Self> {
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
        let inner = Arc::new(Block {
            name: name.to_owned(),
            rsize,
            size,
            ptr: ptr.cast(),
            ino,
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
    /// normal process exit, or after a kill by the next process that uses
    /// the library).
    pub fn set_unlink_on_drop(&self, unlink: bool) {
        self.inner.unlink_on_drop.store(unlink, Ordering::Release);
        if unlink {
            // Best effort: unrecorded, the block is still unlinked with its
            // last handle and at normal exit, only not after a kill.
            let _ = registry::own(&self.inner.name, self.inner.ino);
        } else {
            registry::disown(&self.inner.name);
        }
    }

    /// Removes the block's name now (Python's `unlink()`): no other process
    /// can attach to it any more, while every mapping, ours included, stays
    /// usable until its last handle goes. The block is then no longer
    /// unlinked at drop. [`ErrorKind::NotFound`] when the name is gone
    /// already, or now names another block (which is left alone).
    pub fn unlink(&self) -> Result<()> {
        let name = &self.inner.name;
        let c = c_name(name)?;
        // SAFETY: plain syscall with a valid C string.
        let fd = unsafe { libc::shm_open(c.as_ptr(), libc::O_RDONLY, 0) };
        let ours = fd >= 0 && {
            // SAFETY: zeroed stat is a valid out-buffer; fd is open.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            let same = unsafe { libc::fstat(fd, &mut st) } == 0 && st.st_ino == self.inner.ino;
            // SAFETY: fd is ours.
            unsafe { libc::close(fd) };
            same
        };
        self.inner.unlink_on_drop.store(false, Ordering::Release);
        registry::disown(name);
        if !ours {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("shared memory block {name} was unlinked already"),
            ));
        }
        // SAFETY: plain syscall with a valid C string.
        if unsafe { libc::shm_unlink(c.as_ptr()) } != 0 {
            return Err(last_os_error(format!(
                "cannot unlink shared memory block {name}"
            )));
        }
        // The name may now be given to another block: attaching by it must
        // not find this mapping.
        let mut live = lock(&LIVE);
        if live
            .get(name)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.inner)))
        {
            live.remove(name);
        }
        Ok(())
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
            registry::disown(&self.name);
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
    fn an_explicit_unlink_removes_the_name_and_keeps_the_mapping() {
        let shm = SharedMemory::create(4096).unwrap();
        let name = shm.name().to_owned();
        let other = SharedMemory::attach(&name).unwrap();
        shm.unlink().unwrap();
        assert!(!exists(&name));
        assert!(
            SharedMemory::attach(&name).is_err(),
            "nobody can attach any more"
        );
        // SAFETY: 4096 bytes mapped, ours alone.
        unsafe { shm.as_mut_slice()[4095] = 7 };
        assert_eq!(unsafe { other.as_slice()[4095] }, 7);
        assert_eq!(shm.unlink().unwrap_err().kind(), ErrorKind::NotFound);
        // A block made under the same name since is not ours to unlink.
        let again = SharedMemory::create_named(&name, 64).unwrap();
        assert_eq!(shm.unlink().unwrap_err().kind(), ErrorKind::NotFound);
        assert!(exists(&name));
        drop((shm, other));
        assert!(exists(&name), "the new block outlives the old handles");
        drop(again);
        assert!(!exists(&name));
    }

    #[test]
    fn attaching_with_a_size_refuses_a_smaller_block() {
        let shm = SharedMemory::create(64).unwrap();
        let e = SharedMemory::attach_sized(shm.name(), Some(128)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("64 bytes, 128"), "{}", e.message());
        assert!(SharedMemory::attach_sized(shm.name(), Some(64)).is_ok());
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
        let err = SharedMemory::create_named("appose_owner_1_2", 16).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        assert!(!exists("appose_owner_1_2"));
    }

    #[test]
    fn blocks_over_4_gib() {
        // Made sparse by hand: creating one here would reserve 4 GiB of
        // memory. Creation's sizes past 4 GiB are checked in
        // tests/shm_space.rs.
        let big = (4usize << 30) + 4096;
        let name = format!("psm_t{:07x}", std::process::id() & 0xfff_ffff);
        let c = c_name(&name).unwrap();
        // SAFETY: plain syscalls on a block of our own.
        unsafe {
            let fd = libc::shm_open(
                c.as_ptr(),
                libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
                0o600,
            );
            assert!(fd >= 0, "{}", std::io::Error::last_os_error());
            assert_eq!(libc::ftruncate(fd, big as libc::off_t), 0);
            libc::close(fd);
        }
        let a = SharedMemory::attach(&name).unwrap();
        a.set_unlink_on_drop(true);
        unsafe { *a.as_ptr().add(big - 1) = 7 };
        let b = SharedMemory::attach(a.name()).unwrap();
        assert_eq!(b.size(), big);
        assert_eq!(b.rsize(), big);
        assert_eq!(unsafe { *b.as_ptr().add(big - 1) }, 7);
        drop((a, b));
        assert!(!exists(&name));
    }

    #[test]
    fn creation_reserves_every_page() {
        let a = SharedMemory::create((1 << 20) + 1).unwrap();
        let c = c_name(a.name()).unwrap();
        // SAFETY: plain syscalls; fd is ours, closed after.
        let allocated = unsafe {
            let fd = libc::shm_open(c.as_ptr(), libc::O_RDONLY, 0);
            assert!(fd >= 0);
            let mut st: libc::stat = std::mem::zeroed();
            assert_eq!(libc::fstat(fd, &mut st), 0);
            libc::close(fd);
            st.st_blocks as u64 * 512
        };
        // Untouched, a merely sized block has no pages at all.
        assert!(allocated > 1 << 20, "{allocated} bytes allocated");
    }

    #[test]
    fn the_no_space_message_says_what_and_how_to_fix_it() {
        assert_eq!(bytes(1000), "1000 bytes");
        assert_eq!(bytes(4095), "4095 bytes (4.0 KiB)");
        assert_eq!(bytes(64 << 20), "67108864 bytes (64.0 MiB)");
        assert_eq!(bytes((4 << 30) + 4096), "4294971392 bytes (4.0 GiB)");
        assert_eq!(suggested_shm_size(1), "1g");
        assert_eq!(suggested_shm_size((1 << 30) + 1), "2g");
        assert_eq!(suggested_shm_size(5 << 30), "8g");
        let space = Space {
            free: 16 << 20,
            total: 64 << 20,
        };
        let err = no_space(
            "psm_00000000",
            100 << 20,
            "No space left on device",
            Some(space),
        );
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(
            err.message(),
            "cannot reserve 104857600 bytes (100.0 MiB) for shared memory block \
             psm_00000000: No space left on device; /dev/shm has 16777216 bytes \
             (16.0 MiB) free of 67108864 bytes (64.0 MiB). Without the reservation \
             the first write would kill the process with SIGBUS. Make room: free \
             blocks no longer needed, run the container with --shm-size=1g, or \
             remount /dev/shm larger (mount -o remount,size=1g /dev/shm)."
        );
    }
}
