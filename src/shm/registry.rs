//! The owner registry: the blocks this process owns, written down where the
//! next process can find them if this one is killed.
//!
//! Owned blocks are unlinked when their last handle goes and, at normal exit,
//! by an `atexit` hook; neither runs when the process is killed (SIGKILL, or
//! SIGTERM/SIGINT left at their default action). So a process that owns
//! blocks keeps a registry file in `/dev/shm`, `appose_owner_<pid>_<start>`
//! (`<start>`: field 22 of `/proc/<pid>/stat`, which tells a recycled pid
//! apart), and holds an exclusive `flock` on it for as long as it lives. The
//! kernel drops that lock when the process dies, however it dies.
//!
//! - The file is a log, one line per change: `+<name> <inode>` when a block
//!   becomes owned, `-<name>` when it stops being owned. It is rewritten in
//!   place when its history grows long, and deleted when the process owns
//!   nothing and at normal exit. A process forked without exec does not
//!   speak for its parent: it starts a registry of its own.
//! - The first time a process creates or attaches a block it reclaims what
//!   dead owners left ([`reclaim_orphans`]). An owner is dead only if its pid
//!   is gone or started at another time, *and* its lock can be taken. The
//!   pid test spares live owners the locking; the lock is the proof, and
//!   also protects an owner in another pid namespace sharing this
//!   `/dev/shm`, whose pid means nothing here.
//! - A dead owner's block is unlinked only if its inode is still the one
//!   listed (the name may have been reused since) and no live registry lists
//!   the name; then the registry goes, deleted while its lock is held, so
//!   two processes reclaiming at once take turns and the second finds
//!   nothing. A log cut short by the kill is read up to its last complete
//!   line. Only this user's registries and blocks are touched.
//!
//! What is left uncovered: a block the worker created, in a response the
//! host had not read yet when it was killed (nobody owns it yet).

use std::collections::{HashMap, HashSet};
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, Once};

use super::SHM_DIR;
use crate::lock;

/// Registries are named this, then `<pid>_<start>`.
pub(super) const PREFIX: &str = "appose_owner_";

/// A log this long that lists far fewer blocks is rewritten in place.
const COMPACT_AT: u64 = 64 * 1024;

struct Registry {
    /// The process this state belongs to: a child forked without exec
    /// inherits it, and must neither write to nor delete its parent's file.
    pid: libc::pid_t,
    /// The open, locked registry and its path; `None` while nothing is owned.
    file: Option<(File, PathBuf)>,
    /// Owned blocks: name to inode.
    owned: HashMap<String, u64>,
    /// Bytes written to the file: appends go there (`pwrite`, not
    /// `O_APPEND`, which would also move the in-place rewrite to the end).
    len: u64,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| {
    Mutex::new(Registry {
        pid: getpid(),
        file: None,
        owned: HashMap::new(),
        len: 0,
    })
});
static AT_EXIT: Once = Once::new();
static RECLAIMED: Once = Once::new();

fn getpid() -> libc::pid_t {
    // SAFETY: plain syscall.
    unsafe { libc::getpid() }
}

fn geteuid() -> u32 {
    // SAFETY: plain syscall.
    unsafe { libc::geteuid() }
}

impl Registry {
    /// Forgets state inherited through `fork`: the parent's blocks are the
    /// parent's. Dropping the file closes only our copy of the descriptor;
    /// the parent's lock stays.
    fn for_this_process(&mut self) -> &mut Self {
        let pid = getpid();
        if self.pid != pid {
            self.pid = pid;
            self.file = None;
            self.owned.clear();
            self.len = 0;
        }
        self
    }

    fn append(&mut self, line: &str) -> io::Result<()> {
        let (file, _) = self.file.as_ref().expect("open while blocks are owned");
        file.write_all_at(line.as_bytes(), self.len)?;
        self.len += line.len() as u64;
        Ok(())
    }

    /// Deletes the file while still holding its lock, then lets the lock go.
    fn close(&mut self) {
        if let Some((file, path)) = self.file.take() {
            let _ = std::fs::remove_file(&path);
            drop(file);
        }
        self.len = 0;
    }

    /// Rewrites the log as the list of what is owned: written over the start
    /// of the old log, then cut. Killed in between, the file reads as the
    /// list followed by a tail of the old log, whose last word on each name
    /// is still the right one.
    fn compact(&mut self) {
        let text: String = self.owned.iter().map(|(n, i)| entry(n, *i)).collect();
        let (file, _) = self.file.as_ref().expect("open while blocks are owned");
        if file.write_all_at(text.as_bytes(), 0).is_ok() && file.set_len(text.len() as u64).is_ok()
        {
            self.len = text.len() as u64;
        }
    }
}

