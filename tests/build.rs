//! Where the workspace's `shrike` binary and the target's scratch directory are for this build:
//! OUT_DIR is `<target>/<profile>/build/<package>-<hash>/out`.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let profile_dir = out.ancestors().nth(3).expect("OUT_DIR is <target>/<profile>/build/<package>/out");
    println!("cargo:rustc-env=SHRIKE_BIN={}", profile_dir.join("shrike").display());
    let target = profile_dir.parent().expect("<target>/<profile>");
    println!("cargo:rustc-env=SHRIKE_TARGET_TMPDIR={}", target.join("tmp").display());
    println!("cargo:rerun-if-changed=build.rs");
}
