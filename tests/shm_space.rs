//! A `/dev/shm` too small for a block: creation refuses it with the sizes
//! and the fix, and a worker that writes past the space is reported as
//! killed by SIGBUS. Each test runs again in a private `/dev/shm`, a 16 MiB
//! tmpfs or a ramfs (`common::in_private_shm`), so the machine's is never
//! filled.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use appose::{DType, ErrorKind, NDArray, Order, SharedMemory, TaskStatus};
use common::PrivateShm;

const MIB: usize = 1 << 20;
const TMPFS_BYTES: u64 = 16 << 20;
const TMPFS: PrivateShm = PrivateShm::Tmpfs(TMPFS_BYTES);

/// Everything in /dev/shm: blocks and any other file.
fn listing() -> BTreeSet<String> {
    std::fs::read_dir("/dev/shm")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect()
}

#[test]
fn a_block_larger_than_dev_shm_is_refused_and_leaves_nothing() {
    if !common::in_private_shm(
        "a_block_larger_than_dev_shm_is_refused_and_leaves_nothing",
        TMPFS,
    ) {
        return;
    }
    let before = listing();
    let err = SharedMemory::create(64 * MIB).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    let message = err.message();
    for part in [
        "cannot reserve 67108864 bytes (64.0 MiB) for shared memory block psm_",
        "No space left on device",
        "free of 16777216 bytes (16.0 MiB)",
        "SIGBUS",
        "--shm-size=1g",
    ] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
    assert_eq!(listing(), before, "a refused block leaves nothing behind");

    // Past 4 GiB the size is still the one asked for, not cut to 32 bits.
    let err = SharedMemory::create((4 << 30) + 4096).unwrap_err();
    assert!(err.message().contains("4294971392 bytes"), "{err}");
    // And through the array API.
    let err = NDArray::new(DType::Float32, &[16 * MIB / 4, 2], Order::C).unwrap_err();
    assert!(err.message().contains("33554432 bytes"), "{err}");
    assert_eq!(listing(), before);

    // Full to the last page (by someone else), even one page is refused
    // with the same message.
    let filler = std::fs::File::create("/dev/shm/filler").unwrap();
    let mut len = TMPFS_BYTES;
    while unsafe { libc::fallocate(std::os::fd::AsRawFd::as_raw_fd(&filler), 0, 0, len as i64) }
        != 0
    {
        len -= 4096;
    }
    let err = SharedMemory::create(4096).unwrap_err();
    assert!(
        err.message()
            .starts_with("cannot reserve 4096 bytes (4.0 KiB)")
            && err.message().contains("No space left on device")
            && err.message().contains("/dev/shm has 0 bytes free"),
        "{err}"
    );
    drop(filler);
    std::fs::remove_file("/dev/shm/filler").unwrap();
    assert_eq!(listing(), before);
}

#[test]
fn a_block_that_fits_is_reserved_and_fully_writable() {
    if !common::in_private_shm("a_block_that_fits_is_reserved_and_fully_writable", TMPFS) {
        return;
    }
    let before = listing();
    let a = SharedMemory::create(8 * MIB).unwrap();
    unsafe { a.as_mut_slice().fill(0xa5) };
    // 12 MiB more would fit an empty 16 MiB tmpfs, not one holding 8 MiB:
    // refused now, where without the reservation it would be made and its
    // first writes would kill this process.
    let err = SharedMemory::create(12 * MIB).unwrap_err();
    assert!(err.message().contains("12582912 bytes"), "{err}");
    assert!(unsafe { a.as_slice() }.iter().all(|&b| b == 0xa5));
    // What is left still fits a block, written to its last byte.
    let b = SharedMemory::create(4 * MIB).unwrap();
    unsafe { b.as_mut_slice().fill(0x5a) };
    drop((a, b));
    assert_eq!(listing(), before);
}

#[test]
fn a_worker_killed_by_sigbus_is_reported_as_such() {
    common::python_env();
    if !common::in_private_shm("a_worker_killed_by_sigbus_is_reported_as_such", TMPFS) {
        return;
    }
    let svc = common::python_service();
    // Python sizes its block with ftruncate alone; writing 64 MiB into the
    // 16 MiB tmpfs ends in SIGBUS.
    let script = "\
from appose import NDArray
a = NDArray('uint8', [64 * 1024 * 1024])
a.ndarray()[:] = 1
'not reached'
";
    let task = svc.task(script, None, None).unwrap();
    let err = task.wait(Some(Duration::from_secs(120))).unwrap_err();
    assert_eq!(task.status(), TaskStatus::Crashed, "{err}");
    assert_eq!(err.kind(), ErrorKind::TaskCrashed);
    let message = task.error().unwrap_or_default();
    println!("{message}");
    assert!(
        message.starts_with("Worker crashed with exit code 135.\n\n[stdout]\n"),
        "{message}"
    );
    assert!(
        message.contains("\nThe worker was killed by SIGBUS (exit code 135): most likely shared memory ran out (/dev/shm has "),
        "{message}"
    );
    assert!(message.contains("free of 16777216 bytes"), "{message}");
}

#[test]
fn without_fallocate_blocks_are_made_unreserved() {
    // ramfs has neither fallocate nor a size limit: nothing to reserve, and
    // no reason to refuse.
    if !common::in_private_shm(
        "without_fallocate_blocks_are_made_unreserved",
        PrivateShm::Ramfs,
    ) {
        return;
    }
    let before = listing();
    let a = SharedMemory::create(MIB + 1).unwrap();
    unsafe { a.as_mut_slice().fill(7) };
    assert!(unsafe { a.as_slice() }.iter().all(|&b| b == 7));
    drop(a);
    assert_eq!(listing(), before);
}

#[test]
fn an_absurd_size_is_refused_before_anything_is_reserved() {
    // Run in a 16 MiB private tmpfs: were the size not checked first, the
    // reservation would fill whatever /dev/shm it is given.
    if !common::in_private_shm(
        "an_absurd_size_is_refused_before_anything_is_reserved",
        TMPFS,
    ) {
        return;
    }
    let before = listing();
    for size in [1usize << 60, (TMPFS_BYTES as usize) + 4096] {
        let err = SharedMemory::create(size).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
        assert!(
            err.message().contains("more than is free"),
            "not refused up front: {err}"
        );
        assert!(err.message().contains(&format!("{size} bytes")), "{err}");
    }
    assert_eq!(listing(), before);
}
