//! A throwaway PostgreSQL server for tests: `initdb` into a temporary
//! directory, started on a free 127.0.0.1 port, stopped and removed on
//! drop. As root, it runs as the `postgres` user (initdb refuses root).
//! Shared by the sink's unit tests and the end-to-end tests.

#![allow(dead_code)]

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What the server needs besides the defaults.
#[derive(Default, Clone)]
pub struct PgOptions {
    /// Serve TLS with a certificate for 127.0.0.1 signed by a test CA
    /// (`PgServer::ca_file`).
    pub tls: bool,
    /// A role that must log in with this password (scram-sha-256).
    pub password_user: Option<(String, String)>,
}

/// A running server.
pub struct PgServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
    owner: Option<(u32, u32)>,
}

fn bin_dir() -> PathBuf {
    if let Ok(p) = std::env::var("CLOUDTAB_PG_BIN") {
        return PathBuf::from(p);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return bin;
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if p.join("initdb").exists() {
            return p;
        }
    }
    panic!(
        "PostgreSQL server binaries (initdb, postgres) not found: run ./scripts/test.sh, which installs them, or set CLOUDTAB_PG_BIN"
    );
}

/// uid and gid of the `postgres` user.
fn postgres_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() > 3 && f[0] == "postgres" {
            if let (Ok(u), Ok(g)) = (f[2].parse(), f[3].parse()) {
                return (u, g);
            }
        }
    }
    panic!("running as root, but there is no `postgres` user to run the test server as; ./scripts/test.sh installs PostgreSQL, which creates it");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    if !out.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl PgServer {
    /// A plain server with trust authentication on 127.0.0.1.
    pub fn start() -> PgServer {
        PgServer::start_with(PgOptions::default())
    }

    /// A server with `options`.
    pub fn start_with(options: PgOptions) -> PgServer {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("cloudtab-pg-")
            .tempdir_in(std::env::temp_dir())
            .unwrap()
            .keep();
        let root = std::fs::metadata(&dir).unwrap().uid() == 0;
        let owner = root.then(postgres_user);
        if let Some((u, g)) = owner {
            std::os::unix::fs::chown(&dir, Some(u), Some(g)).unwrap();
        }
        let data = dir.join("data");
        let mut server = PgServer {
            dir: dir.clone(),
            bin: bin.clone(),
            port: free_port(),
            child: None,
            owner,
        };
        run(
            server
                .command("initdb")
                .args(["-D", data.to_str().unwrap()])
                .args(["-U", "postgres", "-A", "trust", "-E", "UTF8"])
                .args(["--locale=C", "--no-sync", "--no-instructions"]),
            "initdb",
        );
        let mut hba = String::from("local all all trust\n");
        if let Some((user, _)) = &options.password_user {
            hba.push_str(&format!(
                "host all {user} 127.0.0.1/32 scram-sha-256\nhost all {user} ::1/128 scram-sha-256\n"
            ));
        }
        hba.push_str("host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n");
        std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
        let mut args: Vec<String> = vec![
            "-D".into(),
            data.to_str().unwrap().into(),
            "-p".into(),
            server.port.to_string(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-c".into(),
            format!("unix_socket_directories={}", dir.display()),
            "-c".into(),
            "fsync=off".into(),
            "-c".into(),
            "synchronous_commit=off".into(),
            "-c".into(),
            "full_page_writes=off".into(),
        ];
        if options.tls {
            server.make_certificates();
            for (k, v) in [
                ("ssl", "on".to_string()),
                (
                    "ssl_cert_file",
                    dir.join("server.crt").display().to_string(),
                ),
                ("ssl_key_file", dir.join("server.key").display().to_string()),
            ] {
                args.push("-c".into());
                args.push(format!("{k}={v}"));
            }
        }
        let log = std::fs::File::create(dir.join("server.log")).unwrap();
        if let Some((u, g)) = owner {
            std::os::unix::fs::chown(dir.join("server.log"), Some(u), Some(g)).unwrap();
        }
        let child = server
            .command("postgres")
            .args(&args)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start postgres");
        server.child = Some(child);
        server.wait_ready();
        if let Some((user, pw)) = &options.password_user {
            server.psql(&format!(
                "CREATE ROLE \"{user}\" LOGIN PASSWORD '{pw}'; GRANT CREATE ON DATABASE postgres TO \"{user}\";"
            ));
        }
        server
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(self.bin.join(program));
        c.current_dir(&self.dir);
        if let Some((u, g)) = self.owner {
            c.uid(u).gid(g);
        }
        c
    }

    fn wait_ready(&mut self) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("postgres exited with {status}:\n{}", self.log());
            }
            let ok = Command::new(self.bin.join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                return;
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("postgres did not become ready in 60 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A CA and a server certificate for 127.0.0.1 and localhost.
    fn make_certificates(&self) {
        let d = &self.dir;
        let openssl = |args: &[&str]| {
            run(
                Command::new("openssl").args(args).current_dir(d),
                "openssl (needed for the TLS tests)",
            )
        };
        let self_signed_ca = |key: &str, cert: &str, subject: &str| {
            openssl(&[
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                "-days", "2", "-subj", subject,
            ])
        };
        self_signed_ca("ca.key", "ca.crt", "/CN=cloudtab test CA");
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        std::fs::write(
            d.join("san.ext"),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ]);
        // A second CA that signed nothing: verify-full against it must fail.
        self_signed_ca("other.key", "other-ca.crt", "/CN=some other CA");
        let key = d.join("server.key");
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        if let Some((u, g)) = self.owner {
            for f in ["server.key", "server.crt", "ca.crt"] {
                std::os::unix::fs::chown(d.join(f), Some(u), Some(g)).unwrap();
            }
        }
    }

    /// The test CA's certificate (servers started with `tls`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// A CA certificate that did not sign the server's.
    pub fn other_ca_file(&self) -> PathBuf {
        self.dir.join("other-ca.crt")
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable`.
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// Runs SQL with psql as the superuser; returns unaligned output
    /// (`|` between columns). Panics with the error when it fails.
    pub fn psql(&self, sql: &str) -> String {
        self.try_psql(sql)
            .unwrap_or_else(|e| panic!("psql -c {sql:?} failed:\n{e}"))
    }

    /// Like `psql`, but returns the error text instead of panicking.
    pub fn try_psql(&self, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", "postgres", "-X", "-q", "-A", "-t"])
            .args(["-v", "ON_ERROR_STOP=1"]);
        // One argument may hold at most 128 KiB: longer scripts (the whole
        // printed DDL) go through stdin, in one transaction like `-c`.
        let out = if sql.len() < 100_000 {
            cmd.args(["-c", sql]).output().unwrap()
        } else {
            use std::io::Write;
            let mut child = cmd
                .args(["-1", "-f", "-"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(sql.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        };
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// `psql` binary of the server's version.
    pub fn psql_bin(&self) -> PathBuf {
        self.bin.join("psql")
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The temporary directory (data, log, certificates).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT: fast shutdown (disconnects clients, no checkpoint wait).
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `k|n` lines of a psql query (`PgServer::psql`'s output) into a map.
pub fn pairs(text: &str) -> std::collections::BTreeMap<String, u64> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, n) = l.rsplit_once('|').unwrap();
            (k.to_string(), n.parse().unwrap())
        })
        .collect()
}
