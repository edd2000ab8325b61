//! The pixi builder: pixi.toml, pyproject.toml, environment.yml (imported
//! with `pixi init --import`) or programmatic conda/PyPI packages, run
//! through `pixi run --manifest-path`. With progress listeners, `pixi
//! install` runs at `-vv` and its log lines become progress events (solve,
//! conda install, PyPI download and install phases).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::uv::names_appose;
use super::{absolute, refuse, refuse_foreign, tool, write_file, Builder, BuilderKind, Scheme};
use crate::environment::Environment;
use crate::error::{Error, Result};

/// pixi's own success message, which it writes on stderr.
pub(super) fn is_success_line(line: &str) -> bool {
    line.contains("environment has been installed") || line.contains("Installed environment '")
}

/// A tracing log line of `pixi -vv` (not an error).
pub(super) fn is_log_line(line: &str) -> bool {
    [" DEBUG ", " TRACE ", " INFO ", " WARN "]
        .iter()
        .any(|level| line.contains(level))
}

fn platform() -> &'static str {
    if cfg!(target_arch = "x86_64") {
        "linux-64"
    } else {
        "linux-aarch64"
    }
}

/// Turns `pixi install -vv` stderr into `(title, current, maximum)` events.
pub(super) struct InstallMonitor {
    dir: PathBuf,
    env_name: String,
    platforms: u64,
    solved: u64,
    conda_total: u64,
    conda_polling: bool,
    last_poll: Option<Instant>,
    pypi_total: u64,
    pypi_present: u64,
}

/// The number after `prefix` in `line`.
fn number_after(line: &str, prefix: &str) -> Option<u64> {
    let rest = &line[line.find(prefix)? + prefix.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

impl InstallMonitor {
    pub(super) fn new(dir: &Path, env_name: &str) -> Self {
        InstallMonitor {
            dir: dir.to_path_buf(),
            env_name: env_name.to_owned(),
            platforms: 0,
            solved: 0,
            conda_total: 0,
            conda_polling: false,
            last_poll: None,
            pypi_total: 0,
            pypi_present: 0,
        }
    }

    pub(super) fn parse(&mut self, line: &str) -> Vec<(String, u64, u64)> {
        let mut events = Vec::new();
        let mut ev = |t: &str, c: u64, m: u64| events.push((t.to_owned(), c, m));
        if line.contains("solve{") && line.contains("fetched") && line.contains("records") {
            self.platforms += 1;
        } else if line.contains("resolved conda environment for solve group") {
            self.solved += 1;
            if self.platforms > 0 {
                ev("Solving", self.solved, self.platforms);
            }
        } else if line.contains("conda_prefix: updating prefix for") {
            self.conda_total = self.lock_file_conda_count();
            self.conda_polling = self.conda_total > 0;
        } else if line.contains("conda_metadata: Prefix file updated") {
            self.conda_polling = false;
            if self.conda_total > 0 {
                ev(
                    "Installing conda packages",
                    self.conda_total,
                    self.conda_total,
                );
            }
        } else if let Some(present) = number_after(line, "pixi_install_pypi: ") {
            if line.contains("required packages are considered installed") {
                self.pypi_present = present;
                self.pypi_total = number_after(line, " of ").unwrap_or(0);
            }
        }
        let to_install = self.pypi_total.saturating_sub(self.pypi_present);
        if let Some(n) = number_after(line, "pixi_install_pypi: Prepared ") {
            if to_install > 0 {
                ev("Downloading PyPI packages", n, to_install);
            }
        } else if let Some(n) = number_after(line, "pixi_install_pypi: Installed ") {
            if to_install > 0 {
                ev("Installing PyPI packages", n, to_install);
            }
        } else if line.contains("Installed environment '") {
            ev("Done", 1, 1);
        }
        // Conda package installs show as files in conda-meta, polled as lines
        // arrive (at most twice a second) rather than from another thread.
        if self.conda_polling
            && self
                .last_poll
                .is_none_or(|t| t.elapsed() >= Duration::from_millis(500))
        {
            self.last_poll = Some(Instant::now());
            let installed = count_json(
                &self
                    .dir
                    .join(".pixi/envs")
                    .join(&self.env_name)
                    .join("conda-meta"),
            );
            ev("Installing conda packages", installed, self.conda_total);
        }
        events
    }

    /// Conda packages of this environment and platform in `pixi.lock`.
    fn lock_file_conda_count(&self) -> u64 {
        let Ok(text) = std::fs::read_to_string(self.dir.join("pixi.lock")) else {
            return 0;
        };
        let (env_key, platform_key) = (format!("{}:", self.env_name), format!("{}:", platform()));
        let mut level = 0;
        let mut count = 0;
        for line in text.lines() {
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let indent = line.len() - line.trim_start_matches(' ').len();
            match level {
                0 if indent == 0 && t == "environments:" => level = 1,
                1 if indent == 0 => return count,
                1 if indent == 2 && t == env_key => level = 2,
                2 if indent <= 2 => return count,
                2 if indent == 4 && t == "packages:" => level = 3,
                3 if indent <= 4 => return count,
                3 if indent == 6 && t == platform_key => level = 4,
                4 if indent < 6 || (indent == 6 && !t.starts_with('-')) => return count,
                4 if t.starts_with("- conda:") => count += 1,
                _ => {}
            }
        }
        count
    }
}

fn count_json(dir: &Path) -> u64 {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .count() as u64
    })
}

