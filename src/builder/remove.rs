//! Removing an environment directory, and nothing else.
//!
//! A builder's directory comes from the user (`base`), so a mistake there
//! must not cost them their files: only a directory that is an environment
//! (it carries `appose.json`, or a layout `wrap` recognizes) or is empty is
//! removed, and never `/`, the current directory, the home directory, the
//! envs root or a directory holding one of them. Every check is made on the
//! real path, symlinks resolved.

use std::path::{Path, PathBuf};

use super::{refuse, LAYOUTS};
use crate::error::{Error, Result};

/// Directories never removed, nor any directory holding one: why, and where.
pub(super) type Protected = Vec<(&'static str, PathBuf)>;

/// The current directory, `HOME` and the envs root, as they are now.
pub(super) fn protected(envs_root: &Path) -> Protected {
    let mut out = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        out.push(("the current directory", cwd));
    }
    if let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        out.push(("the home directory", PathBuf::from(home)));
    }
    out.push(("the envs root", envs_root.to_path_buf()));
    out
}

/// What removing an environment directory deletes.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Removal {
    /// The directory (its real path) and everything in it.
    Dir(PathBuf),
    /// What the directory a symlink leads to holds; the link and the
    /// directory stay, so the environment is rebuilt where the link says.
    ContentsOf(PathBuf),
}

/// Whether `dir` is an environment: what marks it so.
fn environment_marker(dir: &Path) -> Option<&'static str> {
    if dir.join("appose.json").is_file() {
        return Some("appose.json");
    }
    super::layout(dir).map(|(marker, _)| marker)
}

/// `appose.json` and every layout marker, for messages.
fn markers() -> String {
    let mut names: Vec<String> = vec!["appose.json".to_owned()];
    names.extend(LAYOUTS.iter().map(|&(path, is_dir, _)| {
        if is_dir {
            format!("{path}/")
        } else {
            path.to_owned()
        }
    }));
    let last = names.pop().unwrap_or_default();
    format!("{} or {last}", names.join(", "))
}

/// Decides what removing `dir` (to `verb` it: "delete", "clear") would
/// delete: `None` when there is nothing there, an error saying why when it
/// must not be removed.
pub(super) fn plan(dir: &Path, verb: &str, protected: &Protected) -> Result<Option<Removal>> {
    let link = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta.file_type().is_symlink(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("cannot {verb} {}", dir.display()), e)),
    };
    let real = match std::fs::canonicalize(dir) {
        Ok(p) => p,
        // A link to nothing: no environment to remove, and the link is not ours.
        Err(e) if link && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("cannot {verb} {}", dir.display()), e)),
    };
    let shown = if link {
        format!("{} (a link to {})", dir.display(), real.display())
    } else if real != dir {
        format!("{} ({})", dir.display(), real.display())
    } else {
        dir.display().to_string()
    };
    let no = |why: String| Err(refuse(format!("refusing to {verb} {shown}: {why}")));
    if !real.is_dir() {
        return no("it is not a directory".to_owned());
    }
    if real.parent().is_none() {
        return no("it is the root directory".to_owned());
    }
    for (what, path) in protected {
        // A protected directory that does not exist cannot be resolved; its
        // absolute path still tells whether `real` would hold it.
        let path = std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .unwrap_or_else(|_| path.clone());
        if path == real {
            return no(format!("it is {what}"));
        }
        if path.starts_with(&real) {
            return no(format!("it holds {what} ({})", path.display()));
        }
    }
    if environment_marker(&real).is_none() {
        let empty = std::fs::read_dir(&real)
            .map_err(|e| Error::io(format!("cannot {verb} {shown}"), e))?
            .next()
            .is_none();
        if !empty {
            return no(format!(
                "it is not an environment (no {}) and not empty",
                markers()
            ));
        }
    }
    Ok(Some(if link {
        Removal::ContentsOf(real)
    } else {
        Removal::Dir(real)
    }))
}

