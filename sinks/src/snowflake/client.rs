//! A small client for Snowflake's REST protocol, the one its own
//! connectors speak: log in (`/session/v1/login-request`), run a
//! statement (`/queries/v1/query-request`, values as bindings, results as
//! Arrow IPC or JSON rowsets, long statements polled), renew an expired
//! session (`/session/token-request`), log out. Files are put to a stage
//! by `stage.rs`. Transport failures, 5xx and 429 answers are retried
//! with the same request id, which Snowflake uses to run a statement at
//! most once.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arrow::array::{Array, ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use base64::Engine;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use super::auth::Credentials;
use crate::SinkError;

/// Tries of one request before its error is returned.
const TRIES: u32 = 7;

/// Snowflake's codes: a statement still running; a session token that
/// expired (renew it); a master token that expired (log in again).
const IN_PROGRESS: [&str; 2] = ["333333", "333334"];
const SESSION_EXPIRED: &str = "390112";
const MASTER_EXPIRED: [&str; 2] = ["390114", "390115"];

/// Where and as whom to log in; the secret is read at each login.
#[derive(Debug, Clone)]
pub struct LoginInfo {
    /// `https://<account>.snowflakecomputing.com`, or the `host` given.
    pub base_url: String,
    /// Account identifier (for the login body and the JWT).
    pub account: String,
    /// Login name.
    pub user: String,
    /// Role to use, if any (upper case as given to `USE ROLE`).
    pub role: Option<String>,
    /// Where the secret comes from.
    pub secret: super::auth::Secret,
    /// How long a statement waits for another transaction's lock before
    /// it fails (Snowflake's `LOCK_TIMEOUT`; its default is 12 hours).
    pub lock_timeout_secs: u64,
}

struct Tokens {
    session: String,
    master: String,
}

/// One Snowflake session. Statements on it run one at a time.
pub struct Session {
    http: reqwest::Client,
    info: LoginInfo,
    tokens: Mutex<Tokens>,
    seq: AtomicU64,
}

/// A statement's answer: its column names and rows as Arrow batches.
/// JSON rowsets (Snowflake answers DML and `SHOW` with them) become text
/// columns.
#[derive(Debug, Default)]
pub struct Rows {
    /// Column names, as the server gives them.
    pub names: Vec<String>,
    /// The rows.
    pub batches: Vec<RecordBatch>,
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// True when there is no row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every row, each value as text (`None` for NULL). Numbers, booleans
    /// and text cast as Arrow casts them; other types as their debug form.
    pub fn text(&self) -> Vec<Vec<Option<String>>> {
        let mut out = Vec::new();
        for b in &self.batches {
            let cols: Vec<Option<ArrayRef>> = b
                .columns()
                .iter()
                .map(|c| arrow::compute::cast(c, &DataType::Utf8).ok())
                .collect();
            for r in 0..b.num_rows() {
                out.push(
                    cols.iter()
                        .zip(b.columns())
                        .map(|(c, raw)| {
                            if raw.is_null(r) {
                                return None;
                            }
                            match c {
                                Some(c) => c
                                    .as_any()
                                    .downcast_ref::<StringArray>()
                                    .map(|s| s.value(r).to_string()),
                                None => Some(format!("{:?}", raw.slice(r, 1))),
                            }
                        })
                        .collect(),
                );
            }
        }
        out
    }

    /// The first column of the first row, as a number (a count, or the
    /// rows a DML statement changed: Snowflake answers those as the first
    /// column).
    pub fn count(&self) -> u64 {
        self.text()
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }
}

/// A value bound to a `?` of a statement.
#[derive(Debug, Clone)]
pub enum Bind {
    /// Text (or NULL).
    Text(Option<String>),
    /// An integer.
    Int(i64),
}

impl From<&str> for Bind {
    fn from(s: &str) -> Self {
        Bind::Text(Some(s.to_string()))
    }
}

impl From<String> for Bind {
    fn from(s: String) -> Self {
        Bind::Text(Some(s))
    }
}

