//! What the Google Cloud sinks (Security Command Center, Pub/Sub) share: their credentials and
//! how their clients are built.

use std::{future::Future, time::Duration};

use google_cloud_auth::credentials::Credentials;

use super::{config::GoogleCredentials, webhook::chain, SinkError};

/// Make the credentials at start (no network), so that a broken `GOOGLE_APPLICATION_CREDENTIALS`
/// is refused then; `option` names the setting in errors.
pub(crate) fn credentials(kind: GoogleCredentials, option: &str) -> Result<Credentials, SinkError> {
    match kind {
        GoogleCredentials::Anonymous => Ok(google_cloud_auth::credentials::anonymous::Builder::new().build()),
        GoogleCredentials::Adc => google_cloud_auth::credentials::Builder::default().build().map_err(|e| SinkError::Config {
            option: option.into(),
            reason: format!("Application Default Credentials: {}", chain(&e)),
        }),
    }
}

/// Await a client builder within `timeout`; `what` names the client in errors. Building may ask
/// the metadata server for the universe domain, which is why it runs on the first attempt and
/// not at start.
pub(crate) async fn build_client<C, E: std::error::Error>(
    what: &str,
    timeout: Duration,
    build: impl Future<Output = Result<C, E>>,
) -> Result<C, String> {
    match tokio::time::timeout(timeout, build).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(format!("cannot create the {what} client: {}", chain(&e))),
        Err(_) => Err(format!("creating the {what} client timed out")),
    }
}
