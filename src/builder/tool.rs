//! External package-management tools (uv, pixi, micromamba): finding them,
//! bootstrapping them, and running them with their output streamed.
//!
//! A tool is looked for in the envs root (`<root>/.uv/bin/uv`, ...), then on
//! `PATH`; failing both, the release the peers pin is downloaded and
//! unpacked into the envs root. `APPOSE_TOOL_MIRROR` (or the builder's
//! mirror setting) replaces the release host: files are then fetched from
//! `<mirror>/<tool>/<version>/<file>`. uv, also published on PyPI, falls back
//! to `python3 -m pip install uv==<version>` when no download works.
//!
//! Every downloaded archive is checked against the SHA-256 recorded here for
//! the pinned release before anything is unpacked; a mismatch is refused.
//! A mirror serving other builds names their checksum with the builder's
//! `tool_sha256`. A release with no recorded checksum (pixi, see below) is
//! installed with a warning on the error listeners.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{download, Listeners};
use crate::error::{Error, ErrorKind, Result};

/// The environment variable naming a mirror of the tools' release files.
pub const MIRROR_VAR: &str = "APPOSE_TOOL_MIRROR";

/// What a tool is and where its pinned release lives.
#[derive(Clone, Debug)]
pub struct ToolSpec {
    pub name: &'static str,
    pub version: &'static str,
    /// Release file for this platform (None: no release for it).
    pub file: Option<&'static str>,
    /// Where the release files live, without the file name.
    pub release_base: &'static str,
    /// Path of the executable below the envs root.
    pub rel_command: &'static str,
    /// Requirement to install from PyPI when no download works.
    pub pypi: Option<&'static str>,
    /// SHA-256 (lower-case hex) of `file` in the pinned release.
    pub sha256: Option<&'static str>,
}

const X86_64: bool = cfg!(target_arch = "x86_64");

pub const UV: ToolSpec = ToolSpec {
    name: "uv",
    version: "0.9.5",
    file: if X86_64 {
        Some("uv-x86_64-unknown-linux-gnu.tar.gz")
    } else {
        Some("uv-aarch64-unknown-linux-gnu.tar.gz")
    },
    release_base: "https://github.com/astral-sh/uv/releases/download/0.9.5",
    rel_command: ".uv/bin/uv",
    pypi: Some("uv==0.9.5"),
    // From the table of release checksums kept by astral-sh/setup-uv
    // (src/download/checksum/known-checksums.ts, keys
    // "<platform>-0.9.5"), which it builds from the `.sha256` files uv
    // publishes beside each archive.
    sha256: if X86_64 {
        Some("2cf10babba653310606f8b49876cfb679928669e7ddaa1fb41fb00ce73e64f66")
    } else {
        Some("9db0c2f6683099f86bfeea47f4134e915f382512278de95b2a0e625957594ff3")
    },
};

pub const PIXI: ToolSpec = ToolSpec {
    name: "pixi",
    version: "v0.58.0",
    file: if X86_64 {
        Some("pixi-x86_64-unknown-linux-musl.tar.gz")
    } else {
        Some("pixi-aarch64-unknown-linux-musl.tar.gz")
    },
    release_base: "https://github.com/prefix-dev/pixi/releases/download/v0.58.0",
    rel_command: ".pixi/bin/pixi",
    pypi: None,
    // No published checksum of v0.58.0's archives could be read from here
    // (pixi's `.sha256` files sit beside the archives on GitHub, out of
    // reach); installed with a warning until one is recorded.
    sha256: None,
};

pub const MICROMAMBA: ToolSpec = ToolSpec {
    name: "micromamba",
    // Pinned (the peers take whatever micro.mamba.pm calls latest, which
    // no checksum can cover): the static build of mamba 2.8.1.
    version: "2.8.1-1",
    file: if X86_64 {
        Some("micromamba-linux-64.tar.bz2")
    } else {
        Some("micromamba-linux-aarch64.tar.bz2")
    },
    release_base: "https://github.com/mamba-org/micromamba-releases/releases/download/2.8.1-1",
    rel_command: ".mamba/bin/micromamba",
    pypi: None,
    // From Homebrew's micromamba-static formula for 2.8.1-1, which
    // downloads these very files; the linux-64 value also appears, for the
    // same release, in independent build scripts that check it with
    // sha256sum.
    sha256: if X86_64 {
        Some("8528263837623551a44464a372e5bd6b0b856479a83d2a77490a19dd98da3b06")
    } else {
        Some("daa4d5c7c5d688ce0deed4ff7887a4ff95429c89d80c76e39ab1ee3d5f66b913")
    },
};

impl ToolSpec {
    /// The download address, honouring a mirror.
    pub fn url(&self, mirror: Option<&str>) -> Option<String> {
        let file = self.file?;
        Some(match mirror {
            Some(m) => format!(
                "{}/{}/{}/{file}",
                m.trim_end_matches('/'),
                self.name,
                self.version
            ),
            None => format!("{}/{file}", self.release_base),
        })
    }
}