fn entry(name: &str, ino: u64) -> String {
    format!("+{name} {ino}\n")
}

/// Records that this process owns block `name` (inode `ino`).
pub(super) fn own(name: &str, ino: u64) -> io::Result<()> {
    AT_EXIT.call_once(|| {
        // SAFETY: registering a plain extern "C" fn.
        unsafe { libc::atexit(at_exit) };
    });
    let mut guard = lock(&REGISTRY);
    let r = guard.for_this_process();
    if r.file.is_none() {
        r.file = Some(create_registry()?);
        r.len = 0;
    }
    let result = r.append(&entry(name, ino));
    match result {
        Ok(()) => {
            r.owned.insert(name.to_owned(), ino);
        }
        Err(_) if r.owned.is_empty() => r.close(),
        Err(_) => {}
    }
    result
}

/// Records that this process no longer owns block `name`. Best effort: a
/// stale entry is harmless, the inode check keeps it from touching a later
/// block of that name.
pub(super) fn disown(name: &str) {
    let mut guard = lock(&REGISTRY);
    let r = guard.for_this_process();
    if r.owned.remove(name).is_none() {
        return;
    }
    if r.owned.is_empty() {
        r.close();
        return;
    }
    let _ = r.append(&format!("-{name}\n"));
    let listed: u64 = r.owned.keys().map(|n| n.len() as u64 + 22).sum();
    if r.len > COMPACT_AT && r.len > 4 * listed {
        r.compact();
    }
}

/// The registry's path while this process owns blocks.
pub fn registry_path() -> Option<PathBuf> {
    let mut guard = lock(&REGISTRY);
    let r = guard.for_this_process();
    r.file.as_ref().map(|(_, p)| p.clone())
}

extern "C" fn at_exit() {
    // Best effort: a process that exits normally leaves no block it owns,
    // and no registry.
    let mut r = lock(&REGISTRY);
    if r.pid != getpid() {
        return;
    }
    for name in r.owned.keys() {
        if let Ok(c) = CString::new(format!("/{name}")) {
            // SAFETY: plain syscall with a valid C string.
            unsafe { libc::shm_unlink(c.as_ptr()) };
        }
    }
    r.owned.clear();
    r.close();
}

fn create_registry() -> io::Result<(File, PathBuf)> {
    let pid = getpid();
    let start = start_time(pid).unwrap_or(0);
    let base = format!("{PREFIX}{pid}_{start}");
    for attempt in 0..16 {
        // The plain name is taken only by a namesake in another pid namespace.
        let name = if attempt == 0 {
            base.clone()
        } else {
            let b = *uuid::Uuid::new_v4().as_bytes();
            format!("{base}_{:02x}{:02x}{:02x}{:02x}", b[0], b[1], b[2], b[3])
        };
        let path = Path::new(SHM_DIR).join(name);
        let file = match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        };
        flock(&file, libc::LOCK_EX)?;
        // A reclaimer in another pid namespace may have taken the new,
        // unlocked file for a dead owner's and deleted it: then try again.
        if same_file(&file, &path) {
            return Ok((file, path));
        }
    }
    Err(io::Error::other(format!(
        "cannot create an owner registry {base} in {SHM_DIR}"
    )))
}

fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: plain syscall on an open descriptor.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            return Err(err);
        }
    }
}