fn manifest(dir: &Path) -> PathBuf {
    let pyproject = dir.join("pyproject.toml");
    if pyproject.exists() {
        pyproject
    } else {
        dir.join("pixi.toml")
    }
}

pub(super) fn build(b: &mut Builder) -> Result<Environment> {
    let dir = b.env_dir()?;
    refuse_foreign(&dir, BuilderKind::Pixi)?;
    let scheme = b.resolved_scheme()?;
    if b.content.is_some() && scheme == Some(Scheme::RequirementsTxt) {
        return Err(refuse(
            "the pixi builder takes pixi.toml, pyproject.toml or environment.yml, not requirements.txt",
        ));
    }
    if b.content.is_none() {
        if b.conda_packages.is_empty() && b.pypi_packages.is_empty() {
            return Err(refuse(
                "the pixi builder needs a manifest (content, file or URL) or packages (conda, pypi)",
            ));
        }
        if !b
            .conda_packages
            .iter()
            .chain(&b.pypi_packages)
            .any(|p| names_appose(p))
        {
            return Err(refuse(
                "add the appose package (as a conda or PyPI package): the worker needs it",
            ));
        }
    }
    if !b.is_up_to_date(&dir, BuilderKind::Pixi) {
        b.check_writable(&dir)?;
    }
    let pixi = b.tool(&tool::PIXI)?;
    if b.is_up_to_date(&dir, BuilderKind::Pixi) {
        return environment(b, &absolute(&dir)?);
    }
    let dir_s = absolute(&dir)?.to_string_lossy().into_owned();
    match (b.content.clone(), scheme) {
        (Some(content), Some(scheme)) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            let file = dir.join(scheme.name());
            write_file(&file, &content)?;
            if scheme == Scheme::EnvironmentYml && !dir.join("pixi.toml").exists() {
                let file_s = absolute(&file)?.to_string_lossy().into_owned();
                pixi.run(
                    &["init", "--import", &file_s, &dir_s],
                    None,
                    &mut b.listeners,
                )?;
            }
        }
        _ => {
            // Packages accumulate in a manifest: start afresh, as the
            // peers do, but only over an environment.
            b.remove_dir(&dir, "clear")?;
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            pixi.run(&["init", &dir_s], None, &mut b.listeners)?;
        }
    }
    let manifest_s = manifest(&absolute(&dir)?).to_string_lossy().into_owned();
    let pixi_toml = absolute(&dir.join("pixi.toml"))?
        .to_string_lossy()
        .into_owned();
    if !b.channels.is_empty() {
        let mut args = vec![
            "project",
            "channel",
            "add",
            "--manifest-path",
            pixi_toml.as_str(),
        ];
        let channels = b.channels.clone();
        args.extend(channels.iter().map(String::as_str));
        pixi.run(&args, None, &mut b.listeners)?;
    }
    if b.content.is_none() {
        for (pypi, pkgs) in [
            (false, b.conda_packages.clone()),
            (true, b.pypi_packages.clone()),
        ] {
            if pkgs.is_empty() {
                continue;
            }
            let mut args = vec!["add"];
            if pypi {
                args.push("--pypi");
            }
            args.extend(["--manifest-path", pixi_toml.as_str()]);
            args.extend(pkgs.iter().map(String::as_str));
            pixi.run(&args, None, &mut b.listeners)?;
        }
    }
    install(b, &pixi, &dir, &manifest_s)?;
    b.write_state(&dir, BuilderKind::Pixi)?;
    environment(b, &absolute(&dir)?)
}

