//! Builders: make (or reuse) the environment a worker needs.
//!
//! One [`Builder`] type covers every kind: uv, pixi, micromamba, custom (use
//! directories as they are) and dynamic (pick the kind from the content, as
//! the peers do: pixi for pixi.toml, pyproject.toml and environment.yml, uv
//! for requirements.txt). Each kind runs the peers' command sequence, writes
//! the builder's whole configuration to `<env>/appose.json`, and skips all
//! package work when that file already matches (byte for byte the format the
//! Python peer writes, so either can reuse the other's environments).
//!
//! Thread rules: `build` blocks the calling thread, and every progress,
//! output and error callback runs on that thread, in order.

mod download;
mod mamba;
mod pixi;
mod remove;
pub mod scheme;
pub mod tool;
mod uv;

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::environment::Environment;
use crate::error::{Error, ErrorKind, Result};
use crate::queue::{EventKind, EventQueue};
use crate::value::{Map, Value};
pub use scheme::Scheme;

/// Receives `(title, current, maximum)`; `maximum` is 0 when unknown.
pub type ProgressListener = Box<dyn FnMut(&str, u64, u64) + Send>;
/// Receives one line of a tool's output or error output.
pub type LineListener = Box<dyn FnMut(&str) + Send>;

/// The kinds of builder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuilderKind {
    Uv,
    Pixi,
    Mamba,
    /// Existing directories, no package management.
    Custom,
    /// Chooses uv, pixi or mamba from the scheme or content.
    Dynamic,
}

impl BuilderKind {
    pub fn name(self) -> &'static str {
        match self {
            BuilderKind::Uv => "uv",
            BuilderKind::Pixi => "pixi",
            BuilderKind::Mamba => "mamba",
            BuilderKind::Custom => "custom",
            BuilderKind::Dynamic => "dynamic",
        }
    }

    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "uv" => BuilderKind::Uv,
            "pixi" => BuilderKind::Pixi,
            "mamba" | "micromamba" => BuilderKind::Mamba,
            "custom" | "simple" => BuilderKind::Custom,
            "dynamic" | "" => BuilderKind::Dynamic,
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("unknown builder {name:?} (uv, pixi, mamba, custom, dynamic)"),
                ))
            }
        })
    }
}

/// The callbacks of a build, and the pixi progress monitor while it runs.
#[derive(Default)]
pub struct Listeners {
    progress: Vec<ProgressListener>,
    output: Vec<LineListener>,
    error: Vec<LineListener>,
    monitor: Option<pixi::InstallMonitor>,
    /// The queue of a build started with [`spawn_build`], while it runs.
    queue: Option<crate::queue::Sink>,
}

impl Listeners {
    pub(crate) fn progress(&mut self, title: &str, current: u64, maximum: u64) {
        for l in &mut self.progress {
            l(title, current, maximum);
        }
        if let Some(q) = &self.queue {
            q.send(EventKind::BuildProgress {
                title: title.to_owned(),
                current,
                maximum,
            });
        }
    }

    pub(crate) fn output(&mut self, line: &str) {
        for l in &mut self.output {
            l(line);
        }
        if let Some(q) = &self.queue {
            q.send(EventKind::BuildOutput {
                line: line.to_owned(),
            });
        }
    }

    pub(crate) fn error(&mut self, line: &str) {
        for l in &mut self.error {
            l(line);
        }
        if let Some(q) = &self.queue {
            q.send(EventKind::BuildError {
                line: line.to_owned(),
            });
        }
    }

    pub(crate) fn has_progress(&self) -> bool {
        !self.progress.is_empty() || self.queue.is_some()
    }

    /// A line a tool wrote to stderr. Returns whether it is error output:
    /// pixi reports success and (at `-vv`) its logs on stderr too.
    pub(crate) fn tool_error(&mut self, line: &str) -> bool {
        if pixi::is_success_line(line) {
            self.output(line);
            return false;
        }
        if let Some(mut monitor) = self.monitor.take() {
            for (title, cur, max) in monitor.parse(line) {
                self.progress(&title, cur, max);
            }
            let log = pixi::is_log_line(line);
            self.monitor = Some(monitor);
            if log {
                self.output(line);
                return false;
            }
        }
        self.error(line);
        true
    }
}