/// Removes the environment directory `dir` if [`plan`] allows it.
pub(super) fn remove(dir: &Path, verb: &str, protected: &Protected) -> Result<()> {
    let fail = |e| Error::io(format!("cannot {verb} {}", dir.display()), e);
    match plan(dir, verb, protected)? {
        None => Ok(()),
        Some(Removal::Dir(real)) => std::fs::remove_dir_all(real).map_err(fail),
        Some(Removal::ContentsOf(real)) => {
            for entry in std::fs::read_dir(&real).map_err(fail)? {
                let entry = entry.map_err(fail)?;
                // file_type does not follow links: a link inside is removed,
                // never what it leads to.
                if entry.file_type().map_err(fail)?.is_dir() {
                    std::fs::remove_dir_all(entry.path()).map_err(fail)?;
                } else {
                    std::fs::remove_file(entry.path()).map_err(fail)?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn refusal(dir: &Path, protected: &Protected) -> String {
        let e = plan(dir, "delete", protected).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");
        e.message().to_owned()
    }

    #[test]
    fn the_root_and_protected_directories_and_their_ancestors_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let t = t.path().canonicalize().unwrap();
        let (cwd, home, envs) = (t.join("a/cwd"), t.join("b/home"), t.join("c/envs"));
        for d in [&cwd, &home, &envs] {
            std::fs::create_dir_all(d).unwrap();
            // They look like environments: only where they are guards them.
            std::fs::write(d.join("appose.json"), "{}").unwrap();
        }
        let protected = vec![
            ("the current directory", cwd.clone()),
            ("the home directory", home.clone()),
            ("the envs root", envs.clone()),
        ];
        assert_eq!(
            refusal(Path::new("/"), &protected),
            "refusing to delete /: it is the root directory"
        );
        assert_eq!(
            refusal(&cwd, &protected),
            format!(
                "refusing to delete {}: it is the current directory",
                cwd.display()
            )
        );
        assert_eq!(
            refusal(&home, &protected),
            format!(
                "refusing to delete {}: it is the home directory",
                home.display()
            )
        );
        assert_eq!(
            refusal(&t.join("b"), &protected),
            format!(
                "refusing to delete {}: it holds the home directory ({})",
                t.join("b").display(),
                home.display()
            )
        );
        assert_eq!(
            refusal(&envs, &protected),
            format!("refusing to delete {}: it is the envs root", envs.display())
        );
        // Through a link and a relative-looking path, the real path counts.
        let link = t.join("to-home");
        std::os::unix::fs::symlink(&home, &link).unwrap();
        assert!(refusal(&link, &protected).ends_with("it is the home directory"));
        assert!(
            refusal(&home.join("../../b/home/."), &protected).ends_with("it is the home directory")
        );
        // A home that does not exist still guards what would hold it.
        let gone = vec![("the home directory", t.join("b/missing/home"))];
        assert!(refusal(&t.join("b"), &gone).contains("it holds the home directory"));
        // Next to them, an environment is fine.
        let env = t.join("a/env");
        std::fs::create_dir(&env).unwrap();
        std::fs::write(env.join("appose.json"), "{}").unwrap();
        assert_eq!(
            plan(&env, "delete", &protected).unwrap(),
            Some(Removal::Dir(env.clone()))
        );
    }

    #[test]
    fn only_environments_and_empty_directories_are_removed() {
        let t = tempfile::tempdir().unwrap();
        let none = Protected::new();
        let user = t.path().join("user");
        std::fs::create_dir(&user).unwrap();
        std::fs::write(user.join("notes.txt"), "").unwrap();
        assert_eq!(
            refusal(&user, &none),
            format!(
                "refusing to delete {}: it is not an environment (no appose.json, .pixi/, \
                 pixi.toml, conda-meta/, pyvenv.cfg or .venv/pyvenv.cfg) and not empty",
                user.display()
            )
        );
        let file = user.join("notes.txt");
        assert!(refusal(&file, &none).ends_with("it is not a directory"));
        assert_eq!(plan(&t.path().join("nope"), "delete", &none).unwrap(), None);
        let dangling = t.path().join("dangling");
        std::os::unix::fs::symlink(t.path().join("nope"), &dangling).unwrap();
        assert_eq!(plan(&dangling, "delete", &none).unwrap(), None);

        let empty = t.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        remove(&empty, "delete", &none).unwrap();
        assert!(!empty.exists());

        // A venv whose python links outside it: the link goes, not its target.
        let venv = t.path().join("venv");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "").unwrap();
        std::os::unix::fs::symlink(&file, venv.join("bin/python")).unwrap();
        std::os::unix::fs::symlink(&user, venv.join("user-link")).unwrap();
        remove(&venv, "delete", &none).unwrap();
        assert!(!venv.exists() && file.is_file());
    }
}