/// Whether `path` still names the file open as `file`.
fn same_file(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks
/// since boot.
fn start_time(pid: libc::pid_t) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 2 is the command in parentheses and may hold spaces or ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The pid and start time a registry's file name gives.
fn parse_name(file_name: &str) -> Option<(libc::pid_t, u64)> {
    let mut parts = file_name.strip_prefix(PREFIX)?.split('_');
    let pid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    Some((pid, start))
}

/// The blocks a registry's text lists, by name, with their inodes. Only
/// complete lines count; lines that do not parse (a tail left by an
/// interrupted rewrite) are skipped.
fn parse_log(text: &[u8]) -> HashMap<String, u64> {
    let mut owned = HashMap::new();
    let complete = match text.iter().rposition(|&b| b == b'\n') {
        Some(end) => &text[..end],
        None => return owned,
    };
    for line in complete.split(|&b| b == b'\n') {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        if let Some(added) = line.strip_prefix('+') {
            let parsed = added
                .rsplit_once(' ')
                .and_then(|(n, i)| Some((n, i.parse::<u64>().ok()?)));
            if let Some((name, ino)) = parsed.filter(|(n, _)| super::valid_name(n)) {
                owned.insert(name.to_owned(), ino);
            }
        } else if let Some(removed) = line.strip_prefix('-') {
            owned.remove(removed);
        }
    }
    owned
}

fn read_log(file: &File) -> HashMap<String, u64> {
    let mut text = Vec::new();
    let mut reader = file;
    match reader.read_to_end(&mut text) {
        Ok(_) => parse_log(&text),
        Err(_) => HashMap::new(),
    }
}

/// Reclaims once per process, on its first block (see the module doc).
pub(super) fn reclaim_once() {
    RECLAIMED.call_once(|| {
        reclaim_orphans();
    });
}

/// Unlinks the blocks listed by registries whose owners are provably dead,
/// then those registries; returns how many blocks it unlinked. Runs by
/// itself on the first block a process creates or attaches; never touches a
/// live owner's blocks (see the module doc for how death is proven).
pub fn reclaim_orphans() -> usize {
    let Ok(dir) = std::fs::read_dir(SHM_DIR) else {
        return 0;
    };
    let uid = geteuid();
    let mut dead = Vec::new();
    let mut live_names = HashSet::new();
    for entry in dir.flatten() {
        let file_name = entry.file_name();
        let Some((pid, start)) = file_name.to_str().and_then(parse_name) else {
            continue;
        };
        let path = entry.path();
        let Ok(file) = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
        else {
            continue;
        };
        let ours = file.metadata().is_ok_and(|m| m.is_file() && m.uid() == uid);
        if !ours {
            continue;
        }
        let pid_dead = start_time(pid) != Some(start);
        if pid_dead && flock(&file, libc::LOCK_EX | libc::LOCK_NB).is_ok() {
            // Another reclaimer may have deleted it before we got the lock.
            if same_file(&file, &path) {
                dead.push((file, path));
            }
        } else {
            live_names.extend(read_log(&file).into_keys());
        }
    }
    let mut unlinked = 0;
    for (file, path) in dead {
        for (name, ino) in read_log(&file) {
            if !live_names.contains(&name) && unlink_if_same(&name, ino, uid) {
                unlinked += 1;
            }
        }
        let _ = std::fs::remove_file(&path);
    }
    unlinked
}

/// Unlinks block `name` if it is still the file with inode `ino`, ours.
fn unlink_if_same(name: &str, ino: u64, uid: u32) -> bool {
    let Ok(c) = CString::new(format!("/{name}")) else {
        return false;
    };
    // SAFETY: plain syscall with a valid C string.
    let fd = unsafe { libc::shm_open(c.as_ptr(), libc::O_RDONLY, 0) };
    if fd < 0 {
        return false;
    }
    // SAFETY: zeroed stat is a valid out-buffer; fd is ours, closed after.
    let same = unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        let ok = libc::fstat(fd, &mut st) == 0 && st.st_ino == ino && st.st_uid == uid;
        libc::close(fd);
        ok
    };
    // SAFETY: plain syscall with a valid C string.
    same && unsafe { libc::shm_unlink(c.as_ptr()) } == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_replayed_up_to_its_last_complete_line() {
        let log = b"+psm_a 1\n+psm_b 2\n-psm_a\n+my block 3\nb 4\n-\n+psm_c x\n+psm_d 5";
        let owned = parse_log(log);
        let mut names: Vec<_> = owned.iter().map(|(n, i)| (n.as_str(), *i)).collect();
        names.sort();
        assert_eq!(names, vec![("my block", 3), ("psm_b", 2)]);
        assert!(parse_log(b"+psm_a 1").is_empty(), "no complete line");
        assert!(parse_log(b"").is_empty());
    }

    #[test]
    fn a_compacted_log_cut_short_still_reads_right() {
        // The list written over the start, the old log's tail after it.
        let old = "+psm_a 1\n+psm_b 2\n-psm_a\n+psm_c 3\n-psm_b\n+psm_a 4\n";
        let new = "+psm_c 3\n+psm_a 4\n";
        let torn = format!("{new}{}", &old[new.len()..]);
        assert_eq!(parse_log(torn.as_bytes()), parse_log(old.as_bytes()));
    }

    #[test]
    fn registry_names() {
        assert_eq!(parse_name("appose_owner_42_1234"), Some((42, 1234)));
        assert_eq!(
            parse_name("appose_owner_42_1234_0a1b2c3d"),
            Some((42, 1234))
        );
        assert_eq!(parse_name("appose_owner_x_1"), None);
        assert_eq!(parse_name("psm_01234567"), None);
        assert!(start_time(getpid()).is_some());
    }
}