/// Builds environments. Setters return `&mut Self` for chaining.
pub struct Builder {
    kind: BuilderKind,
    name: Option<String>,
    base: Option<PathBuf>,
    envs_root: Option<PathBuf>,
    content: Option<String>,
    scheme: Option<Scheme>,
    channels: Vec<String>,
    flags: Vec<String>,
    env_vars: BTreeMap<String, String>,
    // uv
    python_version: Option<String>,
    packages: Vec<String>,
    // pixi
    conda_packages: Vec<String>,
    pypi_packages: Vec<String>,
    pixi_environment: Option<String>,
    // custom
    bin_paths: Vec<PathBuf>,
    append_system_path: bool,
    tool_mirror: Option<String>,
    tool_sha256: Option<String>,
    listeners: Listeners,
}

/// The envs root: `APPOSE_ENVS_DIR`, else `~/.local/share/appose`.
pub fn default_envs_root() -> PathBuf {
    default_envs_root_from(|k| std::env::var_os(k), home_from_passwd)
}

/// [`default_envs_root`] from the given variables and password database.
/// Without `HOME`, the home directory the password database gives the
/// user; without either, `/tmp/appose-<uid>` (never the current directory,
/// which would scatter environments wherever a program happens to run).
fn default_envs_root_from(
    var: impl Fn(&str) -> Option<std::ffi::OsString>,
    passwd_home: impl Fn() -> Option<PathBuf>,
) -> PathBuf {
    if let Some(dir) = var("APPOSE_ENVS_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = var("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(passwd_home);
    match home {
        Some(h) => h.join(".local/share/appose"),
        // SAFETY: getuid cannot fail.
        None => PathBuf::from(format!("/tmp/appose-{}/envs", unsafe { libc::getuid() })),
    }
}

/// The calling user's home directory from the password database.
fn home_from_passwd() -> Option<PathBuf> {
    let mut buf = vec![0u8; 4096];
    // SAFETY: a zeroed passwd is a valid out-buffer.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result = std::ptr::null_mut();
    // SAFETY: buffers live across the call; result points into them.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_dir.is_null() {
        return None;
    }
    // SAFETY: pw_dir is a C string inside `buf`.
    let dir = unsafe { std::ffi::CStr::from_ptr(pwd.pw_dir) };
    let dir = std::path::Path::new(std::ffi::OsStr::from_bytes(dir.to_bytes()));
    (!dir.as_os_str().is_empty()).then(|| dir.to_path_buf())
}

fn refuse(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, msg)
}

impl Builder {
    pub fn new(kind: BuilderKind) -> Self {
        Builder {
            kind,
            name: None,
            base: None,
            envs_root: None,
            content: None,
            scheme: None,
            channels: Vec::new(),
            flags: Vec::new(),
            env_vars: BTreeMap::new(),
            python_version: None,
            packages: Vec::new(),
            conda_packages: Vec::new(),
            pypi_packages: Vec::new(),
            pixi_environment: None,
            bin_paths: Vec::new(),
            append_system_path: false,
            tool_mirror: None,
            tool_sha256: None,
            listeners: Listeners::default(),
        }
    }

    pub fn kind(&self) -> BuilderKind {
        self.kind
    }

