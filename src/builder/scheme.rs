//! Configuration file formats ("schemes") and telling them apart by content,
//! with the peers' rules and priorities: pyproject.toml > pixi.toml >
//! environment.yml > requirements.txt.

use crate::error::{Error, ErrorKind, Result};

/// A kind of environment description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    PyprojectToml,
    PixiToml,
    EnvironmentYml,
    RequirementsTxt,
}

impl Scheme {
    /// In detection order (highest priority first).
    pub const ALL: [Scheme; 4] = [
        Scheme::PyprojectToml,
        Scheme::PixiToml,
        Scheme::EnvironmentYml,
        Scheme::RequirementsTxt,
    ];

    /// The file name, which is also the scheme's name.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::PyprojectToml => "pyproject.toml",
            Scheme::PixiToml => "pixi.toml",
            Scheme::EnvironmentYml => "environment.yml",
            Scheme::RequirementsTxt => "requirements.txt",
        }
    }

    pub fn from_name(name: &str) -> Result<Self> {
        Scheme::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    format!(
                        "unknown scheme {name:?} (known: pyproject.toml, pixi.toml, \
                         environment.yml, requirements.txt)"
                    ),
                )
            })
    }

    /// The scheme of `content`, or an error saying it cannot be told.
    pub fn from_content(content: &str) -> Result<Self> {
        Scheme::ALL
            .into_iter()
            .find(|s| s.supports(content))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidArgument,
                    "cannot tell the kind of environment file from its content: \
                     set the scheme explicitly",
                )
            })
    }

    /// Whether `content` looks like this scheme.
    pub fn supports(self, content: &str) -> bool {
        let t = content.trim();
        if t.is_empty() {
            return false;
        }
        let has_table = t.find('[').is_some_and(|i| t[i..].contains(']'));
        match self {
            Scheme::PyprojectToml => {
                has_table
                    && t.contains("[project]")
                    && (t.contains("[tool.pixi.")
                        || t.contains("[project.dependencies]")
                        || project_has_dependencies(t))
            }
            Scheme::PixiToml => {
                has_table && (t.contains("[dependencies]") || t.contains("[pypi-dependencies]"))
            }
            Scheme::EnvironmentYml => {
                // A YAML mapping key on the first line: `name:`, `channels:`, ...
                let first = t.lines().next().unwrap_or("");
                match first.find(':') {
                    Some(i) => {
                        i > 0
                            && first[..i]
                                .bytes()
                                .all(|b| b.is_ascii_lowercase() || b == b'_')
                    }
                    None => false,
                }
            }
            Scheme::RequirementsTxt => t
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        }
    }

    /// The environment name the content declares, if any.
    pub fn env_name(self, content: &str) -> Option<String> {
        let unquote = |v: &str| {
            let v = v.trim();
            let v = v.strip_prefix(['"', '\'']).unwrap_or(v);
            let v = v.strip_suffix(['"', '\'']).unwrap_or(v);
            (!v.is_empty()).then(|| v.to_owned())
        };
        match self {
            Scheme::PixiToml => content.lines().map(str::trim).find_map(|l| {
                let (k, v) = l.split_once('=')?;
                if k.trim_end() == "name" || k.starts_with("name") {
                    unquote(v)
                } else {
                    None
                }
            }),
            Scheme::PyprojectToml => {
                let mut in_project = false;
                for l in content.lines().map(str::trim) {
                    if l == "[project]" {
                        in_project = true;
                        continue;
                    }
                    if l.starts_with('[') && !l.starts_with("[project") {
                        in_project = false;
                    }
                    if in_project && l.starts_with("name") {
                        if let Some((_, v)) = l.split_once('=') {
                            if let Some(n) = unquote(v) {
                                return Some(n);
                            }
                        }
                    }
                }
                None
            }
            Scheme::EnvironmentYml => content.lines().map(str::trim).find_map(|l| {
                let v = l.strip_prefix("name:")?.trim().replace('"', "");
                (!v.is_empty()).then_some(v)
            }),
            Scheme::RequirementsTxt => None,
        }
    }
}

/// `[project]` followed somewhere by `dependencies =`.
fn project_has_dependencies(t: &str) -> bool {
    t.find("[project]").is_some_and(|i| {
        t[i..].lines().any(|l| {
            l.trim_start()
                .strip_prefix("dependencies")
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIXI: &str = "[workspace]\nname = \"cowsay\"\nchannels = [\"conda-forge\"]\n\
                        platforms = [\"linux-64\"]\n\n[dependencies]\npython = \">=3.10\"\n\
                        \n[pypi-dependencies]\nappose = \"*\"\n";
    const PYPROJECT: &str = "[project]\nname = \"my-env\"\nversion = \"0.1.0\"\n\
                             dependencies = [\"appose\", \"numpy\"]\n";
    const PYPROJECT_PIXI: &str = "[project]\nname = 'pixi-proj'\n\n\
                                  [tool.pixi.workspace]\nchannels = [\"conda-forge\"]\n";
    const YML: &str = "name: cowsay\nchannels:\n  - conda-forge\ndependencies:\n  - python\n\
                       - pip\n  - pip:\n    - appose\n";
    const REQS: &str = "appose==0.12.0\nnumpy>=1.24\n";

    #[test]
    fn detects_the_peers_examples() {
        assert_eq!(Scheme::from_content(PIXI).unwrap(), Scheme::PixiToml);
        assert_eq!(
            Scheme::from_content(PYPROJECT).unwrap(),
            Scheme::PyprojectToml
        );
        assert_eq!(
            Scheme::from_content(PYPROJECT_PIXI).unwrap(),
            Scheme::PyprojectToml
        );
        assert_eq!(Scheme::from_content(YML).unwrap(), Scheme::EnvironmentYml);
        assert_eq!(Scheme::from_content(REQS).unwrap(), Scheme::RequirementsTxt);
        assert_eq!(
            Scheme::from_content("# only a comment\n[x]")
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArgument
        );
        assert!(Scheme::from_content("   ").is_err());
    }

    #[test]
    fn reads_declared_names() {
        assert_eq!(Scheme::PixiToml.env_name(PIXI).as_deref(), Some("cowsay"));
        assert_eq!(
            Scheme::PyprojectToml.env_name(PYPROJECT).as_deref(),
            Some("my-env")
        );
        assert_eq!(
            Scheme::PyprojectToml.env_name(PYPROJECT_PIXI).as_deref(),
            Some("pixi-proj")
        );
        assert_eq!(
            Scheme::EnvironmentYml.env_name(YML).as_deref(),
            Some("cowsay")
        );
        assert_eq!(Scheme::RequirementsTxt.env_name(REQS), None);
    }

    #[test]
    fn names_round_trip() {
        for s in Scheme::ALL {
            assert_eq!(Scheme::from_name(s.name()).unwrap(), s);
        }
        assert!(Scheme::from_name("setup.py").is_err());
    }
}