/// A located, runnable tool.
#[derive(Clone, Debug)]
pub struct Tool {
    pub spec: ToolSpec,
    pub command: PathBuf,
    pub flags: Vec<String>,
    pub env_vars: Vec<(String, String)>,
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// Finds `spec` (envs root, then PATH) or installs it into the envs root.
pub fn locate(
    spec: &ToolSpec,
    root: &Path,
    mirror: Option<&str>,
    sha256: Option<&str>,
    listeners: &mut Listeners,
) -> Result<PathBuf> {
    let managed = root.join(spec.rel_command);
    if is_executable(&managed) {
        return Ok(managed);
    }
    if let Some(found) = on_path(spec.name) {
        return Ok(found);
    }
    install(spec, root, mirror, sha256, listeners)?;
    Ok(managed)
}

/// Downloads and unpacks the pinned release into the envs root. `sha256`
/// replaces the recorded checksum (for a mirror serving other builds).
pub fn install(
    spec: &ToolSpec,
    root: &Path,
    mirror: Option<&str>,
    sha256: Option<&str>,
    listeners: &mut Listeners,
) -> Result<()> {
    let expected = match sha256 {
        Some(hex) => Some(parse_sha256(hex)?),
        None => spec
            .sha256
            .map(|h| parse_sha256(h).expect("recorded checksums are valid")),
    };
    let env_mirror = std::env::var(MIRROR_VAR).ok().filter(|m| !m.is_empty());
    let mirror = mirror.map(str::to_owned).or(env_mirror);
    let dest = root.join(spec.rel_command);
    let download_error = match spec.url(mirror.as_deref()) {
        None => format!("{} publishes no release for this platform", spec.name),
        Some(url) => match fetch_and_unpack(spec, &url, expected, root, &dest, listeners) {
            Ok(()) => return Ok(()),
            Err(e) => e.to_string(),
        },
    };
    let pypi_error = match spec.pypi {
        Some(req) => {
            listeners.error(&format!(
                "{download_error}; installing {req} from PyPI instead"
            ));
            match pip_install(spec, req, root, &dest, listeners) {
                Ok(()) => return Ok(()),
                Err(e) => format!("; installing {req} with `python3 -m pip` failed too: {e}"),
            }
        }
        None => String::new(),
    };
    Err(Error::new(
        ErrorKind::NotFound,
        format!(
            "{name} is needed but is neither in {managed} nor on PATH, and it could not be \
             installed: {download_error}{pypi_error}. Install {name} {version} and put it on \
             PATH, or set {MIRROR_VAR} to a mirror holding {name}/{version}/{file}.",
            name = spec.name,
            managed = dest.display(),
            version = spec.version,
            file = spec.file.unwrap_or("<file>"),
        ),
    ))
}

/// Reads a SHA-256 written as 64 hexadecimal digits.
fn parse_sha256(hex: &str) -> Result<[u8; 32]> {
    let bad = || {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{hex:?} is not a SHA-256: expected 64 hexadecimal digits"),
        )
    };
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of a file's content.
pub fn sha256_of(path: &Path) -> Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)
        .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    Ok(hasher.finalize().into())
}

/// Refuses `archive` unless its SHA-256 is `expected`; with nothing
/// expected, says on the error listeners that it goes unverified.
fn verify(
    spec: &ToolSpec,
    url: &str,
    archive: &Path,
    expected: Option<[u8; 32]>,
    listeners: &mut Listeners,
) -> Result<()> {
    let Some(expected) = expected else {
        listeners.error(&format!(
            "warning: no SHA-256 is recorded for {} {}: the download from {url} is \
             installed unverified",
            spec.name, spec.version
        ));
        return Ok(());
    };
    let actual = sha256_of(archive)?;
    if actual != expected {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "checksum mismatch for {url}: its SHA-256 is {}, but {} {} has {}; \
                 the file was not installed",
                to_hex(&actual),
                spec.name,
                spec.version,
                to_hex(&expected)
            ),
        ));
    }
    Ok(())
}

fn fetch_and_unpack(
    spec: &ToolSpec,
    url: &str,
    expected: Option<[u8; 32]>,
    root: &Path,
    dest: &Path,
    listeners: &mut Listeners,
) -> Result<()> {
    std::fs::create_dir_all(root)
        .map_err(|e| Error::io(format!("cannot create {}", root.display()), e))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{}-download-", spec.name))
        .tempdir_in(root)
        .map_err(|e| {
            Error::io(
                format!("cannot create a directory in {}", root.display()),
                e,
            )
        })?;
    let archive = staging.path().join("archive");
    let title = format!("Downloading {}", spec.name);
    download::download(url, &archive, &mut |cur, max| {
        listeners.progress(&title, cur, max)
    })?;
    verify(spec, url, &archive, expected, listeners)?;
    let unpacked = staging.path().join("unpacked");
    download::unpack(&archive, &unpacked)?;
    let exe = download::find_file(&unpacked, spec.name).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("the archive from {url} holds no file named {}", spec.name),
        )
    })?;
    put_in_place(&exe, dest)
}

