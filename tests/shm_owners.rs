//! Blocks do not outlive a killed owner: the next process that uses the
//! library unlinks them, from the registry the owner kept in /dev/shm, and
//! never touches the blocks of an owner that is alive. The owners here are
//! this test binary run again in a mode (`APPOSE_TEST_OWNER_MODE`), so that
//! they can be killed.

mod common;

use std::ffi::CString;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use appose::shm::{self, exists};
use appose::{DType, NDArray, Order, SharedMemory};

const MODE: &str = "APPOSE_TEST_OWNER_MODE";

fn mode() -> Option<String> {
    std::env::var(MODE).ok()
}

/// This test binary, running test `name` in `mode`.
fn child(name: &str, mode: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(MODE, mode);
    c
}

/// Runs `name` in mode "touch" (one block made and dropped: the first
/// block of a process reclaims what dead owners left), `n` processes at once.
fn touch(name: &str, n: usize) {
    let children: Vec<Child> = (0..n)
        .map(|_| child(name, "touch").stdout(Stdio::null()).spawn().unwrap())
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a touching process failed");
    }
}

fn touch_mode() {
    drop(SharedMemory::create(4096).unwrap());
}

/// The start time of `pid` (field 22 of /proc/<pid>/stat).
fn start_time(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 1..];
    rest.split_whitespace().nth(19).unwrap().parse().unwrap()
}

/// The names a registry lists: its `+` lines less its `-` lines (none if
/// there is no registry).
fn listed(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(added) = line.strip_prefix('+') {
            names.push(added.rsplit_once(' ').unwrap().0.to_owned());
        } else if let Some(removed) = line.strip_prefix('-') {
            names.retain(|n| n != removed);
        }
    }
    names.sort();
    names.dedup();
    names
}

fn inode_of(name: &str) -> u64 {
    std::fs::metadata(format!("/dev/shm/{name}")).unwrap().ino()
}

/// A block made without the library, so that no registry lists it.
fn hand_block(tag: &str) -> (String, u64) {
    let name = format!("appose_test_{}_{tag}", std::process::id());
    let c = CString::new(format!("/{name}")).unwrap();
    unsafe {
        let fd = libc::shm_open(
            c.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_RDWR,
            0o600,
        );
        assert!(fd >= 0, "{}", std::io::Error::last_os_error());
        assert_eq!(libc::ftruncate(fd, 4096), 0);
        libc::close(fd);
    }
    let ino = inode_of(&name);
    (name, ino)
}

/// Removes what a test made, however it ends.
#[derive(Default)]
struct Cleanup {
    blocks: Vec<String>,
    files: Vec<PathBuf>,
    child: Option<Child>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
        for name in &self.blocks {
            let c = CString::new(format!("/{name}")).unwrap();
            unsafe { libc::shm_unlink(c.as_ptr()) };
        }
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}

#[test]
fn a_killed_owners_blocks_are_reclaimed_and_a_live_owners_are_not() {
    const NAME: &str = "a_killed_owners_blocks_are_reclaimed_and_a_live_owners_are_not";
    match mode().as_deref() {
        Some("hold") => {
            let a = SharedMemory::create(4096).unwrap();
            let b = NDArray::new(DType::Float64, &[16, 16], Order::C).unwrap();
            println!("blocks: {} {}", a.name(), b.shm().name());
            std::thread::sleep(Duration::from_secs(600));
            unreachable!("killed before");
        }
        Some("touch") => return touch_mode(),
        _ => {}
    }
    let mut cleanup = Cleanup::default();
    let mut holder = child(NAME, "hold").stdout(Stdio::piped()).spawn().unwrap();
    let pid = holder.id();
    let stdout = BufReader::new(holder.stdout.take().unwrap());
    cleanup.child = Some(holder);
    // The line follows the harness's "test <name> ... " on the same line.
    let line = stdout
        .lines()
        .map(Result::unwrap)
        .find_map(|l| Some(l.split_once("blocks: ")?.1.to_owned()))
        .expect("the holder names its blocks");
    let blocks: Vec<String> = line.split(' ').map(str::to_owned).collect();
    cleanup.blocks.extend(blocks.iter().cloned());
    let registry = PathBuf::from(format!("/dev/shm/appose_owner_{pid}_{}", start_time(pid)));
    cleanup.files.push(registry.clone());

    // Alive, its blocks are listed, and another process's reclaim spares them.
    let mut sorted = blocks.clone();
    sorted.sort();
    assert_eq!(listed(&registry), sorted);
    touch(NAME, 1);
    assert!(
        blocks.iter().all(|b| exists(b)),
        "a live owner's blocks were removed"
    );
    assert!(registry.exists());

    // Killed, nothing of its own cleans up; the next processes do, four at
    // once here, and take turns.
    let mut holder = cleanup.child.take().unwrap();
    holder.kill().unwrap();
    holder.wait().unwrap();
    touch(NAME, 4);
    for b in &blocks {
        assert!(!exists(b), "{b} outlived its killed owner");
    }
    assert!(!registry.exists(), "the dead owner's registry is left");
}

