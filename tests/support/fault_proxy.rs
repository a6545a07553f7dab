//! A small HTTP proxy in front of the emulator that answers some requests
//! itself: every `every`-th request gets a throttling or server error (the
//! SDK retries those), and requests for a denied service and region get
//! AccessDenied (the scope must fail alone). One connection per request.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::http::{read_request, respond};

/// What to inject.
#[derive(Clone, Default)]
pub struct Faults {
    /// Every n-th request (0: none) gets an error the SDK should retry,
    /// alternating throttling and HTTP 500/503.
    pub every: u64,
    /// `(service, region)` pairs whose requests are denied.
    pub deny: Vec<(String, String)>,
    /// `(service, region, error code)`: requests answered with that error.
    pub refuse: Vec<(String, String, &'static str)>,
    /// Every target ELBv2's `DescribeTargetHealth` reports is reported
    /// again on each of these ports, as for an instance that ECS dynamic
    /// port mapping registered several times (the emulator keeps one
    /// registration per instance).
    pub extra_ports: Vec<u16>,
    /// The first request whose request line contains this is forwarded,
    /// and its answer dropped (the connection closes unanswered): a write
    /// the server did, which the client cannot know it did.
    pub drop_answer: Option<String>,
    /// Answers a request itself when this returns `(status, JSON body)`
    /// for it (request number from 1, head, body); the rest are
    /// forwarded.
    pub answer: Option<Answer>,
}

/// See [`Faults::answer`].
pub type Answer = Arc<dyn Fn(u64, &str, &[u8]) -> Option<(String, String)> + Send + Sync>;

/// A running proxy.
pub struct FaultProxy {
    port: u16,
    stop: Arc<AtomicBool>,
    /// Errors injected so far (retryable ones only).
    pub injected: Arc<AtomicU64>,
    /// Answers dropped so far (`Faults::drop_answer`).
    pub dropped: Arc<AtomicU64>,
    /// `(service, access key id)` of every signed request seen.
    pub signers: Arc<Mutex<BTreeSet<(String, String)>>>,
}

impl FaultProxy {
    /// Starts the proxy for the emulator on `upstream` (a port).
    pub fn start(upstream: u16, faults: Faults) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let injected = Arc::new(AtomicU64::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let signers = Arc::new(Mutex::new(BTreeSet::new()));
        let (stop2, injected2, dropped2, signers2) = (
            stop.clone(),
            injected.clone(),
            dropped.clone(),
            signers.clone(),
        );
        std::thread::spawn(move || {
            let seen = AtomicU64::new(0);
            for conn in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
                let _ = handle(conn, upstream, &faults, n, &injected2, &dropped2, &signers2);
            }
        });
        FaultProxy {
            port,
            stop,
            injected,
            dropped,
            signers,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Access key id, region and service from the SigV4 credential scope
/// (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`); empty when the
/// request is not signed.
fn credential_of(head: &str) -> (String, String, String) {
    let scope = head
        .split("Credential=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or("");
    let part = |i: usize| scope.split('/').nth(i).unwrap_or("").to_string();
    (part(0), part(2), part(3))
}

/// The throttling answer each protocol understands.
fn throttle(conn: &mut TcpStream, service: &str) -> std::io::Result<()> {
    match service {
        "ec2" => respond(conn, "503 Service Unavailable", "Content-Type: text/xml\r\n",
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>x</RequestID></Response>"),
        "sqs" => respond(conn, "400 Bad Request", "Content-Type: application/x-amz-json-1.0\r\nx-amzn-query-error: RequestThrottled;Sender\r\n",
            r#"{"__type":"com.amazonaws.sqs#RequestThrottled","message":"Rate exceeded"}"#),
        "dynamodb" => respond(conn, "400 Bad Request", "Content-Type: application/x-amz-json-1.0\r\n",
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}"#),
        "lambda" => respond(conn, "429 Too Many Requests", "Content-Type: application/json\r\nx-amzn-ErrorType: TooManyRequestsException\r\n",
            r#"{"Type":"User","message":"Rate exceeded"}"#),
        "eks" => respond(conn, "429 Too Many Requests", "Content-Type: application/json\r\nx-amzn-ErrorType: ThrottlingException\r\n",
            r#"{"message":"Rate exceeded"}"#),
        "s3" => respond(conn, "503 Slow Down", "Content-Type: application/xml\r\n",
            "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"),
        _ => respond(conn, "400 Bad Request", "Content-Type: text/xml\r\n",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>x</RequestId></ErrorResponse>"),
    }
}

/// An error answer with `code`, in the protocol of `service`.
fn refuse(conn: &mut TcpStream, service: &str, code: &str) -> std::io::Result<()> {
    let status = "403 Forbidden";
    match service {
        "ec2" => respond(conn, status, "Content-Type: text/xml\r\n",
            &format!("<Response><Errors><Error><Code>{code}</Code><Message>refused by the test</Message></Error></Errors><RequestID>x</RequestID></Response>")),
        "sqs" => respond(conn, "400 Bad Request", &format!("Content-Type: application/x-amz-json-1.0\r\nx-amzn-query-error: {code};Sender\r\n"),
            &format!(r#"{{"__type":"com.amazonaws.sqs#{code}","message":"refused by the test"}}"#)),
        "dynamodb" => respond(conn, "400 Bad Request", "Content-Type: application/x-amz-json-1.0\r\n",
            &format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"refused by the test"}}"#)),
        "eks" | "lambda" => respond(conn, status, &format!("Content-Type: application/json\r\nx-amzn-ErrorType: {code}\r\n"),
            r#"{"message":"refused by the test"}"#),
        _ => respond(conn, status, "Content-Type: text/xml\r\n",
            &format!("<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>refused by the test</Message></Error><RequestId>x</RequestId></ErrorResponse>")),
    }
}

/// The access-denied answer of `service`.
fn deny(conn: &mut TcpStream, service: &str) -> std::io::Result<()> {
    match service {
        "ec2" => refuse(conn, service, "UnauthorizedOperation"),
        "dynamodb" | "eks" | "lambda" => refuse(conn, service, "AccessDeniedException"),
        _ => refuse(conn, service, "AccessDenied"),
    }
}

fn handle(
    mut conn: TcpStream,
    upstream: u16,
    faults: &Faults,
    n: u64,
    injected: &AtomicU64,
    dropped: &AtomicU64,
    signers: &Mutex<BTreeSet<(String, String)>>,
) -> std::io::Result<()> {
    let (head, body) = read_request(&mut conn)?;
    if let Some(answer) = &faults.answer {
        if let Some((status, json)) = answer(n, &head, &body) {
            injected.fetch_add(1, Ordering::Relaxed);
            return respond(
                &mut conn,
                &status,
                "Content-Type: application/json\r\n",
                &json,
            );
        }
    }
    let (key, region, service) = credential_of(&head);
    if !key.is_empty() {
        signers.lock().unwrap().insert((service.clone(), key));
    }
    if faults
        .deny
        .iter()
        .any(|(s, r)| *s == service && *r == region)
    {
        return deny(&mut conn, &service);
    }
    if let Some((_, _, code)) = faults
        .refuse
        .iter()
        .find(|(s, r, _)| *s == service && *r == region)
    {
        return refuse(&mut conn, &service, code);
    }
    if faults.every > 0 && n.is_multiple_of(faults.every) {
        injected.fetch_add(1, Ordering::Relaxed);
        return if (n / faults.every).is_multiple_of(2) {
            throttle(&mut conn, &service)
        } else {
            respond(
                &mut conn,
                "500 Internal Server Error",
                "Content-Type: text/html\r\n",
                "<html><body>Internal Server Error</body></html>",
            )
        };
    }
    // Forward with `Connection: close`, relay the answer, close.
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let mut new_head = String::new();
    for line in head.trim_end().split("\r\n") {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        new_head.push_str(line);
        new_head.push_str("\r\n");
    }
    new_head.push_str("Connection: close\r\n\r\n");
    up.write_all(new_head.as_bytes())?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    if !faults.extra_ports.is_empty()
        && String::from_utf8_lossy(&body).contains("Action=DescribeTargetHealth")
    {
        answer = with_extra_ports(&answer, &faults.extra_ports);
    }
    let request_line = head.lines().next().unwrap_or("");
    if let Some(pattern) = &faults.drop_answer {
        if request_line.contains(pattern.as_str()) && dropped.load(Ordering::Relaxed) == 0 {
            dropped.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
    }
    conn.write_all(&answer)?;
    Ok(())
}

/// A `DescribeTargetHealth` answer with every target repeated on `ports`.
fn with_extra_ports(answer: &[u8], ports: &[u16]) -> Vec<u8> {
    let text = String::from_utf8_lossy(answer).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return answer.to_vec();
    };
    let (open, close) = ("<TargetHealthDescriptions>", "</TargetHealthDescriptions>");
    let (Some(a), Some(b)) = (body.find(open), body.find(close)) else {
        return answer.to_vec();
    };
    let inner = &body[a + open.len()..b];
    let mut extra = String::new();
    let mut rest = inner;
    while let (Some(s), Some(e)) = (rest.find("<member>"), rest.find("</member>")) {
        let member = &rest[s..e + "</member>".len()];
        for port in ports {
            let (Some(p), Some(q)) = (member.find("<Port>"), member.find("</Port>")) else {
                break;
            };
            extra.push_str(&format!("{}<Port>{port}{}", &member[..p], &member[q..]));
        }
        rest = &rest[e + "</member>".len()..];
    }
    let body = format!("{}{inner}{extra}{}", &body[..a + open.len()], &body[b..]);
    let head: Vec<String> = head
        .split("\r\n")
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_string()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}
