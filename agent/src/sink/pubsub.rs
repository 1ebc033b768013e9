//! The Pub/Sub sink: publishes each finding as the `NotificationMessage` that Security Command
//! Center's own notification export publishes, through the official `google-cloud-pubsub`
//! client, so that a subscriber (a SIEM's SCC connector, a Cloud Function) cannot tell shrike's
//! messages from SCC's.
//!
//! The message data is `{"notificationConfigName":"…",` followed by the finding's envelope
//! (`"finding":…,"resource":…}`) byte for byte as the other sinks write it. Credentials are made
//! at start; the client is built on the first attempt and built again after a failure, so a
//! restarted endpoint is reached anew.

use std::{collections::BTreeMap, time::Duration};

use google_cloud_auth::credentials::Credentials;
use google_cloud_gax::{error::rpc::Code, retry_policy::NeverRetry};
use google_cloud_pubsub::{client::Publisher, error::PublishError, model::Message};
use serde::Deserialize;

use super::{
    config::{GoogleCredentials, PubSubSinkConfig},
    google,
    spool::Item,
    webhook::chain,
    Done, Failure, Report, SinkError,
};

/// See the module doc.
#[derive(Debug)]
pub(crate) struct PubSubSink {
    topic: String,
    prefix: String,
    endpoint: Option<String>,
    credentials: Credentials,
    timeout: Duration,
    batch_max: usize,
    client: Option<Publisher>,
}

/// What the attributes are taken from.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    finding: FindingHead<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FindingHead<'a> {
    #[serde(default, borrow)]
    category: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    severity: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    resource_name: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    event_time: std::borrow::Cow<'a, str>,
}

/// The `NotificationMessage` of a spooled envelope, and its attributes.
pub(crate) fn message(prefix: &str, id: &str, envelope: &str) -> Result<(String, BTreeMap<&'static str, String>), String> {
    let head: Envelope<'_> = serde_json::from_str(envelope).map_err(|e| format!("not a finding envelope: {e}"))?;
    let Some(rest) = envelope.strip_prefix('{') else { return Err("not a JSON object".into()) };
    let mut data = String::with_capacity(prefix.len() + rest.len());
    data.push_str(prefix);
    data.push_str(rest);
    let f = head.finding;
    let attributes = BTreeMap::from([
        ("findingId", super::split_key(id).0.to_string()),
        ("category", f.category.into_owned()),
        ("severity", f.severity.into_owned()),
        ("resourceName", f.resource_name.into_owned()),
        ("eventTime", f.event_time.into_owned()),
    ]);
    Ok((data, attributes))
}

impl PubSubSink {
    /// Check the configuration and make the credentials (no network).
    pub fn new(cfg: &PubSubSinkConfig, timeout: Duration) -> Result<PubSubSink, SinkError> {
        let (endpoint, emulator) = cfg.resolved_endpoint();
        // An emulator named by PUBSUB_EMULATOR_HOST takes no credentials.
        let kind = if emulator { GoogleCredentials::Anonymous } else { cfg.credentials };
        let credentials = google::credentials(kind, "sinks.pubsub.credentials")?;
        let name = serde_json::to_string(cfg.notification_config_name.trim()).map_err(|e| SinkError::Config {
            option: "sinks.pubsub.notification_config_name".into(),
            reason: e.to_string(),
        })?;
        Ok(PubSubSink {
            topic: cfg.topic.trim().to_string(),
            prefix: format!("{{\"notificationConfigName\":{name},"),
            endpoint,
            credentials,
            timeout,
            batch_max: cfg.batch_max,
            client: None,
        })
    }

    /// Most findings per attempt.
    pub fn batch_max(&self) -> usize {
        self.batch_max
    }

    async fn client(&mut self) -> Result<Publisher, String> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        let mut b = Publisher::builder(self.topic.clone())
            .with_credentials(self.credentials.clone())
            .with_retry_policy(NeverRetry)
            // Every message of an attempt goes in one Publish call (flushed below).
            .set_message_count_threshold(self.batch_max as u32)
            .set_delay_threshold(Duration::from_millis(10));
        if let Some(e) = &self.endpoint {
            b = b.with_endpoint(e.clone());
        }
        let c = google::build_client("Pub/Sub", self.timeout, b.build()).await?;
        self.client = Some(c.clone());
        Ok(c)
    }

    /// Publish the findings; those before the first one that failed are settled.
    pub async fn deliver(&mut self, items: &[Item]) -> Report {
        let mut report = Report::default();
        let client = match self.client().await {
            Ok(c) => c,
            Err(error) => {
                report.failure = Some(Failure { error, split: false });
                return report;
            }
        };
        // Findings that cannot become a message are settled as rejected in place.
        let mut pending = Vec::with_capacity(items.len());
        for i in items {
            match message(&self.prefix, &i.id, &i.body) {
                Ok((data, attributes)) => {
                    let msg = Message::new().set_data(data).set_attributes(attributes);
                    pending.push(Ok(client.publish(msg)));
                }
                Err(e) => pending.push(Err(e)),
            }
        }
        client.flush().await;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let publishing = pending.iter().filter(|p| p.is_ok()).count();
        for (item, p) in items.iter().zip(pending) {
            let fut = match p {
                Err(e) => {
                    report.done.push(Done::Rejected(e));
                    continue;
                }
                Ok(f) => f,
            };
            let error = match tokio::time::timeout_at(deadline, fut).await {
                Ok(Ok(_message_id)) => {
                    report.done.push(Done::Delivered);
                    continue;
                }
                Err(_) => format!("Publish {} timed out after {:?}", item.id, self.timeout),
                Ok(Err(PublishError::Rpc(e))) if e.status().map(|s| s.code) == Some(Code::InvalidArgument) => {
                    if publishing > 1 {
                        // One Publish call for all: find the bad one by sending them singly.
                        report.failure = Some(Failure { error: format!("Publish: {}", chain(&*e)), split: true });
                        break;
                    }
                    report.done.push(Done::Rejected(format!("Publish: {}", chain(&*e))));
                    continue;
                }
                Ok(Err(e)) => format!("Publish {}: {}", item.id, chain(&e)),
            };
            // Start over with a new client next time (the endpoint may have restarted).
            self.client = None;
            report.failure = Some(Failure { error, split: false });
            break;
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_message_keeps_the_finding_bytes() {
        let env = r#"{"finding":{"name":"n","category":"Reverse Shell","severity":"CRITICAL","resourceName":"//r","eventTime":"2026-01-01T00:00:00.000Z"},"resource":{"name":"//r"}}"#;
        let (data, attrs) = message("{\"notificationConfigName\":\"organizations/0/notificationConfigs/x\",", "abc", env).unwrap();
        assert_eq!(data, format!("{{\"notificationConfigName\":\"organizations/0/notificationConfigs/x\",{}", &env[1..]));
        let v: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(v["finding"]["category"], "Reverse Shell");
        assert_eq!(attrs["findingId"], "abc");
        assert_eq!(attrs["severity"], "CRITICAL");
        assert_eq!(attrs["resourceName"], "//r");
        assert!(message("p", "x", "[1]").is_err());
    }
}