/// Moves `exe` to `dest` and sets its run bits.
fn put_in_place(exe: &Path, dest: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let ctx = |e: std::io::Error| Error::io(format!("cannot install {}", dest.display()), e);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(ctx)?;
    }
    if std::fs::rename(exe, dest).is_err() {
        std::fs::copy(exe, dest).map_err(ctx)?;
    }
    let mode = std::fs::metadata(dest).map_err(ctx)?.permissions().mode();
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(mode | 0o755)).map_err(ctx)
}

fn pip_install(
    spec: &ToolSpec,
    req: &str,
    root: &Path,
    dest: &Path,
    listeners: &mut Listeners,
) -> Result<()> {
    let target = tempfile::Builder::new()
        .prefix(&format!(".{}-pypi-", spec.name))
        .tempdir_in(root)
        .map_err(|e| {
            Error::io(
                format!("cannot create a directory in {}", root.display()),
                e,
            )
        })?;
    listeners.progress(&format!("Installing {req} from PyPI"), 0, 1);
    let python = Tool {
        spec: ToolSpec {
            name: "python3",
            ..spec.clone()
        },
        command: PathBuf::from("python3"),
        flags: Vec::new(),
        env_vars: Vec::new(),
    };
    let target_arg = target.path().to_string_lossy().into_owned();
    python.run(
        &[
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            &target_arg,
            req,
        ],
        None,
        listeners,
    )?;
    let exe = download::find_file(target.path(), spec.name).ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "pip installed {req} but no `{}` executable came with it",
                spec.name
            ),
        )
    })?;
    put_in_place(&exe, dest)?;
    listeners.progress(&format!("Installing {req} from PyPI"), 1, 1);
    Ok(())
}

/// How many error lines a failure message quotes at most.
const QUOTED_LINES: usize = 200;

impl Tool {
    /// Runs the tool with its flags before `args`, streaming stdout lines to
    /// the output listeners and stderr lines to the error listeners (through
    /// `listeners.tool_error`, which may reclassify them). Fails with the
    /// exit code, the command and the error output.
    pub fn run(&self, args: &[&str], cwd: Option<&Path>, listeners: &mut Listeners) -> Result<()> {
        let mut cmd = Command::new(&self.command);
        cmd.args(&self.flags)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        for (k, v) in &self.env_vars {
            cmd.env(k, v);
        }
        let shown = std::iter::once(self.command.display().to_string())
            .chain(self.flags.iter().cloned())
            .chain(args.iter().map(|s| s.to_string()))
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::io(format!("cannot run `{shown}`"), e))?;
        let (tx, rx) = crossbeam_channel::unbounded::<(bool, String)>();
        let mut readers = Vec::new();
        let streams: [(bool, Option<Box<dyn std::io::Read + Send>>); 2] = [
            (false, child.stdout.take().map(|s| Box::new(s) as _)),
            (true, child.stderr.take().map(|s| Box::new(s) as _)),
        ];
        for (is_err, stream) in streams {
            let Some(stream) = stream else { continue };
            let tx = tx.clone();
            readers.push(std::thread::spawn(move || {
                let mut r = BufReader::new(stream);
                let mut buf = Vec::new();
                loop {
                    buf.clear();
                    match r.read_until(b'\n', &mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let line = String::from_utf8_lossy(&buf);
                            let line = line.trim_end_matches(['\n', '\r']).to_owned();
                            if tx.send((is_err, line)).is_err() {
                                break;
                            }
                        }
                    }
                }
            }));
        }
        drop(tx);
        // Callbacks run here, on the building thread, one line at a time.
        let mut errors: Vec<String> = Vec::new();
        let mut outputs: Vec<String> = Vec::new();
        for (is_err, line) in rx {
            if is_err {
                if self.spec.name == "uv" && super::uv::is_status_line(&line) {
                    // uv reports its ordinary progress on stderr.
                    listeners.output(&line);
                    outputs.push(line);
                } else if listeners.tool_error(&line) {
                    errors.push(line);
                }
            } else {
                listeners.output(&line);
                outputs.push(line);
            }
            for kept in [&mut errors, &mut outputs] {
                if kept.len() > QUOTED_LINES {
                    kept.remove(0);
                }
            }
        }
        for r in readers {
            let _ = r.join();
        }
        let status = child
            .wait()
            .map_err(|e| Error::io(format!("cannot wait for `{shown}`"), e))?;
        if status.success() {
            return Ok(());
        }
        let code = status
            .code()
            .map_or_else(|| "a signal".to_owned(), |c| format!("exit code {c}"));
        let mut msg = format!("{} failed with {code}: {shown}", self.spec.name);
        if !errors.is_empty() {
            msg.push_str("\n\nError output:\n");
            msg.push_str(&errors.join("\n"));
        } else if !outputs.is_empty() {
            msg.push_str("\n\nOutput:\n");
            msg.push_str(&outputs.join("\n"));
        }
        Err(Error::new(ErrorKind::Io, msg))
    }
}
