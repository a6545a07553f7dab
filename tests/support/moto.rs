//! The AWS API emulator (moto, from the test venv) on a free 127.0.0.1
//! port, one request at a time (`scripts/moto_single.py`); stopped on drop.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running emulator.
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// Starts the emulator with the venv's Python.
    pub fn start(python: &Path) -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/moto_single.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator (run ./scripts/test.sh, which installs moto)");
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the emulator exited with {status}; is moto installed in the test venv?");
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the emulator did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto { child, port }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
