//! The uv builder: a venv from requirements.txt, pyproject.toml (`uv sync`)
//! or a list of packages, with the peers' command sequence.

use std::path::Path;

use super::{absolute, refuse, refuse_foreign, tool, write_file, Builder, BuilderKind, Scheme};
use crate::environment::Environment;
use crate::error::{Error, Result};

/// Whether `spec` names the appose package (`appose`, `appose==0.12.0`, ...).
pub(crate) fn names_appose(spec: &str) -> bool {
    let s = spec.trim();
    s.strip_prefix("appose").is_some_and(|rest| {
        rest.is_empty()
            || !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    })
}

/// Whether a line uv wrote to stderr is one of its ordinary status lines
/// ("Resolved 3 packages in 2ms", " + numpy==2.2.6", ...) rather than an
/// error or a warning. Unknown lines count as errors, so that a failure's
/// message keeps them.
pub(crate) fn is_status_line(line: &str) -> bool {
    const STATUS: &[&str] = &[
        "Using CPython",
        "Using Python",
        "Creating virtual environment",
        "Activate with:",
        "Resolved ",
        "Prepared ",
        "Installed ",
        "Uninstalled ",
        "Audited ",
        "Downloading ",
        "Downloaded ",
        "Building ",
        "Built ",
        "Bytecode compiled ",
        " + ",
        " - ",
        " ~ ",
    ];
    STATUS.iter().any(|p| line.starts_with(p))
}

pub(super) fn build(b: &mut Builder) -> Result<Environment> {
    let dir = b.env_dir()?;
    refuse_foreign(&dir, BuilderKind::Uv)?;
    if !b.channels.is_empty() {
        return Err(refuse(
            "the uv builder takes no channels: put --index-url or --extra-index-url in the \
             requirements file",
        ));
    }
    // Checked before any tool is fetched.
    let scheme = b.resolved_scheme()?;
    if b.content.is_some()
        && !matches!(
            scheme,
            Some(Scheme::RequirementsTxt | Scheme::PyprojectToml)
        )
    {
        return Err(refuse(format!(
            "the uv builder takes requirements.txt or pyproject.toml, not {}",
            scheme.map_or("this content", Scheme::name)
        )));
    }
    if let Some(content) = &b.content {
        let names_it = match scheme {
            Some(Scheme::PyprojectToml) => content.contains("appose"),
            _ => content.lines().any(names_appose),
        };
        if !names_it {
            // Allowed (a custom worker needs no appose), but a Python
            // service in it would crash at once: say so now.
            b.listeners.error(
                "warning: these requirements do not name appose: a Python service in this \
                 environment will not start (add e.g. appose==0.12.0)",
            );
        }
    }
    // An unchanged environment needs no tool: checked before uv is
    // located, fetched or installed (offline, or on a read-only share).
    if b.is_up_to_date(&dir, BuilderKind::Uv) {
        return Ok(environment(b, &absolute(&dir)?));
    }
    b.check_writable(&dir)?;
    let uv = b.tool(&tool::UV)?;
    let dir = absolute(&dir)?;
    let dir_s = dir.to_string_lossy().into_owned();
    let venv_built = dir.join("pyvenv.cfg").is_file() || dir.join(".venv").is_dir();
    let python = b.python_version.clone();
    // Steps a progress bar can show: the venv, the packages, done.
    const STEPS: u64 = 2;
    b.listeners
        .progress("Creating the virtual environment", 0, STEPS);
    let venv = |b: &mut Builder| -> Result<()> {
        let mut args = vec!["venv"];
        if let Some(v) = &python {
            args.extend(["--python", v.as_str()]);
        }
        args.push(&dir_s);
        uv.run(&args, None, &mut b.listeners)
    };
    match (b.content.clone(), scheme) {
        (Some(content), Some(Scheme::PyprojectToml)) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            write_file(&dir.join("pyproject.toml"), &content)?;
            b.listeners.progress("Installing packages", 1, STEPS);
            let mut args = vec!["sync"];
            if let Some(v) = &python {
                args.extend(["--python", v.as_str()]);
            }
            uv.run(&args, Some(&dir), &mut b.listeners)?;
        }
        (Some(content), _) => {
            if !venv_built {
                venv(b)?;
            }
            let reqs = dir.join("requirements.txt");
            write_file(&reqs, &content)?;
            b.listeners.progress("Installing packages", 1, STEPS);
            let reqs = reqs.to_string_lossy().into_owned();
            uv.run(
                &["pip", "install", "--python", &dir_s, "-r", &reqs],
                None,
                &mut b.listeners,
            )?;
        }
        (None, _) => {
            if !venv_built {
                venv(b)?;
            }
            if !b.packages.is_empty() {
                let mut pkgs = b.packages.clone();
                if !pkgs.iter().any(|p| names_appose(p)) {
                    pkgs.push("appose".to_owned());
                }
                b.listeners.progress("Installing packages", 1, STEPS);
                let mut args = vec!["pip", "install", "--python", dir_s.as_str()];
                args.extend(pkgs.iter().map(String::as_str));
                uv.run(&args, None, &mut b.listeners)?;
            }
        }
    }
    b.write_state(&dir, BuilderKind::Uv)?;
    b.listeners.progress("Environment ready", STEPS, STEPS);
    Ok(environment(b, &dir))
}

/// A uv environment: `.venv/` when `uv sync` made one, else the directory.
pub(super) fn environment(b: &Builder, dir: &Path) -> Environment {
    let venv = if dir.join(".venv").is_dir() {
        dir.join(".venv")
    } else {
        dir.to_path_buf()
    };
    b.environment(dir.to_path_buf(), vec![venv.join("bin")], Vec::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn recognises_appose_requirements() {
        for yes in ["appose", "appose==0.12.0", " appose>=0.10", "appose[extra]"] {
            assert!(super::names_appose(yes), "{yes}");
        }
        for no in ["apposed", "appose-x", "numpy", "appose_tools"] {
            assert!(!super::names_appose(no), "{no}");
        }
    }
}
