//! Downloading a tool's release archive and unpacking it.
//!
//! HTTP through `ureq` (blocking, rustls), archives through `tar`, `flate2`,
//! `bzip2` and `zip`: the kind is told by the file's first bytes, not its
//! name. A download shorter than its announced length is refused, and
//! archive entries cannot escape the target directory.
//!
//! Every request names itself (`User-Agent: libappose/<version>`) and goes
//! through the proxy the usual variables name: `HTTPS_PROXY` for https,
//! `HTTP_PROXY` for http (lowercase forms first, as curl reads them),
//! except for hosts `NO_PROXY` lists. ureq reads none of them itself.

use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// Which proxy a request goes through, from the environment's variables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    http: Option<String>,
    https: Option<String>,
    /// `NO_PROXY` entries: `*`, host names (matching the host and its
    /// subdomains; a leading dot is the same), optionally with `:port`, and
    /// IP addresses matched exactly (no CIDR ranges).
    no_proxy: Vec<String>,
}

impl ProxyConfig {
    /// From variables read through `get` (the process environment in use).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |names: [&str; 2]| {
            names
                .iter()
                .find_map(|n| get(n))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        ProxyConfig {
            http: var(["http_proxy", "HTTP_PROXY"]),
            https: var(["https_proxy", "HTTPS_PROXY"]),
            no_proxy: var(["no_proxy", "NO_PROXY"])
                .map(|v| {
                    v.split(',')
                        .map(|e| e.trim().to_ascii_lowercase())
                        .filter(|e| !e.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// From this process's environment.
    pub fn from_env() -> Self {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// The proxy for `url`, or `None` to connect directly.
    pub fn proxy_for(&self, url: &str) -> Option<&str> {
        let (scheme, rest) = url.split_once("://")?;
        let proxy = match scheme.to_ascii_lowercase().as_str() {
            "https" => self.https.as_deref(),
            "http" => self.http.as_deref(),
            _ => None,
        }?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = split_host_port(authority);
        let host = host.to_ascii_lowercase();
        let bypass = self.no_proxy.iter().any(|entry| {
            if entry == "*" {
                return true;
            }
            let (e_host, e_port) = split_host_port(entry);
            if e_port.is_some() && e_port != port {
                return false;
            }
            let e_host = e_host.trim_start_matches("*.").trim_start_matches('.');
            host == e_host || host.ends_with(&format!(".{e_host}"))
        });
        (!bypass).then_some(proxy)
    }
}

/// `host:port` (or `[v6]:port`) into the host and the port, if any.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((host, after)) = rest.split_once(']') {
            return (host, after.strip_prefix(':'));
        }
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.chars().all(|c| c.is_ascii_digit()) => (h, Some(p)),
        _ => (s, None),
    }
}

/// The User-Agent of every request the library makes.
pub const USER_AGENT: &str = concat!("libappose/", env!("CARGO_PKG_VERSION"));

/// An HTTP agent for `url`: our User-Agent, the proxy `config` names.
pub fn agent_for(url: &str, config: &ProxyConfig) -> Result<ureq::Agent> {
    let mut b = ureq::AgentBuilder::new()
        .user_agent(USER_AGENT)
        .timeout_connect(std::time::Duration::from_secs(30));
    if let Some(p) = config.proxy_for(url) {
        let proxy = ureq::Proxy::new(p).map_err(|e| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("the proxy {p:?} (from HTTP_PROXY/HTTPS_PROXY) cannot be used: {e}"),
            )
        })?;
        b = b.proxy(proxy);
    }
    Ok(b.build())
}

