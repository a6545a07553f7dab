//! The Snowflake emulator (fakesnow in server mode, from the venv
//! `scripts/venv-snowflake.sh` makes) on a free 127.0.0.1 port; stopped on
//! drop.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python of the Snowflake venv (fakesnow, the Snowflake connector).
pub fn snowflake_python() -> PathBuf {
    if let Ok(p) = std::env::var("CLOUDTAB_SNOWFLAKE_PYTHON") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv-snowflake/bin/python");
    assert!(
        p.exists(),
        "no Snowflake emulator venv at {}: run ./scripts/test.sh, which makes it",
        p.display()
    );
    p
}

/// fakesnow's server on a free 127.0.0.1 port; killed on drop.
pub struct Fakesnow {
    child: Child,
    log: tempfile::NamedTempFile,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Fakesnow {
    /// Starts a server.
    pub fn start() -> Fakesnow {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new(snowflake_python().with_file_name("fakesnow"))
            .args(["-s", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(log.reopen().unwrap())
            .spawn()
            .expect("start fakesnow (run ./scripts/test.sh, which installs it)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("fakesnow exited with {status}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "fakesnow did not listen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Fakesnow { child, log, port }
    }
}

impl Fakesnow {
    /// The server's log: the statements it refused, and why.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Fakesnow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
