//! The micromamba builder: environment.yml, with the peers' commands, run
//! through `micromamba run -p <env>`.

use std::path::Path;

use super::{absolute, refuse, refuse_foreign, tool, write_file, Builder, BuilderKind, Scheme};
use crate::environment::Environment;
use crate::error::Result;

pub(super) fn build(b: &mut Builder) -> Result<Environment> {
    let dir = b.env_dir()?;
    refuse_foreign(&dir, BuilderKind::Mamba)?;
    let scheme = b.resolved_scheme()?;
    if scheme.is_some_and(|s| s != Scheme::EnvironmentYml) {
        return Err(refuse(format!(
            "the mamba builder takes environment.yml, not {}",
            scheme.map_or("", Scheme::name)
        )));
    }
    if !b.channels.is_empty() {
        return Err(refuse(
            "the mamba builder takes no channels: list them in environment.yml",
        ));
    }
    let Some(content) = b.content.clone() else {
        if dir.join("conda-meta").is_dir() {
            return environment(b, &absolute(&dir)?);
        }
        return Err(refuse(
            "the mamba builder needs an environment.yml (content, file or URL)",
        ));
    };
    if !b.is_up_to_date(&dir, BuilderKind::Mamba) {
        b.check_writable(&dir)?;
    }
    let mm = b.tool(&tool::MICROMAMBA)?;
    let abs = absolute(&dir)?;
    if b.is_up_to_date(&dir, BuilderKind::Mamba) {
        return environment(b, &abs);
    }
    // Start afresh, as the peers do, but only over an environment.
    b.remove_dir(&dir, "clear")?;
    let dir_s = abs.to_string_lossy().into_owned();
    mm.run(
        &["create", "--prefix", &dir_s, "-y", "--no-rc"],
        None,
        &mut b.listeners,
    )?;
    let yml = abs.join("environment.yml");
    write_file(&yml, &content)?;
    let yml_s = yml.to_string_lossy().into_owned();
    mm.run(
        &["env", "update", "-y", "--prefix", &dir_s, "-f", &yml_s],
        None,
        &mut b.listeners,
    )?;
    b.write_state(&abs, BuilderKind::Mamba)?;
    environment(b, &abs)
}

/// A conda environment, run through `micromamba run -p <dir>`.
pub(super) fn environment(b: &mut Builder, dir: &Path) -> Result<Environment> {
    let mm = b.tool(&tool::MICROMAMBA)?;
    let launch = vec![
        mm.command.to_string_lossy().into_owned(),
        "run".to_owned(),
        "-p".to_owned(),
        dir.to_string_lossy().into_owned(),
    ];
    Ok(b.environment(dir.to_path_buf(), vec![dir.join("bin")], launch))
}
