//! Shared set-up for the integration tests: the real Python worker.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use appose::{Environment, Service};

/// The Python environment with the pinned `appose` package, made once by
/// `tests/support/python-env.sh` (shared by every test binary).
pub fn python_env() -> PathBuf {
    static ENV: OnceLock<PathBuf> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("python-env");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/python-env.sh");
        let status = Command::new("bash")
            .arg(script)
            .arg(&dir)
            .status()
            .expect("bash runs");
        assert!(status.success(), "setting up the Python environment failed");
        dir
    })
    .clone()
}

/// A service closed when dropped, so a failing test leaves no worker behind.
pub struct Closing(pub Service);

impl Drop for Closing {
    fn drop(&mut self) {
        let _ = self.0.close(Some(Duration::from_secs(10)));
    }
}

impl std::ops::Deref for Closing {
    type Target = Service;
    fn deref(&self) -> &Service {
        &self.0
    }
}

/// A Python worker service in the test environment.
pub fn python_service() -> Closing {
    Closing(Environment::wrap(python_env()).unwrap().python().unwrap())
}

/// A service running the test environment's python with `args`.
pub fn python_program(args: &[&str]) -> Closing {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    Closing(
        Environment::wrap(python_env())
            .unwrap()
            .service(&["python"], &args)
            .unwrap(),
    )
}

/// Has a task start `sleep 30` in a session of its own: a child that left
/// the worker's process group and holds its pipes open. Its pid.
pub fn spawn_escaped_child(svc: &Service) -> i64 {
    let spawn = svc
        .task(
            "import subprocess\nsubprocess.Popen(['sleep', '30'], start_new_session=True).pid",
            None,
            None,
        )
        .unwrap();
    spawn.wait(Some(Duration::from_secs(60))).unwrap();
    spawn.result().unwrap().as_i64().unwrap()
}

/// Polls `cond` until it holds or `limit` passes.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// Whether a process is alive (a zombie has exited already).
pub fn pid_alive(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// The environment variable naming the test a re-run is for.
const PRIVATE_SHM: &str = "APPOSE_TEST_PRIVATE_SHM";

/// What a private `/dev/shm` is made of.
#[derive(Clone, Copy, Debug)]
pub enum PrivateShm {
    /// A tmpfs of this many bytes, as Docker's `--shm-size` makes.
    Tmpfs(u64),
    /// A ramfs: no size limit and no `fallocate`.
    Ramfs,
}

impl PrivateShm {
    fn mount(self) -> String {
        match self {
            PrivateShm::Tmpfs(size) => format!("mount -t tmpfs -o size={size} tmpfs /dev/shm"),
            PrivateShm::Ramfs => "mount -t ramfs ramfs /dev/shm".to_owned(),
        }
    }

    /// Whether /dev/shm is this one (statfs type and size).
    fn is_current(self) -> bool {
        const TMPFS_MAGIC: i64 = 0x0102_1994;
        const RAMFS_MAGIC: i64 = 0x8584_58f6;
        let c = std::ffi::CString::new("/dev/shm").unwrap();
        let mut st: libc::statfs = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::statfs(c.as_ptr(), &mut st) }, 0);
        let total = st.f_blocks as u64 * st.f_bsize as u64;
        match self {
            PrivateShm::Tmpfs(size) => st.f_type as i64 == TMPFS_MAGIC && total == size,
            PrivateShm::Ramfs => st.f_type as i64 == RAMFS_MAGIC,
        }
    }
}

/// Reports that a test (or part of one) could not run here and why: printed,
/// and recorded in `target/tmp/skipped.txt`, which `tests/run.sh` empties
/// first and counts at the end, so a skip is reported as a skip rather than
/// hidden among the passes.
pub fn skip(what: &str) {
    use std::io::Write;
    println!("skipped: {what}");
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("skipped.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{what}");
    }
}

/// Runs test `name` again in a private mount namespace with a fresh `/dev/shm`
/// of its own, so that it can fill `/dev/shm` without touching the
/// machine's. Returns true in that re-run, where the caller runs its
/// scenario; in the first run, returns false once the re-run has passed and
/// panics with its output if it failed. Needs root and `unshare`: without
/// them it prints "skipped: ..." and returns false, unless
/// `APPOSE_TEST_REQUIRE_PRIVATE_SHM=1` makes that a failure.
pub fn in_private_shm(name: &str, fs: PrivateShm) -> bool {
    if std::env::var(PRIVATE_SHM).as_deref() == Ok(name) {
        // Never fill the machine's /dev/shm by mistake.
        assert!(fs.is_current(), "/dev/shm here should be a private {fs:?}");
        return true;
    }
    let mount = fs.mount();
    if let Err(why) = private_shm_works(&mount) {
        let required = std::env::var("APPOSE_TEST_REQUIRE_PRIVATE_SHM").as_deref() == Ok("1");
        assert!(!required, "{name}: {why}");
        skip(&format!("{name}: {why}"));
        return false;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!("{mount} && exec \"$0\" \"$@\""))
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(PRIVATE_SHM, name)
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} in a private /dev/shm: {}\n[stdout]\n{stdout}\n[stderr]\n{stderr}",
        out.status
    );
    print!("{name} in a private /dev/shm:\n{stdout}");
    false
}

/// Whether this process may make a private /dev/shm: root, `unshare`, and a
/// kernel or container that lets it mount.
fn private_shm_works(mount: &str) -> Result<(), String> {
    if unsafe { libc::geteuid() } != 0 {
        return Err("needs root to mount a private /dev/shm".into());
    }
    let probe = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", mount])
        .output();
    match probe {
        Err(e) => Err(format!("cannot run unshare: {e}")),
        Ok(o) if !o.status.success() => Err(format!(
            "cannot mount a private /dev/shm: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => Ok(()),
    }
}
