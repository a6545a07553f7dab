//! Credential endpoints the AWS API emulator does not serve faithfully,
//! speaking their real protocols on 127.0.0.1: the IAM Identity Center
//! (SSO) portal's `GetRoleCredentials` and the EC2 instance metadata
//! service (IMDSv2, session token required). Each grants fixed credentials
//! only to a correct request and counts the grants. One connection per
//! request.

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::http::{read_request, respond};

/// One request: the request line and header lines, lower-cased.
pub struct Request {
    pub line: String,
    pub headers: Vec<String>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}:");
        self.headers
            .iter()
            .find_map(|h| h.strip_prefix(&prefix).map(str::trim))
    }
}

/// What a peer answers: status line, extra headers, body, and whether it
/// granted credentials.
type Answer = (&'static str, String, String, bool);

/// A running peer.
pub struct Peer {
    port: u16,
    /// Requests answered with credentials.
    pub granted: Arc<AtomicU64>,
}

impl Peer {
    fn start(handler: impl Fn(&Request) -> Answer + Send + 'static) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let granted = Arc::new(AtomicU64::new(0));
        let counter = granted.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let Ok((head, _)) = read_request(&mut conn) else {
                    continue;
                };
                let head = head.to_ascii_lowercase();
                let mut lines = head.lines().map(str::to_string);
                let request = Request {
                    line: lines.next().unwrap_or_default(),
                    headers: lines.collect(),
                };
                let (status, headers, body, granted) = handler(&request);
                if granted {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                let _ = respond(&mut conn, status, &headers, &body);
            }
        });
        Peer { port, granted }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Grants so far.
    pub fn grants(&self) -> u64 {
        self.granted.load(Ordering::Relaxed)
    }
}

fn expiry_in_an_hour() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600
}

/// The SSO portal: `GET /federation/credentials?account_id=..&role_name=..`
/// with the bearer token in `x-amz-sso_bearer_token`.
pub fn sso_portal(token: &str, account: &str, role: &str) -> Peer {
    let token = token.to_ascii_lowercase();
    let query = [
        format!("account_id={account}"),
        format!("role_name={}", role.to_ascii_lowercase()),
    ];
    Peer::start(move |r| {
        let ok = r.line.starts_with("get /federation/credentials?")
            && query.iter().all(|q| r.line.contains(q.as_str()))
            && r.header("x-amz-sso_bearer_token") == Some(token.as_str());
        if !ok {
            return (
                "401 Unauthorized",
                "Content-Type: application/json\r\n".into(),
                r#"{"message":"Session token not found or invalid"}"#.into(),
                false,
            );
        }
        let body = format!(
            r#"{{"roleCredentials":{{"accessKeyId":"ASIASSOTEST","secretAccessKey":"sso-secret-value","sessionToken":"sso-session","expiration":{}}}}}"#,
            expiry_in_an_hour() * 1000
        );
        (
            "200 OK",
            "Content-Type: application/json\r\n".into(),
            body,
            true,
        )
    })
}

/// IMDSv2: `PUT /latest/api/token` with a TTL header gives a session
/// token; metadata reads without it get 401.
pub fn instance_metadata(role: &str) -> Peer {
    const TOKEN: &str = "imds-session-token";
    let role = role.to_string();
    Peer::start(move |r| {
        let text =
            |s: &'static str, b: String| (s, "Content-Type: text/plain\r\n".into(), b, false);
        if r.line.starts_with("put /latest/api/token ") {
            return match r.header("x-aws-ec2-metadata-token-ttl-seconds") {
                Some(ttl) => (
                    "200 OK",
                    format!("Content-Type: text/plain\r\nX-aws-ec2-metadata-token-ttl-seconds: {ttl}\r\n"),
                    TOKEN.into(),
                    false,
                ),
                None => text("400 Bad Request", String::new()),
            };
        }
        if r.header("x-aws-ec2-metadata-token") != Some(TOKEN) {
            return text("401 Unauthorized", String::new());
        }
        let path = r.line.split(' ').nth(1).unwrap_or("");
        let base = "/latest/meta-data/iam/security-credentials/";
        if path == base {
            return text("200 OK", role.clone());
        }
        if path.strip_prefix(base) == Some(role.to_ascii_lowercase().as_str()) {
            let expires = chrono::DateTime::from_timestamp(expiry_in_an_hour() as i64, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ");
            let body = format!(
                r#"{{"Code":"Success","LastUpdated":"2026-01-01T00:00:00Z","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDSTEST","SecretAccessKey":"imds-secret-value","Token":"imds-session","Expiration":"{expires}"}}"#
            );
            return ("200 OK", "Content-Type: text/plain\r\n".into(), body, true);
        }
        text("404 Not Found", String::new())
    })
}
