//! The project's shell scripts on a fresh or broken machine: they check
//! their prerequisites with a clear message, and repair what they can.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn env_sh_refuses_a_rust_older_than_the_lock_needs() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("rustc");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'rustc 1.80.0 (051478957 2024-07-21)'\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap()
    );
    let out = Command::new("bash")
        .args(["-c", ". scripts/env.sh"])
        .current_dir(root())
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("Rust 1.80.0 is too old") && err.contains("rustup update"),
        "{err}"
    );
    // The version it asks for is Cargo.toml's rust-version.
    let toml = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let needed = toml
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .unwrap()
        .trim_end_matches('"');
    assert!(err.contains(needed), "{err}");

    // The real toolchain passes.
    let out = Command::new("bash")
        .args(["-c", ". scripts/env.sh && echo ok"])
        .current_dir(root())
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}

#[test]
fn venv_sh_rebuilds_a_venv_that_lacks_pip() {
    // A project copy with an empty requirements file, and a venv made
    // without pip (what a missing python3-venv or an interrupted set-up
    // leaves behind).
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scripts")).unwrap();
    for script in ["venv.sh", "venv-lib.sh"] {
        std::fs::copy(
            root().join("scripts").join(script),
            dir.path().join("scripts").join(script),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("scripts/requirements-test.txt"), "# none\n").unwrap();
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip", ".venv"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(made.success());
    let pip = |dir: &Path| {
        Command::new(dir.join(".venv/bin/python"))
            .args(["-m", "pip", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(!pip(dir.path()), "the venv starts without pip");

    let out = Command::new("bash")
        .args(["-c", ". scripts/venv.sh && echo \"$CLOUDTAB_TEST_PYTHON\""])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("no working pip"), "{err}");
    assert!(pip(dir.path()), "pip works after venv.sh");
    assert!(String::from_utf8_lossy(&out.stdout).contains(".venv/bin/python"));
}
