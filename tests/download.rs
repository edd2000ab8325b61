//! Tool bootstrap for real, against an HTTP server on loopback: tar.gz,
//! tar.bz2 and zip archives, progress events, the run bit, a truncated
//! download refused, a checksum mismatch refused, the mirror variable
//! honoured, and uv installed from PyPI when no download works. One test:
//! it sets a process-wide variable.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use appose::{Builder, BuilderKind, ErrorKind};

const SCRIPT: &[u8] = b"#!/bin/sh\necho \"$(basename \"$0\") standin\"\n";

fn tar_of(path: &str, data: &[u8]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644); // the installer sets the run bit
    header.set_cksum();
    tar.append_data(&mut header, path, data).unwrap();
    tar.into_inner().unwrap()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bz2(data: &[u8]) -> Vec<u8> {
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zip_of(path: &str, data: &[u8]) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    z.start_file(path, opts).unwrap();
    z.write_all(data).unwrap();
    z.finish().unwrap().into_inner()
}

/// Serves `files` by path; `/trunc/...` announces more bytes than it sends.
/// Answers at most `limit` requests, then stops by itself.
fn serve(files: HashMap<String, Vec<u8>>, limit: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(limit) {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let reply = if let Some(rest) = path.strip_prefix("/trunc") {
                let body = files.get(rest).cloned().unwrap_or_default();
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body[..body.len() / 3]);
                r
            } else if let Some(body) = files.get(&path) {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(body);
                r
            } else {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            };
            let _ = stream.write_all(&reply);
        }
    });
    port
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn run(exe: &Path, arg: &str) -> String {
    let out = Command::new(exe).arg(arg).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn tools_are_downloaded_unpacked_and_installed() {
    let (arch_uv, arch_pixi, arch_mm) = if cfg!(target_arch = "x86_64") {
        (
            "uv-x86_64-unknown-linux-gnu",
            "pixi-x86_64-unknown-linux-musl.tar.gz",
            "micromamba-linux-64.tar.bz2",
        )
    } else {
        (
            "uv-aarch64-unknown-linux-gnu",
            "pixi-aarch64-unknown-linux-musl.tar.gz",
            "micromamba-linux-aarch64.tar.bz2",
        )
    };
    let mut files = HashMap::new();
    // uv's real layout: a directory named after the platform holding `uv`.
    let uv_tgz = gz(&tar_of(&format!("{arch_uv}/uv"), SCRIPT));
    files.insert(format!("/uv/0.9.5/{arch_uv}.tar.gz"), uv_tgz.clone());
    // Served as a zip under pixi's name: the format is told by content.
    files.insert(format!("/pixi/v0.58.0/{arch_pixi}"), zip_of("pixi", SCRIPT));
    let mm_tbz = bz2(&tar_of("bin/micromamba", SCRIPT));
    files.insert(format!("/micromamba/2.8.1-1/{arch_mm}"), mm_tbz.clone());
    let port = serve(files, 50);
    let mirror = format!("http://127.0.0.1:{port}");

    // The variable, with no builder setting, points the download at us.
    // SAFETY: set before any thread of this test reads the environment.
    unsafe { std::env::set_var("APPOSE_TOOL_MIRROR", &mirror) };
    let root = tempfile::tempdir().unwrap();

    // Our stand-in is not micromamba 2.8.1-1: the checksum recorded for
    // that release refuses it, and nothing is installed.
    let mut b = Builder::new(BuilderKind::Mamba);
    b.envs_root(root.path());
    let err = b.install_tool().unwrap_err();
    assert!(err.message().contains("checksum mismatch"), "{err}");
    assert!(err.message().contains(&sha256_hex(&mm_tbz)), "{err}");
    assert!(!root.path().join(".mamba/bin/micromamba").exists());

    let progress = Arc::new(Mutex::new(Vec::new()));
    let sink = progress.clone();
    let mut b = Builder::new(BuilderKind::Uv);
    b.envs_root(root.path())
        .tool_sha256(&sha256_hex(&uv_tgz))
        .on_progress(Box::new(move |t, c, m| {
            sink.lock().unwrap().push((t.to_owned(), c, m))
        }));
    let uv = b.install_tool().unwrap();
    assert_eq!(uv, root.path().join(".uv/bin/uv"));
    assert_eq!(run(&uv, "--version"), "uv standin");
    let progress = progress.lock().unwrap().clone();
    assert!(progress
        .iter()
        .all(|(t, _, m)| t == "Downloading uv" && *m == uv_tgz.len() as u64));
    assert_eq!(progress.first().map(|p| p.1), Some(0));
    assert_eq!(progress.last().map(|p| p.1), Some(uv_tgz.len() as u64));
    assert!(progress.windows(2).all(|w| w[0].1 <= w[1].1));
    unsafe { std::env::remove_var("APPOSE_TOOL_MIRROR") };

    // A checksum that is not one is refused before anything is fetched.
    let mut b = Builder::new(BuilderKind::Mamba);
    b.envs_root(root.path())
        .tool_mirror(&mirror)
        .tool_sha256("abc");
    let err = b.install_tool().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.message().contains("64 hexadecimal digits"), "{err}");

    // zip and tar.bz2, through the builder's own mirror setting; pixi has
    // no recorded checksum and says so, micromamba is checked against the
    // mirror's own.
    for (kind, rel, sha) in [
        (BuilderKind::Pixi, ".pixi/bin/pixi", None),
        (
            BuilderKind::Mamba,
            ".mamba/bin/micromamba",
            Some(sha256_hex(&mm_tbz)),
        ),
    ] {
        let warnings = Arc::new(Mutex::new(Vec::new()));
        let sink = warnings.clone();
        let mut b = Builder::new(kind);
        b.envs_root(root.path())
            .tool_mirror(&mirror)
            .on_error(Box::new(move |l| sink.lock().unwrap().push(l.to_owned())));
        if let Some(sha) = &sha {
            b.tool_sha256(sha);
        }
        let exe = b.install_tool().unwrap();
        assert_eq!(exe, root.path().join(rel));
        assert!(run(&exe, "x").ends_with("standin"), "{rel} does not run");
        let warned = warnings
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("installed unverified"));
        assert_eq!(
            warned,
            sha.is_none(),
            "{rel}: {:?}",
            warnings.lock().unwrap()
        );
    }
    // Nothing is left of the staging directories.
    let leftovers: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("-download-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // A truncated download is refused, and nothing is installed.
    let fresh = tempfile::tempdir().unwrap();
    let mut b = Builder::new(BuilderKind::Pixi);
    b.envs_root(fresh.path())
        .tool_mirror(&format!("{mirror}/trunc"));
    let err = b.install_tool().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("truncated"), "{err}");
    assert!(err.message().contains("Install pixi v0.58.0"), "{err}");
    assert!(!fresh.path().join(".pixi/bin/pixi").exists());

    // uv has no download here: it comes from PyPI through pip instead.
    let pip_ok = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if pip_ok {
        let mut b = Builder::new(BuilderKind::Uv);
        b.envs_root(fresh.path())
            .tool_mirror(&format!("{mirror}/nothing-here"));
        let uv = b.install_tool().unwrap();
        assert_eq!(
            run(&uv, "--version")
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>(),
            ["uv", "0.9.5"]
        );
    } else {
        common::skip("the PyPI fallback: python3 -m pip does not work here");
    }
}