#[test]
fn a_registry_whose_pid_was_reused_is_reclaimed_by_inode() {
    const NAME: &str = "a_registry_whose_pid_was_reused_is_reclaimed_by_inode";
    if mode().as_deref() == Some("touch") {
        return touch_mode();
    }
    let mut cleanup = Cleanup::default();
    let (x, x_ino) = hand_block("x");
    let (y, y_ino) = hand_block("y");
    let (z, z_ino) = hand_block("z");
    cleanup.blocks.extend([x.clone(), y.clone(), z.clone()]);
    // This process is alive, but did not start at tick 1: the registry's
    // owner was another process with this pid, and is dead.
    let registry = PathBuf::from(format!("/dev/shm/appose_owner_{}_1", std::process::id()));
    cleanup.files.push(registry.clone());
    // y's inode is not the listed one: the name was reused since. z's line
    // is cut short, as a kill in the middle of a write leaves it.
    let text = format!("+{x} {x_ino}\n+{y} {}\n+{z} {z_ino}", y_ino + 1);
    std::fs::write(&registry, text).unwrap();

    touch(NAME, 1);
    assert!(!exists(&x), "the dead owner's block is left");
    assert!(exists(&y), "a block with another inode was removed");
    assert!(exists(&z), "a block on a cut-off line was removed");
    assert!(!registry.exists(), "the dead owner's registry is left");
}

#[test]
fn a_registry_still_locked_is_never_reclaimed() {
    const NAME: &str = "a_registry_still_locked_is_never_reclaimed";
    if mode().as_deref() == Some("touch") {
        return touch_mode();
    }
    let mut cleanup = Cleanup::default();
    let (w, w_ino) = hand_block("w");
    cleanup.blocks.push(w.clone());
    // Past the largest pid Linux gives: this pid means nothing here, as an
    // owner's in another pid namespace sharing /dev/shm. Its lock is held.
    let registry = PathBuf::from(format!(
        "/dev/shm/appose_owner_4194305_{}",
        std::process::id()
    ));
    cleanup.files.push(registry.clone());
    std::fs::write(&registry, format!("+{w} {w_ino}\n")).unwrap();
    let held = File::open(&registry).unwrap();
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);

    touch(NAME, 1);
    assert!(exists(&w), "a block of a live (locked) owner was removed");
    assert!(registry.exists());

    drop(held);
    touch(NAME, 1);
    assert!(!exists(&w), "the block is left after its owner's lock went");
    assert!(!registry.exists());
}

#[test]
fn the_registry_follows_what_the_process_owns() {
    const NAME: &str = "the_registry_follows_what_the_process_owns";
    if mode().as_deref() == Some("run") {
        return registry_lifecycle();
    }
    let mut cleanup = Cleanup::default();
    let out = child(NAME, "run").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let left = stdout
        .lines()
        .find_map(|l| Some(l.split_once("at exit: ")?.1));
    if let Some(left) = left {
        cleanup
            .blocks
            .extend(left.split(' ').skip(1).map(str::to_owned));
    }
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // It exited normally holding two blocks: neither they nor its registry
    // are left.
    let mut left = left.expect("the child names what it left").split(' ');
    let registry = PathBuf::from(left.next().unwrap());
    cleanup.files.push(registry.clone());
    assert!(!registry.exists(), "the registry outlived a normal exit");
    for b in left {
        assert!(!exists(b), "{b} outlived a normal exit");
    }
}

fn registry_lifecycle() {
    let pid = std::process::id();
    assert_eq!(shm::registry_path(), None, "nothing owned yet");
    let a = SharedMemory::create(4096).unwrap();
    let path = shm::registry_path().expect("a registry while a block is owned");
    assert_eq!(
        path,
        PathBuf::from(format!("/dev/shm/appose_owner_{pid}_{}", start_time(pid)))
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, format!("+{} {}\n", a.name(), inode_of(a.name())));

    // Given away, a block leaves the registry; owning nothing, the process
    // has no registry.
    let b = SharedMemory::create(4096).unwrap();
    b.set_unlink_on_drop(false);
    assert_eq!(listed(&path), vec![a.name().to_owned()]);
    drop(a);
    assert_eq!(shm::registry_path(), None);
    assert!(!path.exists());

    // Attached and then owned, as the worker's blocks are: recorded.
    let name = b.name().to_owned();
    drop(b);
    let b = SharedMemory::attach(&name).unwrap();
    assert_eq!(shm::registry_path(), None, "attached blocks are not ours");
    b.set_unlink_on_drop(true);
    assert_eq!(listed(&path), vec![name.clone()]);
    drop(b);
    assert!(!exists(&name) && !path.exists());

    // Many blocks come and go beside one that stays: the log is rewritten
    // before it grows far, and still lists the one.
    let kept = SharedMemory::create(4096).unwrap();
    let mut longest = 0;
    for _ in 0..5_000 {
        drop(SharedMemory::create(4096).unwrap());
        longest = longest.max(std::fs::metadata(&path).unwrap().len());
    }
    assert!(longest < 80 * 1024, "the registry grew to {longest} bytes");
    assert_eq!(listed(&path), vec![kept.name().to_owned()]);
    drop(kept);

    // Exiting normally with blocks still held.
    let held = [
        SharedMemory::create(4096).unwrap(),
        SharedMemory::create(4096).unwrap(),
    ];
    let path = shm::registry_path().unwrap();
    println!(
        "at exit: {} {} {}",
        path.display(),
        held[0].name(),
        held[1].name()
    );
    std::mem::forget(held);
}