/// A UUID (version 4) for a request; all zeros should the system's
/// generator fail (the id only tells requests apart).
fn request_id() -> String {
    let mut b = super::crypt::random(16).unwrap_or_else(|_| vec![0; 16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The server's refusal: code, SQL state and message.
#[derive(Debug, Clone)]
pub struct ServerError {
    /// Snowflake's error code (`002003`: object does not exist or not
    /// authorized).
    pub code: String,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (Snowflake error {})", self.message.trim(), self.code)?;
        let m = self.message.to_lowercase();
        if self.code == "000625"
            || (m.contains("lock") && (m.contains("timeout") || m.contains("waiting")))
        {
            // A transaction left open (a killed client's session lives on
            // until it expires) holds the table.
            f.write_str("; another transaction holds the table: find it with `SHOW TRANSACTIONS` or `SHOW LOCKS`, end it with `SELECT SYSTEM$ABORT_TRANSACTION(<id>)`")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServerError {}

/// A failed request: refused by the server, or not answered.
#[derive(Debug)]
pub enum ClientError {
    /// Snowflake answered with an error.
    Server(ServerError),
    /// No usable answer (transport, HTTP status, a body that is not
    /// Snowflake's JSON), after retries.
    Transport(String),
    /// Refused for a reason of ours (configuration, secrets).
    Sink(SinkError),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Server(e) => e.fmt(f),
            ClientError::Transport(s) => f.write_str(s),
            ClientError::Sink(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The server's code, when it answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Server(e) => Some(&e.code),
            _ => None,
        }
    }
}

/// The HTTP client every session uses.
pub fn http_client() -> Result<reqwest::Client, SinkError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .user_agent(concat!("cloudtab/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SinkError::Other(format!("cannot build the HTTP client: {e}")))
}

impl Session {
    /// Logs in.
    pub async fn login(
        http: reqwest::Client,
        info: LoginInfo,
    ) -> Result<Arc<Session>, ClientError> {
        let tokens = login(&http, &info).await?;
        Ok(Arc::new(Session {
            http,
            info,
            tokens: Mutex::new(tokens),
            seq: AtomicU64::new(0),
        }))
    }

    /// The HTTP client, for stage uploads.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Runs one statement with `binds` for its `?`s.
    pub async fn query(&self, sql: &str, binds: &[Bind]) -> Result<Rows, ClientError> {
        let data = self.query_data(sql, binds).await?;
        rows(&self.http, &data).await
    }

    /// Runs one statement and returns the answer's `data` as it is (a
    /// `PUT` answers with where to upload).
    pub async fn query_data(&self, sql: &str, binds: &[Bind]) -> Result<Value, ClientError> {
        let mut bindings = serde_json::Map::new();
        for (i, b) in binds.iter().enumerate() {
            let (ty, value) = match b {
                Bind::Text(v) => ("TEXT", v.clone().map(Value::String).unwrap_or(Value::Null)),
                Bind::Int(n) => ("FIXED", Value::String(n.to_string())),
            };
            bindings.insert((i + 1).to_string(), json!({"type": ty, "value": value}));
        }
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let mut body = json!({
            "sqlText": sql,
            "asyncExec": false,
            "sequenceId": seq,
            "querySubmissionTime": chrono::Utc::now().timestamp_millis(),
        });
        if !bindings.is_empty() {
            body["bindings"] = Value::Object(bindings);
        }
        let rid = request_id();
        let mut renewed = false;
        loop {
            let token = self.tokens.lock().await.session.clone();
            let url = format!(
                "{}/queries/v1/query-request?requestId={rid}",
                self.info.base_url
            );
            let answer = send(&self.http, &url, Some(&token), &body).await?;
            match answer_code(&answer) {
                None => return Ok(answer["data"].clone()),
                Some(code) if IN_PROGRESS.contains(&code.as_str()) => {
                    return self.poll(&answer).await;
                }
                Some(code) if code == SESSION_EXPIRED && !renewed => {
                    self.renew().await?;
                    renewed = true;
                }
                Some(code) => return Err(server_error(&answer, code)),
            }
        }
    }

    /// Polls a statement that is still running until it ends.
    async fn poll(&self, first: &Value) -> Result<Value, ClientError> {
        let Some(path) = first["data"]["getResultUrl"].as_str().map(str::to_string) else {
            return Err(ClientError::Transport(
                "Snowflake said the statement is still running but gave no result URL".into(),
            ));
        };
        let mut wait = Duration::from_millis(250);
        loop {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
            let token = self.tokens.lock().await.session.clone();
            let url = format!("{}{}", self.info.base_url, path);
            let answer = get(&self.http, &url, &token).await?;
            match answer_code(&answer) {
                None => return Ok(answer["data"].clone()),
                Some(code) if IN_PROGRESS.contains(&code.as_str()) => continue,
                Some(code) if code == SESSION_EXPIRED => self.renew().await?,
                Some(code) => return Err(server_error(&answer, code)),
            }
        }
    }

    /// Renews the session token with the master token; logs in again when
    /// that has expired too.
    async fn renew(&self) -> Result<(), ClientError> {
        let mut tokens = self.tokens.lock().await;
        let url = format!(
            "{}/session/token-request?requestId={}",
            self.info.base_url,
            request_id()
        );
        let body = json!({"oldSessionToken": tokens.session, "requestType": "RENEW"});
        let answer = send(&self.http, &url, Some(&tokens.master), &body).await?;
        match answer_code(&answer) {
            None => {
                let d = &answer["data"];
                if let (Some(s), Some(m)) = (d["sessionToken"].as_str(), d["masterToken"].as_str())
                {
                    tokens.session = s.to_string();
                    tokens.master = m.to_string();
                    tracing::info!("snowflake: session renewed");
                    return Ok(());
                }
                Err(ClientError::Transport(
                    "Snowflake's session renewal answer has no tokens".into(),
                ))
            }
            Some(code) if MASTER_EXPIRED.contains(&code.as_str()) => {
                *tokens = login(&self.http, &self.info).await?;
                tracing::info!("snowflake: logged in again after the session expired");
                Ok(())
            }
            Some(code) => Err(server_error(&answer, code)),
        }
    }

    /// Logs out (best effort): the session's temporary tables and stages
    /// go with it.
    pub async fn close(&self) {
        let token = self.tokens.lock().await.session.clone();
        let url = format!("{}/session?delete=true", self.info.base_url);
        let _ = self
            .http
            .post(&url)
            .header("Authorization", format!("Snowflake Token=\"{token}\""))
            .header("Accept", "application/snowflake")
            .send()
            .await;
    }
}

async fn login(http: &reqwest::Client, info: &LoginInfo) -> Result<Tokens, ClientError> {
    let creds = info.secret.load().map_err(ClientError::Sink)?;
    let mut data = json!({
        "CLIENT_APP_ID": "cloudtab",
        "CLIENT_APP_VERSION": env!("CARGO_PKG_VERSION"),
        "ACCOUNT_NAME": super::auth::jwt_account(&info.account),
        "LOGIN_NAME": info.user,
        "CLIENT_ENVIRONMENT": {"APPLICATION": "cloudtab", "OS": std::env::consts::OS},
        "SESSION_PARAMETERS": {
            "AUTOCOMMIT": true,
            "TIMEZONE": "UTC",
            "QUERY_TAG": "cloudtab",
            "LOCK_TIMEOUT": info.lock_timeout_secs,
        },
    });
    match &creds {
        Credentials::Password(p) => data["PASSWORD"] = json!(p),
        Credentials::OAuth(t) => {
            data["AUTHENTICATOR"] = json!("OAUTH");
            data["TOKEN"] = json!(t);
        }
        Credentials::KeyPair(key, fp) => {
            let jwt = super::auth::jwt(
                key,
                fp,
                &info.account,
                &info.user,
                chrono::Utc::now().timestamp(),
            )
            .map_err(ClientError::Sink)?;
            data["AUTHENTICATOR"] = json!("SNOWFLAKE_JWT");
            data["TOKEN"] = json!(jwt);
        }
    }
    let mut url = format!(
        "{}/session/v1/login-request?request_id={}",
        info.base_url,
        request_id()
    );
    if let Some(role) = &info.role {
        url.push_str(&format!("&roleName={}", percent(role)));
    }
    let answer = send(http, &url, None, &json!({ "data": data })).await?;
    if let Some(code) = answer_code(&answer) {
        return Err(server_error(&answer, code));
    }
    let d = &answer["data"];
    match (d["token"].as_str(), d["masterToken"].as_str()) {
        (Some(t), m) => Ok(Tokens {
            session: t.to_string(),
            master: m.unwrap_or_default().to_string(),
        }),
        _ => Err(ClientError::Transport(
            "Snowflake's login answer has no session token".into(),
        )),
    }
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `None` when the answer says `success`, else its code.
fn answer_code(answer: &Value) -> Option<String> {
    if answer["success"].as_bool() == Some(true) {
        return None;
    }
    Some(match &answer["code"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => format!("{:06}", n.as_u64().unwrap_or(0)),
        _ => "000000".into(),
    })
}

fn server_error(answer: &Value, code: String) -> ClientError {
    ClientError::Server(ServerError {
        code,
        message: answer["message"]
            .as_str()
            .unwrap_or("no message")
            .to_string(),
    })
}

fn retryable(status: reqwest::StatusCode) -> bool {
    status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

/// POSTs `body` and returns Snowflake's JSON answer, retrying transport
/// failures, 5xx and 429 with backoff (about a minute in all). A retry
/// says so (`retryCount`) and keeps the request id, which Snowflake uses
/// to run a statement once.
async fn send(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> Result<Value, ClientError> {
    let bytes = serde_json::to_vec(body).map_err(|e| ClientError::Transport(e.to_string()))?;
    call(http, url, token, Some(bytes)).await
}

/// GETs a result (a statement that was still running).
async fn get(http: &reqwest::Client, url: &str, token: &str) -> Result<Value, ClientError> {
    call(http, url, Some(token), None).await
}

/// One request (POST with a body, else GET), with the retries [`send`]
/// describes.
async fn call(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> Result<Value, ClientError> {
    let mut wait = Duration::from_millis(500);
    let mut last = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(16));
        }
        let mut req = match &body {
            Some(b) => {
                let target = if attempt > 0 {
                    format!("{url}&retryCount={attempt}")
                } else {
                    url.to_string()
                };
                http.post(target)
                    .header("Content-Type", "application/json")
                    .body(b.clone())
            }
            None => http.get(url),
        }
        .header("Accept", "application/snowflake");
        if let Some(t) = token {
            req = req.header("Authorization", format!("Snowflake Token=\"{t}\""));
        }
        match req.send().await {
            Err(e) => last = format!("request failed: {}", error_chain(&e)),
            Ok(resp) if retryable(resp.status()) => last = format!("HTTP {}", resp.status()),
            Ok(resp) => return json_answer(resp).await,
        }
        tracing::debug!(attempt, error = %last, "snowflake: retrying a request");
    }
    Err(ClientError::Transport(format!(
        "no answer from Snowflake after {TRIES} tries: {last}"
    )))
}

async fn json_answer(resp: reqwest::Response) -> Result<Value, ClientError> {
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| ClientError::Transport(format!("reading the answer: {}", error_chain(&e))))?;
    let body = gunzip(&body)?;
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v.get("success").is_some() => Ok(v),
        _ if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN => {
            Err(ClientError::Server(ServerError {
                code: status.as_u16().to_string(),
                message: format!("HTTP {status}: access refused"),
            }))
        }
        _ => Err(ClientError::Transport(format!(
            "HTTP {status} with an answer that is not Snowflake's ({} bytes); check `account`/`host`",
            body.len()
        ))),
    }
}

/// The body, unzipped when it is gzip.
fn gunzip(body: &[u8]) -> Result<Vec<u8>, ClientError> {
    if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(body)
            .read_to_end(&mut out)
            .map_err(|e| ClientError::Transport(format!("cannot unzip the answer: {e}")))?;
        Ok(out)
    } else {
        Ok(body.to_vec())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(&format!(": {t}"));
        }
        src = inner.source();
    }
    s
}

/// The rows of a statement's `data`: the first rowset inline, further
/// chunks downloaded.
async fn rows(http: &reqwest::Client, data: &Value) -> Result<Rows, ClientError> {
    let names: Vec<String> = data["rowtype"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    let mut out = Rows {
        names: names.clone(),
        batches: Vec::new(),
    };
    let arrow_format = data["queryResultFormat"].as_str() == Some("arrow");
    if arrow_format {
        if let Some(b64) = data["rowsetBase64"].as_str().filter(|s| !s.is_empty()) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| ClientError::Transport("the Arrow rowset is not base64".into()))?;
            out.batches.extend(ipc_batches(&bytes)?);
        }
    } else if let Some(rowset) = data["rowset"].as_array() {
        out.batches.push(json_batch(&names, rowset)?);
    }
    if let Some(chunks) = data["chunks"].as_array() {
        let headers: Vec<(String, String)> = match data["chunkHeaders"].as_object() {
            Some(h) => h
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect(),
            None => match data["qrmk"].as_str() {
                Some(k) => vec![
                    (
                        "x-amz-server-side-encryption-customer-algorithm".into(),
                        "AES256".into(),
                    ),
                    ("x-amz-server-side-encryption-customer-key".into(), k.into()),
                ],
                None => Vec::new(),
            },
        };
        for c in chunks {
            let Some(url) = c["url"].as_str() else {
                continue;
            };
            let mut req = http.get(url);
            for (k, v) in &headers {
                req = req.header(k, v);
            }
            // A chunk's URL is presigned: errors leave it out.
            let resp = req
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| {
                    ClientError::Transport(format!(
                        "cannot download a result chunk: {}",
                        error_chain(&e.without_url())
                    ))
                })?;
            let body = resp.bytes().await.map_err(|e| {
                ClientError::Transport(format!(
                    "reading a result chunk: {}",
                    error_chain(&e.without_url())
                ))
            })?;
            let body = gunzip(&body)?;
            if arrow_format {
                out.batches.extend(ipc_batches(&body)?);
            } else {
                let mut wrapped = b"[".to_vec();
                wrapped.extend_from_slice(&body);
                wrapped.push(b']');
                let rowset: Vec<Value> = serde_json::from_slice(&wrapped).map_err(|e| {
                    ClientError::Transport(format!("a JSON result chunk does not parse: {e}"))
                })?;
                out.batches.push(json_batch(&names, &rowset)?);
            }
        }
    }
    Ok(out)
}