/// `pixi install`, with progress parsed from its `-vv` log when wanted.
fn install(b: &mut Builder, pixi: &tool::Tool, dir: &Path, manifest: &str) -> Result<()> {
    let env_name = b
        .pixi_environment
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    let mut pixi = pixi.clone();
    let monitored = b.listeners.has_progress();
    if monitored {
        if !pixi
            .flags
            .iter()
            .any(|f| matches!(f.as_str(), "-v" | "-vv" | "-vvv"))
        {
            pixi.flags.push("-vv".to_owned());
        }
        b.listeners.monitor = Some(InstallMonitor::new(dir, &env_name));
    }
    let mut args = vec!["install", "--manifest-path", manifest];
    if let Some(e) = &b.pixi_environment {
        args.extend(["--environment", e.as_str()]);
    }
    let result = pixi.run(&args, None, &mut b.listeners);
    b.listeners.monitor = None;
    result
}

/// A pixi environment, run through `pixi run --manifest-path`.
pub(super) fn environment(b: &mut Builder, dir: &Path) -> Result<Environment> {
    let pixi = b.tool(&tool::PIXI)?;
    let env_name = b
        .pixi_environment
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    let mut launch = vec![
        pixi.command.to_string_lossy().into_owned(),
        "run".to_owned(),
        "--manifest-path".to_owned(),
        manifest(dir).to_string_lossy().into_owned(),
    ];
    if let Some(e) = &b.pixi_environment {
        launch.extend(["--environment".to_owned(), e.clone()]);
    }
    let bins = vec![dir.join(".pixi/envs").join(env_name).join("bin")];
    Ok(b.environment(dir.to_path_buf(), bins, launch))
}

/// The pixi environment `name` of the project in `dir`, installed first if
/// needed (`pixi install --environment name`), as an environment whose
/// workers run through `pixi run --environment name`.
pub(super) fn activate(b: &mut Builder, dir: &Path, name: &str) -> Result<Environment> {
    if name.is_empty() || name.contains(['/', ' ']) {
        return Err(refuse(format!("invalid pixi environment name {name:?}")));
    }
    let pixi = b.tool(&tool::PIXI)?;
    let m = manifest(dir).to_string_lossy().into_owned();
    pixi.run(
        &["install", "--manifest-path", &m, "--environment", name],
        Some(dir),
        &mut b.listeners,
    )?;
    b.pixi_environment = Some(name.to_owned());
    environment(b, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_from_pixi_log_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = InstallMonitor::new(dir.path(), "default");
        let mut all = Vec::new();
        for line in [
            " DEBUG solve{group=default}: fetched 120 records in 1s",
            " DEBUG solve{group=default}: fetched 80 records in 1s",
            " INFO resolved conda environment for solve group 'default'",
            " INFO resolved conda environment for solve group 'default'",
            " DEBUG pixi_install_pypi: 1 of 4 required packages are considered installed",
            " DEBUG pixi_install_pypi: Prepared 3 packages in 2s",
            " DEBUG pixi_install_pypi: Installed 3 packages in 1s",
            "✔ Installed environment 'default'",
        ] {
            all.extend(m.parse(line));
        }
        let titles: Vec<(String, u64, u64)> = all;
        assert_eq!(
            titles,
            vec![
                ("Solving".into(), 1, 2),
                ("Solving".into(), 2, 2),
                ("Downloading PyPI packages".into(), 3, 3),
                ("Installing PyPI packages".into(), 3, 3),
                ("Done".into(), 1, 1),
            ]
        );
    }

    #[test]
    fn counts_conda_packages_in_the_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let lock = format!(
            "version: 6\nenvironments:\n  default:\n    channels:\n    - url: x\n    packages:\n      \
             {p}:\n      - conda: a\n      - conda: b\n      - pypi: c\n      other-64:\n      - conda: z\n  \
             test:\n    packages:\n      {p}:\n      - conda: q\npackages:\n- conda: a\n",
            p = platform()
        );
        std::fs::write(dir.path().join("pixi.lock"), lock).unwrap();
        assert_eq!(
            InstallMonitor::new(dir.path(), "default").lock_file_conda_count(),
            2
        );
        assert_eq!(
            InstallMonitor::new(dir.path(), "test").lock_file_conda_count(),
            1
        );
    }

    #[test]
    fn success_is_not_an_error() {
        assert!(is_success_line(
            "✔ The default environment has been installed."
        ));
        assert!(!is_success_line("Error: failed to solve"));
    }
}