    /// The environment's name: its directory under the envs root.
    pub fn name(&mut self, name: &str) -> Result<&mut Self> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(refuse(format!("invalid environment name {name:?}")));
        }
        self.name = Some(name.to_owned());
        Ok(self)
    }

    /// The environment's directory (instead of `<envs root>/<name>`).
    pub fn base(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.base = Some(dir.into());
        self
    }

    /// Where named environments and downloaded tools live.
    pub fn envs_root(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.envs_root = Some(dir.into());
        self
    }

    /// The environment description itself (a pixi.toml, environment.yml, ...).
    pub fn content(&mut self, content: &str) -> &mut Self {
        self.content = Some(content.to_owned());
        self
    }

    /// Reads the description from a file.
    pub fn file(&mut self, path: impl AsRef<Path>) -> Result<&mut Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
        if self.scheme.is_none() {
            if let Some(s) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| Scheme::from_name(n).ok())
            {
                self.scheme = Some(s);
            }
        }
        Ok(self.content(&text))
    }

    /// Fetches the description from a URL.
    pub fn url(&mut self, url: &str) -> Result<&mut Self> {
        let fail = |e: String| Error::new(ErrorKind::Io, format!("cannot fetch {url}: {e}"));
        let text = download::agent_for(url, &download::ProxyConfig::from_env())?
            .get(url)
            .call()
            .map_err(|e| fail(e.to_string()))?
            .into_string()
            .map_err(|e| fail(e.to_string()))?;
        Ok(self.content(&text))
    }

    /// The description's format, when its content does not tell.
    pub fn scheme(&mut self, name: &str) -> Result<&mut Self> {
        self.scheme = Some(Scheme::from_name(name)?);
        Ok(self)
    }

    pub fn channel(&mut self, channel: &str) -> &mut Self {
        self.channels.push(channel.to_owned());
        self
    }

    /// An extra flag for every tool command (e.g. `--offline`).
    pub fn flag(&mut self, flag: &str) -> &mut Self {
        self.flags.push(flag.to_owned());
        self
    }

    /// An environment variable for the tools and for workers.
    pub fn env_var(&mut self, key: &str, value: &str) -> Result<&mut Self> {
        if key.is_empty() || key.contains('=') {
            return Err(refuse(format!("invalid environment variable name {key:?}")));
        }
        self.env_vars.insert(key.to_owned(), value.to_owned());
        Ok(self)
    }

    /// uv: the Python version of the venv.
    pub fn python_version(&mut self, version: &str) -> &mut Self {
        self.python_version = Some(version.to_owned());
        self
    }

    /// uv: a PyPI requirement to install.
    pub fn package(&mut self, spec: &str) -> &mut Self {
        self.packages.push(spec.to_owned());
        self
    }

    /// pixi: a conda package.
    pub fn conda(&mut self, spec: &str) -> &mut Self {
        self.conda_packages.push(spec.to_owned());
        self
    }

    /// pixi: a PyPI package.
    pub fn pypi(&mut self, spec: &str) -> &mut Self {
        self.pypi_packages.push(spec.to_owned());
        self
    }

    /// pixi: the named environment of the manifest to install and run.
    pub fn pixi_environment(&mut self, name: &str) -> &mut Self {
        self.pixi_environment = Some(name.to_owned());
        self
    }

    /// custom: a directory of executables.
    pub fn bin_path(&mut self, dir: impl Into<PathBuf>) -> &mut Self {
        self.bin_paths.push(dir.into());
        self
    }

    /// custom: also search the system `PATH`.
    pub fn append_system_path(&mut self) -> &mut Self {
        self.append_system_path = true;
        self
    }

    /// Where to download tools from instead of their release hosts (see
    /// [`tool::MIRROR_VAR`]).
    pub fn tool_mirror(&mut self, base_url: &str) -> &mut Self {
        self.tool_mirror = Some(base_url.to_owned());
        self
    }

    /// The SHA-256 (64 hex digits) a downloaded tool archive must have,
    /// instead of the one recorded for the pinned release: for a mirror
    /// that serves its own build. Checked when the tool is installed.
    pub fn tool_sha256(&mut self, hex: &str) -> &mut Self {
        self.tool_sha256 = Some(hex.to_owned());
        self
    }

    pub fn on_progress(&mut self, l: ProgressListener) -> &mut Self {
        self.listeners.progress.push(l);
        self
    }

    pub fn on_output(&mut self, l: LineListener) -> &mut Self {
        self.listeners.output.push(l);
        self
    }

    pub fn on_error(&mut self, l: LineListener) -> &mut Self {
        self.listeners.error.push(l);
        self
    }

    fn root(&self) -> PathBuf {
        self.envs_root.clone().unwrap_or_else(default_envs_root)
    }

    /// The scheme, given or told from the content.
    fn resolved_scheme(&self) -> Result<Option<Scheme>> {
        match (&self.scheme, &self.content) {
            (Some(s), _) => Ok(Some(*s)),
            (None, Some(c)) => Scheme::from_content(c).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// The kind that will build: the dynamic builder picks one.
    pub fn resolved_kind(&self) -> Result<BuilderKind> {
        if self.kind != BuilderKind::Dynamic {
            return Ok(self.kind);
        }
        if !self.conda_packages.is_empty() || !self.pypi_packages.is_empty() {
            return Ok(BuilderKind::Pixi);
        }
        match self.resolved_scheme()? {
            Some(Scheme::RequirementsTxt) => Ok(BuilderKind::Uv),
            Some(_) => Ok(BuilderKind::Pixi),
            None if !self.packages.is_empty() => Ok(BuilderKind::Uv),
            None => Err(refuse(
                "the dynamic builder needs content, a file, a URL or a scheme to choose a builder",
            )),
        }
    }

    /// The environment's directory.
    pub fn env_dir(&self) -> Result<PathBuf> {
        if let Some(b) = &self.base {
            return Ok(b.clone());
        }
        if self.kind == BuilderKind::Custom {
            return std::env::current_dir().map_err(|e| Error::io("no current directory", e));
        }
        let name = match &self.name {
            Some(n) => n.clone(),
            None => {
                let scheme = self.resolved_scheme()?;
                scheme
                    .zip(self.content.as_deref())
                    .and_then(|(s, c)| s.env_name(c))
                    .ok_or_else(|| {
                        refuse("the environment needs a name or a base directory (its content names none)")
                    })?
            }
        };
        Ok(self.root().join(name))
    }

    /// Installs the tool this builder runs (uv, pixi or micromamba) into the
    /// envs root unless it is there already (a tool on `PATH` does not
    /// count), e.g. to prepare for offline use. Returns its path.
    pub fn install_tool(&mut self) -> Result<PathBuf> {
        let spec = match self.resolved_kind()? {
            BuilderKind::Uv => &tool::UV,
            BuilderKind::Pixi => &tool::PIXI,
            BuilderKind::Mamba => &tool::MICROMAMBA,
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidState,
                    "a custom environment needs no tool",
                ))
            }
        };
        let root = self.root();
        let managed = root.join(spec.rel_command);
        if !managed.is_file() {
            tool::install(
                spec,
                &root,
                self.tool_mirror.as_deref(),
                self.tool_sha256.as_deref(),
                &mut self.listeners,
            )?;
        }
        Ok(managed)
    }

    /// Builds the environment, or reuses it when `appose.json` says it is up
    /// to date.
    pub fn build(&mut self) -> Result<Environment> {
        match self.resolved_kind()? {
            BuilderKind::Uv => uv::build(self),
            BuilderKind::Pixi => pixi::build(self),
            BuilderKind::Mamba => mamba::build(self),
            BuilderKind::Custom => self.build_custom(),
            BuilderKind::Dynamic => unreachable!("resolved above"),
        }
    }

    /// Deletes the environment directory, then builds it.
    pub fn rebuild(&mut self) -> Result<Environment> {
        if self.kind == BuilderKind::Custom {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "a custom environment manages no packages and cannot be rebuilt",
            ));
        }
        self.delete()?;
        self.build()
    }

    /// Deletes the environment directory (if it exists). Only a directory
    /// that is an environment (`appose.json`, or a layout [`wrap`]
    /// recognizes) or is empty is deleted, and never `/`, the current
    /// directory, `HOME`, the envs root or a directory holding one of them;
    /// a symlink is judged by its target, whose contents go while the link
    /// and the directory stay.
    pub fn delete(&self) -> Result<()> {
        if self.kind == BuilderKind::Custom {
            return Err(Error::new(
                ErrorKind::InvalidState,
                "a custom environment is not the builder's to delete",
            ));
        }
        self.remove_dir(&self.env_dir()?, "delete")
    }

    /// Removes an environment directory, as [`Builder::delete`] tells
    /// which; `verb` names the act in errors.
    fn remove_dir(&self, dir: &Path, verb: &str) -> Result<()> {
        remove::remove(dir, verb, &remove::protected(&self.root()))
    }

    fn build_custom(&mut self) -> Result<Environment> {
        // The peers' custom (simple) builder takes a directory and installs
        // nothing: what it would ignore is refused instead.
        let mut ignored = Vec::new();
        if self.name.is_some() {
            ignored.push("name (give the directory with base)");
        }
        if !self.channels.is_empty() {
            ignored.push("channels");
        }
        if !self.packages.is_empty()
            || !self.conda_packages.is_empty()
            || !self.pypi_packages.is_empty()
        {
            ignored.push("packages");
        }
        if self.content.is_some() {
            ignored.push("an environment description (content, file or url)");
        }
        if !ignored.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidState,
                format!(
                    "a custom environment is a directory used as it is, so it takes no {}: \
                     use the uv, pixi or mamba builder to install packages",
                    ignored.join(", ")
                ),
            ));
        }
        let base = self.env_dir()?;
        std::fs::create_dir_all(&base)
            .map_err(|e| Error::io(format!("cannot create {}", base.display()), e))?;
        let base = absolute(&base)?;
        let mut bins = Vec::new();
        if base.join("bin").is_dir() {
            bins.push(base.join("bin"));
        }
        bins.extend(self.bin_paths.iter().cloned());
        if self.append_system_path {
            if let Some(path) = std::env::var_os("PATH") {
                bins.extend(std::env::split_paths(&path));
            }
        }
        Ok(self.environment(base, bins, Vec::new()))
    }

    fn environment(&self, base: PathBuf, bins: Vec<PathBuf>, launch: Vec<String>) -> Environment {
        let vars = self
            .env_vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Environment::new(base, bins, launch, vars)
    }

    /// The configuration as `appose.json` holds it (the Python peer's format).
    fn state(&self, kind: BuilderKind) -> String {
        let strings =
            |v: &[String]| Value::Array(v.iter().map(|s| Value::from(s.as_str())).collect());
        let opt = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        let mut m = Map::new();
        m.insert("builder", Value::from(kind.name()));
        m.insert("content", opt(&self.content));
        m.insert(
            "scheme",
            self.scheme.map_or(Value::Null, |s| Value::from(s.name())),
        );
        m.insert("channels", strings(&self.channels));
        m.insert("flags", strings(&self.flags));
        let mut vars = Map::new();
        for (k, v) in &self.env_vars {
            vars.insert(k.as_str(), Value::from(v.as_str()));
        }
        m.insert("envVars", Value::Object(vars));
        match kind {
            BuilderKind::Uv => {
                m.insert("pythonVersion", opt(&self.python_version));
                m.insert("packages", strings(&self.packages));
            }
            BuilderKind::Pixi => {
                m.insert("condaPackages", strings(&self.conda_packages));
                m.insert("pypiPackages", strings(&self.pypi_packages));
                if let Some(e) = &self.pixi_environment {
                    m.insert("environment", Value::from(e.as_str()));
                }
            }
            _ => {}
        }
        Value::Object(m).to_json()
    }

    fn is_up_to_date(&self, dir: &Path, kind: BuilderKind) -> bool {
        std::fs::read_to_string(dir.join("appose.json")).is_ok_and(|s| s == self.state(kind))
    }

    fn write_state(&self, dir: &Path, kind: BuilderKind) -> Result<()> {
        write_file(&dir.join("appose.json"), &self.state(kind))
    }

    /// Makes sure the directory an environment is about to be built in can
    /// be written, before any tool runs: otherwise the first error would be
    /// some tool's, far from the cause.
    pub(crate) fn check_writable(&self, dir: &Path) -> Result<()> {
        let parent = dir.parent().unwrap_or(dir);
        let fail = |e: std::io::Error| {
            let root = self.root();
            let what = if parent.starts_with(&root) {
                format!("the envs root {}", root.display())
            } else {
                format!("{}", parent.display())
            };
            Error::new(
                ErrorKind::Io,
                format!(
                    "{what} cannot be written ({e}): set APPOSE_ENVS_DIR, or the builder's \
                     envs root or base, to a directory you can write"
                ),
            )
        };
        std::fs::create_dir_all(parent).map_err(fail)?;
        tempfile::tempfile_in(parent).map_err(fail)?;
        Ok(())
    }

    fn tool(&mut self, spec: &tool::ToolSpec) -> Result<tool::Tool> {
        let root = self.root();
        let command = tool::locate(
            spec,
            &root,
            self.tool_mirror.as_deref(),
            self.tool_sha256.as_deref(),
            &mut self.listeners,
        )?;
        Ok(tool::Tool {
            spec: spec.clone(),
            command,
            flags: self.flags.clone(),
            env_vars: self
                .env_vars
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }
}

/// Refuses to build `kind` into a directory another tool manages (as the
/// peers do): a layout [`detect`] gives another kind.
fn refuse_foreign(dir: &Path, kind: BuilderKind) -> Result<()> {
    match layout(dir) {
        Some((marker, owner)) if owner != kind => {
            let name = match owner {
                BuilderKind::Pixi => "pixi",
                BuilderKind::Mamba => "conda/mamba",
                _ => "uv/venv",
            };
            Err(refuse(format!(
                "cannot use the {} builder: {} is managed by {name} (it has {marker})",
                kind.name(),
                dir.display()
            )))
        }
        _ => Ok(()),
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io(format!("cannot resolve {}", p.display()), e))
}

/// The layouts that make a directory an environment of a kind, as the peers
/// tell them, in their order: a path in the directory, whether it is a
/// directory (else a file), and the kind. [`detect`] (so `wrap`), the
/// foreign-directory check and [`Builder::delete`] all go by this table.
const LAYOUTS: [(&str, bool, BuilderKind); 5] = [
    (".pixi", true, BuilderKind::Pixi),
    ("pixi.toml", false, BuilderKind::Pixi),
    ("conda-meta", true, BuilderKind::Mamba),
    ("pyvenv.cfg", false, BuilderKind::Uv),
    (".venv/pyvenv.cfg", false, BuilderKind::Uv),
];

/// The first layout `dir` has: its marker and kind.
fn layout(dir: &Path) -> Option<(&'static str, BuilderKind)> {
    LAYOUTS
        .iter()
        .find(|(path, is_dir, _)| {
            let p = dir.join(path);
            if *is_dir {
                p.is_dir()
            } else {
                p.is_file()
            }
        })
        .map(|&(path, _, kind)| (path, kind))
}

/// What an existing directory is, as the peers tell it.
pub fn detect(dir: &Path) -> BuilderKind {
    layout(dir).map_or(BuilderKind::Custom, |(_, kind)| kind)
}

/// The builder that would (re)build the environment in `dir`: from its
/// `appose.json` (the whole configuration every builder writes there), else
/// from the description it holds (`pixi.toml`, `pyproject.toml`,
/// `environment.yml`, `requirements.txt`, in the peers' order of priority).
/// Its base is `dir`. [`ErrorKind::NotFound`] when `dir` holds neither.
pub fn recover(dir: &Path) -> Result<Builder> {
    if let Ok(text) = std::fs::read_to_string(dir.join("appose.json")) {
        return from_state(dir, &text);
    }
    for (file, kind) in [
        ("pixi.toml", BuilderKind::Pixi),
        ("pyproject.toml", BuilderKind::Pixi),
        ("environment.yml", BuilderKind::Mamba),
        ("requirements.txt", BuilderKind::Uv),
    ] {
        let path = dir.join(file);
        if let Ok(content) = std::fs::read_to_string(&path) {
            let mut b = Builder::new(kind);
            b.base(dir).content(&content);
            b.scheme(file)?;
            return Ok(b);
        }
    }
    Err(Error::new(
        ErrorKind::NotFound,
        format!(
            "{} holds no appose.json nor an environment description (pixi.toml, \
             pyproject.toml, environment.yml, requirements.txt): nothing to rebuild it from",
            dir.display()
        ),
    ))
}

/// The named sub-environment `name` of the pixi environment in `dir`,
/// installed if needed (see [`crate::Environment::activate`]); tools from
/// `envs_root` (the default when `None`).
pub fn activate(dir: &Path, name: &str, envs_root: Option<&Path>) -> Result<Environment> {
    if detect(dir) != BuilderKind::Pixi {
        return Err(Error::new(
            ErrorKind::InvalidState,
            format!(
                "{} is a {} environment: only pixi environments have named sub-environments",
                dir.display(),
                detect(dir).name()
            ),
        ));
    }
    let mut b = Builder::new(BuilderKind::Pixi);
    b.base(dir);
    if let Some(r) = envs_root {
        b.envs_root(r);
    }
    pixi::activate(&mut b, dir, name)
}

/// A builder from the `appose.json` text of the environment in `dir`.
fn from_state(dir: &Path, text: &str) -> Result<Builder> {
    let bad = |why: &str| {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("{}/appose.json cannot be read back: {why}", dir.display()),
        )
    };
    let v = crate::value::parse(text).map_err(|e| bad(&e.to_string()))?;
    let m = v.as_object().ok_or_else(|| bad("not a JSON object"))?;
    let kind = m
        .get("builder")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no builder named"))
        .and_then(|k| BuilderKind::from_name(k).map_err(|e| bad(e.message())))?;
    let strings = |key: &str| -> Vec<String> {
        m.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut b = Builder::new(kind);
    b.base(dir);
    if let Some(c) = m.get("content").and_then(Value::as_str) {
        b.content(c);
    }
    if let Some(sc) = m.get("scheme").and_then(Value::as_str) {
        b.scheme(sc)?;
    }
    b.channels = strings("channels");
    b.flags = strings("flags");
    if let Some(Value::Object(vars)) = m.get("envVars") {
        for (k, v) in vars.iter() {
            if let Some(v) = v.as_str() {
                b.env_var(k, v)?;
            }
        }
    }
    b.python_version = m
        .get("pythonVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    b.packages = strings("packages");
    b.conda_packages = strings("condaPackages");
    b.pypi_packages = strings("pypiPackages");
    b.pixi_environment = m
        .get("environment")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(b)
}

/// Whether `dir` is an environment a builder recognizes (a pixi project or
/// environment, a conda environment, a venv); any other directory can
/// still be wrapped as a plain one.
pub fn can_wrap(dir: &Path) -> bool {
    layout(dir).is_some()
}

/// An existing environment directory as it is, without package work: pixi
/// and conda environments run through their tool (`pixi run`,
/// `micromamba run`), venvs and plain directories directly.
pub fn wrap(dir: &Path, envs_root: Option<&Path>) -> Result<Environment> {
    let meta = std::fs::metadata(dir)
        .map_err(|e| Error::io(format!("cannot wrap {}", dir.display()), e))?;
    if !meta.is_dir() {
        return Err(refuse(format!(
            "cannot wrap {}: not a directory",
            dir.display()
        )));
    }
    let base = std::fs::canonicalize(dir)
        .map_err(|e| Error::io(format!("cannot wrap {}", dir.display()), e))?;
    let mut b = Builder::new(detect(&base));
    b.base(&base);
    if let Some(r) = envs_root {
        b.envs_root(r);
    }
    match b.kind {
        BuilderKind::Pixi => pixi::environment(&mut b, &base),
        BuilderKind::Mamba => mamba::environment(&mut b, &base),
        BuilderKind::Uv => Ok(uv::environment(&b, &base)),
        _ => Ok(b.environment(
            base.clone(),
            vec![base.join("bin"), base.clone()],
            Vec::new(),
        )),
    }
}

/// Builds (or, with `rebuild`, deletes and rebuilds) on a thread of its own
/// and returns at once. Progress, the tools' output and error lines, and
/// finally the outcome ([`EventKind::Built`], always delivered) arrive in
/// `queue`, tagged `tag`; the builder's own listeners also run, on that
/// thread, which runs the thread hooks. The builder stays locked meanwhile.
pub fn spawn_build(
    builder: Arc<Mutex<Builder>>,
    queue: &EventQueue,
    tag: u64,
    rebuild: bool,
) -> Result<()> {
    let sink = queue.sink(tag);
    crate::threads::spawn_host_thread("appose-build".to_owned(), move || {
        let mut b = crate::lock(&builder);
        b.listeners.queue = Some(sink.clone());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if rebuild {
                b.rebuild()
            } else {
                b.build()
            }
        }))
        .unwrap_or_else(|panic| {
            Err(Error::new(
                ErrorKind::InvalidState,
                format!(
                    "libappose panicked while building: {}",
                    crate::panic_text(&*panic)
                ),
            ))
        });
        b.listeners.queue = None;
        drop(b);
        sink.send(EventKind::Built { result });
    })
    .map(drop)
    .map_err(|e| Error::io("cannot start a thread for the build", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_home_the_envs_root_is_never_the_current_directory() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        let none = || None;
        assert_eq!(
            default_envs_root_from(vars(&[("HOME", "/home/ada")]), none),
            PathBuf::from("/home/ada/.local/share/appose")
        );
        assert_eq!(
            default_envs_root_from(
                vars(&[("APPOSE_ENVS_DIR", "/srv/envs"), ("HOME", "/h")]),
                none
            ),
            PathBuf::from("/srv/envs")
        );
        assert_eq!(
            default_envs_root_from(vars(&[]), || Some(PathBuf::from("/home/pw"))),
            PathBuf::from("/home/pw/.local/share/appose")
        );
        let fallback = default_envs_root_from(vars(&[("HOME", "")]), none);
        assert!(fallback.starts_with("/tmp"), "{}", fallback.display());
        assert!(fallback.is_absolute());
        assert!(home_from_passwd().is_some_and(|h| h.is_absolute()));
    }

    #[test]
    fn a_builder_is_recovered_from_the_state_it_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let mut b = Builder::new(BuilderKind::Uv);
        b.base(dir.path())
            .content("appose==0.12.0\n")
            .package("numpy")
            .python_version("3.11")
            .flag("--offline");
        b.env_var("A", "1").unwrap();
        write_file(&dir.path().join("appose.json"), &b.state(BuilderKind::Uv)).unwrap();
        let r = recover(dir.path()).unwrap();
        assert_eq!(r.kind, BuilderKind::Uv);
        assert_eq!(r.state(BuilderKind::Uv), b.state(BuilderKind::Uv));
        assert_eq!(r.env_dir().unwrap(), dir.path());
        // Without appose.json, from the description it holds.
        std::fs::remove_file(dir.path().join("appose.json")).unwrap();
        std::fs::write(dir.path().join("requirements.txt"), "appose\n").unwrap();
        let r = recover(dir.path()).unwrap();
        assert_eq!(
            (r.kind, r.content.as_deref()),
            (BuilderKind::Uv, Some("appose\n"))
        );
        std::fs::write(dir.path().join("pixi.toml"), "[workspace]\n").unwrap();
        assert_eq!(recover(dir.path()).unwrap().kind, BuilderKind::Pixi);
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            recover(empty.path()).err().map(|e| e.kind()),
            Some(ErrorKind::NotFound)
        );
    }

    #[test]
    fn state_matches_the_python_peer_byte_for_byte() {
        let mut b = Builder::new(BuilderKind::Uv);
        b.content("appose==0.12.0\n").package("numpy");
        b.env_var("B", "2").unwrap().env_var("A", "\u{e9}").unwrap();
        // json.dumps({...}, separators=(",", ":")) of the same configuration.
        assert_eq!(
            b.state(BuilderKind::Uv),
            r#"{"builder":"uv","content":"appose==0.12.0\n","scheme":null,"channels":[],"flags":[],"envVars":{"A":"\u00e9","B":"2"},"pythonVersion":null,"packages":["numpy"]}"#
        );
    }

    #[test]
    fn dynamic_builder_picks_by_scheme() {
        let kind = |content: &str| {
            let mut b = Builder::new(BuilderKind::Dynamic);
            b.content(content);
            b.resolved_kind()
        };
        assert_eq!(kind("appose\nnumpy\n").unwrap(), BuilderKind::Uv);
        assert_eq!(
            kind("name: x\ndependencies:\n  - python\n").unwrap(),
            BuilderKind::Pixi
        );
        assert_eq!(
            kind("[workspace]\nname = \"x\"\n[dependencies]\npython = \"*\"\n").unwrap(),
            BuilderKind::Pixi
        );
        assert_eq!(kind("!!!").unwrap_err().kind(), ErrorKind::InvalidArgument);
        let mut b = Builder::new(BuilderKind::Dynamic);
        assert!(b.build().is_err(), "nothing to go on");
    }

    #[test]
    fn names_come_from_content_or_are_required() {
        let mut b = Builder::new(BuilderKind::Pixi);
        b.envs_root("/r")
            .content("[workspace]\nname = \"cells\"\n[dependencies]\n");
        assert_eq!(b.env_dir().unwrap(), PathBuf::from("/r/cells"));
        let mut b = Builder::new(BuilderKind::Uv);
        b.envs_root("/r").content("numpy\n");
        assert!(b.env_dir().unwrap_err().message().contains("needs a name"));
        b.name("mine").unwrap();
        assert_eq!(b.env_dir().unwrap(), PathBuf::from("/r/mine"));
        assert!(b.name("../escape").is_err());
    }

    #[test]
    fn wrap_detects_the_peers_layouts() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(detect(d.path()), BuilderKind::Custom);
        std::fs::write(d.path().join("pyvenv.cfg"), "home = /usr\n").unwrap();
        assert_eq!(detect(d.path()), BuilderKind::Uv);
        std::fs::create_dir(d.path().join("conda-meta")).unwrap();
        assert_eq!(detect(d.path()), BuilderKind::Mamba);
        std::fs::write(d.path().join("pixi.toml"), "").unwrap();
        assert_eq!(detect(d.path()), BuilderKind::Pixi);
    }

    #[test]
    fn builders_refuse_a_directory_another_tool_manages() {
        let d = tempfile::tempdir().unwrap();
        assert!(refuse_foreign(d.path(), BuilderKind::Uv).is_ok());
        std::fs::create_dir_all(d.path().join(".venv")).unwrap();
        std::fs::write(d.path().join(".venv/pyvenv.cfg"), "").unwrap();
        assert!(refuse_foreign(d.path(), BuilderKind::Uv).is_ok());
        assert_eq!(
            refuse_foreign(d.path(), BuilderKind::Pixi)
                .unwrap_err()
                .message(),
            format!(
                "cannot use the pixi builder: {} is managed by uv/venv (it has .venv/pyvenv.cfg)",
                d.path().display()
            )
        );
        std::fs::write(d.path().join("pixi.toml"), "").unwrap();
        assert!(refuse_foreign(d.path(), BuilderKind::Pixi).is_ok());
        assert!(refuse_foreign(d.path(), BuilderKind::Mamba)
            .unwrap_err()
            .message()
            .ends_with("is managed by pixi (it has pixi.toml)"));
    }
}
