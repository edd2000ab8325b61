//! Generates the C header with cbindgen and gives the shared object a SONAME.

use std::env;
use std::path::PathBuf;

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
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libappose.so.{major}");
    }
}