fn ipc_batches(bytes: &[u8]) -> Result<Vec<RecordBatch>, ClientError> {
    let reader = arrow::ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .map_err(|e| ClientError::Transport(format!("the Arrow result does not parse: {e}")))?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ClientError::Transport(format!("the Arrow result does not parse: {e}")))
}

fn json_batch(names: &[String], rowset: &[Value]) -> Result<RecordBatch, ClientError> {
    let width = names.len().max(
        rowset
            .first()
            .and_then(|r| r.as_array())
            .map_or(0, |r| r.len()),
    );
    let fields: Vec<Field> = (0..width)
        .map(|i| {
            Field::new(
                names.get(i).cloned().unwrap_or_else(|| format!("c{i}")),
                DataType::Utf8,
                true,
            )
        })
        .collect();
    let cols: Vec<ArrayRef> = (0..width)
        .map(|i| {
            let v: StringArray = rowset
                .iter()
                .map(|r| match &r[i] {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    other => Some(other.to_string()),
                })
                .collect();
            Arc::new(v) as ArrayRef
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
        .map_err(|e| ClientError::Transport(format!("a JSON result does not fit a table: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuids_and_codes_are_read() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_eq!(answer_code(&json!({"success": true})), None);
        assert_eq!(
            answer_code(&json!({"success": false, "code": "390112"})).as_deref(),
            Some("390112")
        );
        assert_eq!(
            answer_code(&json!({"success": false, "code": 2003})).as_deref(),
            Some("002003")
        );
        assert_eq!(percent("SYS ADMIN"), "SYS%20ADMIN");
    }

    #[test]
    fn json_rowsets_become_text_columns() {
        let b = json_batch(
            &["n".into(), "s".into()],
            &[json!(["3", "a"]), json!([null, "b"])],
        )
        .unwrap();
        let rows = Rows {
            names: vec![],
            batches: vec![b],
        };
        assert_eq!(rows.count(), 3);
        assert_eq!(rows.text()[1], vec![None, Some("b".to_string())]);
    }
}
