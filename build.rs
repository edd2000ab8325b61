//! Generates the C header with cbindgen, gives the shared object a SONAME
//! and puts a link of that name next to it.

use std::env;
use std::path::{Path, PathBuf};

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets this"));
    // cbindgen reads the whole crate: a public item of the core shows up too.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=APPOSE_UPDATE_HEADER");

    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets this");
    let minor = env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets this");
    let patch = env::var("CARGO_PKG_VERSION_PATCH").expect("cargo sets this");

    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    config.after_includes = Some(format!(
        "\n#define APPOSE_VERSION_MAJOR {major}\n#define APPOSE_VERSION_MINOR {minor}\n\
         #define APPOSE_VERSION_PATCH {patch}\n#define APPOSE_VERSION \"{major}.{minor}.{patch}\"\n"
    ));
    let header = out_dir.join("appose.h");
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write_to_file(&header);
    if env::var_os("APPOSE_UPDATE_HEADER").is_some() {
        std::fs::copy(&header, crate_dir.join("include/appose.h"))
            .expect("include/appose.h is writable");
    }

    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        let soname = soname(&major, &minor);
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
        link_soname(&out_dir, &soname);
    }
}

/// While the version is 0.x every minor release may break the ABI, so the
/// SONAME names the minor version too (`libappose.so.0.2`); from 1.0 on the
/// major version alone (`libappose.so.1`).
fn soname(major: &str, minor: &str) -> String {
    if major == "0" {
        format!("libappose.so.{major}.{minor}")
    } else {
        format!("libappose.so.{major}")
    }
}

/// Makes `<profile dir>/<soname>` a link to `libappose.so`, the file cargo
/// builds there. A program linked with `-L target/release -lappose` records
/// the SONAME, so without the link it would not start even with
/// `LD_LIBRARY_PATH` or an rpath naming that directory.
///
/// Cargo has no place for such files: the profile directory is found from
/// OUT_DIR, `<target dir>/[<triple>/]<profile>/build/appose-<hash>/out`
/// (custom target dirs, `--target` and custom profiles all fit that). A
/// layout that does not is left alone, with a warning. The link is made
/// when this script runs (before the library is linked: it dangles until
/// then) and is not remade if deleted later, until the script runs again.
fn link_soname(out_dir: &Path, soname: &str) {
    let build = out_dir.parent().and_then(Path::parent);
    let Some(profile_dir) = build
        .filter(|b| b.file_name() == Some("build".as_ref()))
        .and_then(Path::parent)
    else {
        println!(
            "cargo:warning=no {soname} link made: OUT_DIR {} is not in a cargo profile directory",
            out_dir.display()
        );
        return;
    };
    let link = profile_dir.join(soname);
    if std::fs::read_link(&link).is_ok_and(|t| t == Path::new("libappose.so")) {
        return;
    }
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    let made = std::os::unix::fs::symlink("libappose.so", &link);
    #[cfg(not(unix))]
    let made: std::io::Result<()> = Err(std::io::Error::other("symlinks need a unix host"));
    if let Err(e) = made {
        println!("cargo:warning=cannot make {}: {e}", link.display());
    }
}
