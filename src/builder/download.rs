//! Downloading a tool's release archive and unpacking it.
//!
//! HTTP through `ureq` (blocking, rustls), archives through `tar`, `flate2`,
//! `bzip2` and `zip`: the kind is told by the file's first bytes, not its
//! name. A download shorter than its announced length is refused, and
//! archive entries cannot escape the target directory.

use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// Downloads `url` to `dest`, reporting `(bytes so far, total or 0)`.
pub fn download(url: &str, dest: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<()> {
    let fail =
        |what: String| Error::new(ErrorKind::Io, format!("download of {url} failed: {what}"));
    let response = ureq::get(url).call().map_err(|e| fail(e.to_string()))?;
    let total: u64 = response
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut reader = response.into_reader();
    let mut file = File::create(dest)
        .map_err(|e| Error::io(format!("cannot create {}", dest.display()), e))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut got: u64 = 0;
    progress(0, total);
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) if total > 0 && got < total => {
                return Err(fail(format!("truncated: got {got} of {total} bytes ({e})")))
            }
            Err(e) => return Err(fail(format!("{e} after {got} bytes"))),
        };
        file.write_all(&buf[..n])
            .map_err(|e| Error::io(format!("cannot write {}", dest.display()), e))?;
        got += n as u64;
        progress(got, total);
    }
    if total > 0 && got != total {
        return Err(fail(format!("truncated: got {got} of {total} bytes")));
    }
    if got == 0 {
        return Err(fail("the server sent nothing".into()));
    }
    file.sync_all()
        .map_err(|e| Error::io(format!("cannot write {}", dest.display()), e))?;
    Ok(())
}

/// Unpacks a `.tar.gz`, `.tar.bz2` or `.zip` archive into `dir`.
pub fn unpack(archive: &Path, dir: &Path) -> Result<()> {
    let ctx = |e: std::io::Error| Error::io(format!("cannot unpack {}", archive.display()), e);
    let mut file = File::open(archive).map_err(ctx)?;
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(ctx)?;
    file.rewind().map_err(ctx)?;
    std::fs::create_dir_all(dir).map_err(ctx)?;
    let reader = BufReader::new(file);
    match &magic[..n] {
        [0x1f, 0x8b, ..] => untar(flate2::read::GzDecoder::new(reader), dir).map_err(ctx),
        [b'B', b'Z', b'h', ..] => untar(bzip2::read::BzDecoder::new(reader), dir).map_err(ctx),
        [b'P', b'K', 3, 4] => unzip(reader, dir),
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "{} is not a tar.gz, tar.bz2 or zip archive",
                archive.display()
            ),
        )),
    }
}

fn untar(reader: impl Read, dir: &Path) -> std::io::Result<()> {
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_permissions(true);
    // `unpack` refuses entries that would land outside `dir`.
    tar.unpack(dir)
}

fn unzip(reader: impl Read + Seek, dir: &Path) -> Result<()> {
    let bad = |e: zip::result::ZipError| {
        Error::new(ErrorKind::Io, format!("cannot unpack zip archive: {e}"))
    };
    let mut zip = zip::ZipArchive::new(reader).map_err(bad)?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(bad)?;
        let Some(rel) = entry.enclosed_name() else {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("zip entry {:?} points outside the target", entry.name()),
            ));
        };
        let out = dir.join(rel);
        let ctx = |e: std::io::Error| Error::io(format!("cannot write {}", out.display()), e);
        if entry.is_dir() {
            std::fs::create_dir_all(&out).map_err(ctx)?;
            continue;
        }
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(ctx)?;
        }
        let mut f = File::create(&out).map_err(ctx)?;
        std::io::copy(&mut entry, &mut f).map_err(ctx)?;
        if let Some(mode) = entry.unix_mode() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(mode & 0o777))
                .map_err(ctx)?;
        }
    }
    Ok(())
}

/// The first file named `name` under `dir` (breadth first, a few levels).
pub fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let mut level = vec![dir.to_path_buf()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for d in level {
            let Ok(entries) = std::fs::read_dir(&d) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    next.push(p);
                } else if e.file_name() == name {
                    return Some(p);
                }
            }
        }
        level = next;
    }
    None
}