/// Downloads `url` to `dest`, reporting `(bytes so far, total or 0)`.
pub fn download(url: &str, dest: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<()> {
    download_with(url, dest, progress, &ProxyConfig::from_env())
}

/// [`download`] through the proxies `config` names.
pub fn download_with(
    url: &str,
    dest: &Path,
    progress: &mut dyn FnMut(u64, u64),
    config: &ProxyConfig,
) -> Result<()> {
    let fail =
        |what: String| Error::new(ErrorKind::Io, format!("download of {url} failed: {what}"));
    let response = agent_for(url, config)?
        .get(url)
        .call()
        .map_err(|e| fail(e.to_string()))?;
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
    // Progress at every hundredth of the size (or every 100 ms when the
    // size is unknown), so a progress bar gets at most about a hundred
    // calls whatever the network's read sizes, and always the last one.
    let step = (total / 100).max(1);
    let mut next_at = step;
    let mut last = std::time::Instant::now();
    let mut reported = 0;
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
        let due = if total > 0 {
            got >= next_at
        } else {
            last.elapsed() >= std::time::Duration::from_millis(100)
        };
        if due {
            progress(got, total);
            reported = got;
            next_at = (got / step + 1) * step;
            last = std::time::Instant::now();
        }
    }
    if reported != got {
        // The last call always says where it ended.
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;
    use std::sync::mpsc;

    fn config(vars: &[(&str, &str)]) -> ProxyConfig {
        ProxyConfig::from_vars(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_proxy_variables_are_read_as_curl_reads_them() {
        let c = config(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("HTTP_PROXY", "http://plain:3"),
            (
                "NO_PROXY",
                "internal.example, .corp.example,10.0.0.7,mirror.example:8443",
            ),
        ]);
        assert_eq!(c.proxy_for("https://github.com/x"), Some("http://lower:2"));
        assert_eq!(
            c.proxy_for("http://pypi.org/simple"),
            Some("http://plain:3")
        );
        assert_eq!(c.proxy_for("https://internal.example/a"), None);
        assert_eq!(c.proxy_for("https://a.internal.example/a"), None);
        assert_eq!(
            c.proxy_for("https://notinternal.example/a"),
            Some("http://lower:2")
        );
        assert_eq!(c.proxy_for("https://build.corp.example/a"), None);
        assert_eq!(c.proxy_for("http://10.0.0.7:8080/a"), None);
        assert_eq!(c.proxy_for("https://mirror.example:8443/a"), None);
        assert_eq!(
            c.proxy_for("https://mirror.example/a"),
            Some("http://lower:2")
        );
        assert_eq!(c.proxy_for("https://user:pw@internal.example/a"), None);
        assert_eq!(
            config(&[("NO_PROXY", "*"), ("HTTPS_PROXY", "http://p:1")]).proxy_for("https://x/"),
            None
        );
        assert_eq!(config(&[]).proxy_for("https://x/"), None);
    }

    /// Answers one request with `body`; sends back its request line and
    /// its User-Agent.
    fn one_shot(body: &'static [u8]) -> (u16, mpsc::Receiver<(String, String)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut agent = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("user-agent:") {
                    agent = v.trim().to_owned();
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(body);
            let _ = tx.send((request.trim().to_owned(), agent));
        });
        (port, rx)
    }

    #[test]
    fn downloads_go_through_the_proxy_unless_no_proxy_names_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("file");
        // Through the proxy: it gets the absolute URL of a host that does
        // not even resolve.
        let (proxy, seen) = one_shot(b"through the proxy");
        let c = config(&[("http_proxy", &format!("http://127.0.0.1:{proxy}"))]);
        download_with("http://tools.invalid/uv.tar.gz", &dest, &mut |_, _| {}, &c).unwrap();
        let (request, agent) = seen.recv().unwrap();
        assert_eq!(request, "GET http://tools.invalid/uv.tar.gz HTTP/1.1");
        assert_eq!(agent, USER_AGENT.to_ascii_lowercase());
        assert_eq!(std::fs::read(&dest).unwrap(), b"through the proxy");
        // NO_PROXY names the host: straight to it, the proxy never asked.
        let (origin, seen) = one_shot(b"direct");
        let c = config(&[
            ("http_proxy", "http://127.0.0.1:9"),
            ("no_proxy", "localhost,127.0.0.1"),
        ]);
        let url = format!("http://127.0.0.1:{origin}/uv.tar.gz");
        download_with(&url, &dest, &mut |_, _| {}, &c).unwrap();
        assert_eq!(seen.recv().unwrap().0, "GET /uv.tar.gz HTTP/1.1");
        assert_eq!(std::fs::read(&dest).unwrap(), b"direct");
    }

    #[test]
    fn progress_comes_at_most_about_a_hundred_times_and_ends_at_the_end() {
        static BODY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let body: &'static [u8] = BODY.get_or_init(|| vec![7u8; 20 << 20]);
        let (port, _seen) = one_shot(body);
        let dir = tempfile::tempdir().unwrap();
        let mut calls = Vec::new();
        let url = format!("http://127.0.0.1:{port}/big");
        download_with(
            &url,
            &dir.path().join("big"),
            &mut |cur, max| calls.push((cur, max)),
            &ProxyConfig::default(),
        )
        .unwrap();
        let total = body.len() as u64;
        assert!(calls.len() <= 102, "{} progress calls", calls.len());
        assert!(calls.len() >= 50, "{} progress calls", calls.len());
        assert_eq!(calls.first(), Some(&(0, total)));
        assert_eq!(calls.last(), Some(&(total, total)));
        assert!(
            calls.windows(2).all(|w| w[0].0 < w[1].0),
            "progress only grows"
        );
    }
}
