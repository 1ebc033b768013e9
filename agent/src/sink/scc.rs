//! The Security Command Center sink: `CreateFinding` through the official
//! `google-cloud-securitycenter-v2` client, one finding per call, finding id = shrike's id.
//!
//! Credentials are made at start (so a broken `GOOGLE_APPLICATION_CREDENTIALS` is refused
//! then); the client itself is built on the first attempt, because building it may ask the
//! metadata server for the universe domain, which must not hold up the agent's start.

use std::time::Duration;

use google_cloud_auth::credentials::Credentials;
use google_cloud_gax::{error::rpc::Code, retry_policy::NeverRetry};
use google_cloud_securitycenter_v2::{client::SecurityCenter, model};

use super::{
    config::SccSinkConfig,
    google,
    spool::Item,
    webhook::chain,
    Done, Failure, Report, SinkError,
};

/// See the module doc.
#[derive(Debug)]
pub(crate) struct SccSink {
    parent: String,
    endpoint: Option<String>,
    credentials: Credentials,
    timeout: Duration,
    client: Option<SecurityCenter>,
}

/// The SCC model of the finding in an envelope (or of a bare finding), with `parent` and
/// `name` set to where it is created.
pub(crate) fn to_model(json: &str, parent: &str, id: &str) -> Result<model::Finding, String> {
    let mut v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let mut f = match v.get_mut("finding") {
        Some(f) => f.take(),
        None => v,
    };
    let Some(obj) = f.as_object_mut() else { return Err("the finding is not a JSON object".into()) };
    obj.insert("parent".into(), parent.into());
    obj.insert("name".into(), format!("{parent}/findings/{id}").into());
    serde_json::from_value(f).map_err(|e| format!("does not fit the SCC v2 Finding: {e}"))
}

/// SCC finding ids: 1 to 32 letters or digits.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

impl SccSink {
    /// Check the configuration and make the credentials (no network).
    pub fn new(cfg: &SccSinkConfig, timeout: Duration) -> Result<SccSink, SinkError> {
        let parent = cfg.parent()?;
        let credentials = google::credentials(cfg.credentials, "sinks.scc.credentials")?;
        let endpoint = cfg.endpoint.trim();
        let endpoint = (!endpoint.is_empty()).then(|| endpoint.trim_end_matches('/').to_string());
        Ok(SccSink { parent, endpoint, credentials, timeout, client: None })
    }

    async fn client(&mut self) -> Result<SecurityCenter, String> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let mut b = SecurityCenter::builder().with_credentials(self.credentials.clone()).with_retry_policy(NeverRetry);
        if let Some(e) = &self.endpoint {
            b = b.with_endpoint(e.clone());
        }
        let c = google::build_client("Security Command Center", self.timeout, b.build()).await?;
        self.client = Some(c.clone());
        Ok(c)
    }

    /// Create the findings in order, stopping at the first failure.
    pub async fn deliver(&mut self, items: &[Item]) -> Report {
        let mut report = Report::default();
        let client = match self.client().await {
            Ok(c) => c,
            Err(error) => {
                report.failure = Some(Failure { error, split: false });
                return report;
            }
        };
        for i in items {
            // An update of a finding (revision 2 and later) replaces it: UpdateFinding with no
            // mask replaces every mutable field, and creates the finding if it is not there.
            let (id, revision) = super::split_key(&i.id);
            if !valid_id(id) {
                report.done.push(Done::Rejected(format!("{:?} is not a valid SCC finding id", i.id)));
                continue;
            }
            let finding = match to_model(&i.body, &self.parent, id) {
                Ok(f) => f,
                Err(e) => {
                    report.done.push(Done::Rejected(e));
                    continue;
                }
            };
            let (verb, result) = if revision > 1 {
                let call = client.update_finding().set_finding(finding).send();
                ("UpdateFinding", tokio::time::timeout(self.timeout, call).await)
            } else {
                let call = client.create_finding().set_parent(self.parent.clone()).set_finding_id(id.to_string()).set_finding(finding).send();
                ("CreateFinding", tokio::time::timeout(self.timeout, call).await)
            };
            let error = match result {
                Ok(Ok(_)) => {
                    report.done.push(Done::Delivered);
                    continue;
                }
                Err(_) => format!("{verb} {} timed out after {:?}", i.id, self.timeout),
                Ok(Err(e)) => {
                    let code = e.status().map(|s| s.code);
                    if revision == 1 && (code == Some(Code::AlreadyExists) || (code.is_none() && e.http_status_code() == Some(409))) {
                        // Created by an earlier attempt whose answer was lost: delivered.
                        report.done.push(Done::Delivered);
                        continue;
                    }
                    if code == Some(Code::InvalidArgument) {
                        report.done.push(Done::Rejected(format!("{verb}: {}", chain(&e))));
                        continue;
                    }
                    format!("{verb} {}: {}", i.id, chain(&e))
                }
            };
            report.failure = Some(Failure { error, split: false });
            break;
        }
        report
    }
}
