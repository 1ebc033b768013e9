//! The webhook sink: findings POSTed as JSON, one per request or in batches (JSON arrays).
//! See [`WebhookConfig`] for headers and how answers are treated.

use std::{path::PathBuf, time::Duration};

use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE},
    StatusCode, Url,
};

use super::{config::WebhookConfig, spool::Item, Done, Failure, Report, SinkError};

/// See the module doc.
#[derive(Debug)]
pub(crate) struct WebhookSink {
    client: reqwest::Client,
    url: Url,
    batch: bool,
    batch_max: usize,
    max_in_flight: usize,
    token_file: Option<PathBuf>,
    auth_header: HeaderName,
    auth_scheme: String,
}

/// Why a POST did not deliver.
enum PostError {
    /// The receiver refused the content: retrying the same content will not help.
    Permanent(String),
    /// Try again later.
    Retry(String),
}

/// An error with its causes, `a: b: c`.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

fn read_token(path: &PathBuf) -> Result<String, String> {
    let t = std::fs::read_to_string(path).map_err(|e| format!("token file {}: {e}", path.display()))?;
    let t = t.trim();
    if t.is_empty() {
        return Err(format!("token file {} is empty", path.display()));
    }
    Ok(t.to_string())
}

impl WebhookSink {
    /// Check the configuration's files and build the HTTP client. `option` names the table in
    /// errors (`sinks.webhook[0]`).
    pub fn new(cfg: &WebhookConfig, option: &str, timeout: Duration) -> Result<WebhookSink, SinkError> {
        let cfg_err = |key: &str, reason: String| SinkError::Config { option: format!("{option}.{key}"), reason };
        let url = Url::parse(cfg.url.trim()).map_err(|e| cfg_err("url", format!("{:?}: {e}", cfg.url)))?;
        let token_file = (!cfg.token_file.trim().is_empty()).then(|| PathBuf::from(cfg.token_file.trim()));
        if let Some(p) = &token_file {
            read_token(p).map_err(|e| cfg_err("token_file", e))?;
        }
        let auth_header = HeaderName::from_bytes(cfg.auth_header.as_bytes()).map_err(|e| cfg_err("auth_header", format!("{:?}: {e}", cfg.auth_header)))?;
        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| cfg_err("headers", format!("{k:?}: {e}")))?;
            let value = HeaderValue::from_str(v).map_err(|e| cfg_err("headers", format!("{k:?}: {e}")))?;
            headers.insert(name, value);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("shrike/", env!("CARGO_PKG_VERSION")));
        let ca = cfg.ca_file.trim();
        if !ca.is_empty() {
            let pem = std::fs::read(ca).map_err(|source| SinkError::Io {
                option: format!("{option}.ca_file"),
                path: PathBuf::from(ca),
                what: "cannot read".into(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| cfg_err("ca_file", format!("{ca}: {}", chain(&e))))?;
            if certs.is_empty() {
                return Err(cfg_err("ca_file", format!("{ca}: no PEM certificate in it")));
            }
            builder = builder.tls_certs_only(certs);
        }
        let client = builder.build().map_err(|e| SinkError::Client { option: option.to_string(), reason: chain(&e) })?;
        Ok(WebhookSink {
            client,
            url,
            batch: cfg.batch,
            batch_max: cfg.batch_max,
            max_in_flight: cfg.max_in_flight.max(1),
            token_file,
            auth_header,
            auth_scheme: cfg.auth_scheme.trim().to_string(),
        })
    }

    /// Most findings per attempt: one batch, or one request each for as many as may be in
    /// flight.
    pub fn batch_max(&self) -> usize {
        if self.batch {
            self.batch_max
        } else {
            self.max_in_flight
        }
    }

    async fn post(&self, body: String, key: &str) -> Result<(), PostError> {
        let mut req = self.client.post(self.url.clone()).body(body);
        let key = HeaderValue::from_str(key).map_err(|e| PostError::Permanent(format!("finding id {key:?} is not a header value: {e}")))?;
        req = req.header("Idempotency-Key", key);
        if let Some(p) = &self.token_file {
            // Read for every attempt: a rotated token is used without a restart.
            let token = read_token(p).map_err(PostError::Retry)?;
            let value = if self.auth_scheme.is_empty() { token } else { format!("{} {token}", self.auth_scheme) };
            let mut value = HeaderValue::from_str(&value).map_err(|_| PostError::Retry(format!("token file {} holds characters not allowed in a header", p.display())))?;
            value.set_sensitive(true);
            req = req.header(self.auth_header.clone(), value);
        }
        let resp = req.send().await.map_err(|e| PostError::Retry(chain(&e)))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        let text: String = text.chars().take(300).collect();
        let msg = format!("HTTP {status}: {}", text.trim());
        if matches!(status, StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNPROCESSABLE_ENTITY) {
            Err(PostError::Permanent(msg))
        } else {
            Err(PostError::Retry(msg))
        }
    }

    /// Deliver `items`: as one batch, or one request each, all at once (the caller hands out at
    /// most `max_in_flight`). A request that must be retried leaves its finding spooled, and the
    /// others' outcomes stand.
    pub async fn deliver(&self, items: &[Item]) -> Report {
        let mut report = Report::default();
        if self.batch {
            let mut body = String::with_capacity(items.iter().map(|i| i.body.len() + 1).sum::<usize>() + 2);
            body.push('[');
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    body.push(',');
                }
                body.push_str(&i.body);
            }
            body.push(']');
            let key = items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(",");
            match self.post(body, &key).await {
                Ok(()) => report.done = items.iter().map(|_| Done::Delivered).collect(),
                Err(PostError::Permanent(e)) if items.len() == 1 => report.done.push(Done::Rejected(e)),
                Err(PostError::Permanent(e)) => report.failure = Some(Failure { error: e, split: true }),
                Err(PostError::Retry(e)) => report.failure = Some(Failure { error: e, split: false }),
            }
            return report;
        }
        let outcomes = futures_util::future::join_all(items.iter().map(|i| self.post(i.body.to_string(), &i.id))).await;
        for outcome in outcomes {
            report.done.push(match outcome {
                Ok(()) => Done::Delivered,
                Err(PostError::Permanent(e)) => Done::Rejected(e),
                Err(PostError::Retry(e)) => {
                    report.failure.get_or_insert(Failure { error: e, split: false });
                    Done::Pending
                }
            });
        }
        report
    }
}
