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
