//! The agent's own log, on stderr (stdout carries findings only): human-readable text, or one
//! JSON object per line for cluster log pipelines, with the fields Google Cloud Logging reads
//! from a container's output (`severity`, `message`, `time`) and the event's own fields beside
//! them.

use std::fmt;

use serde_json::{Map, Value};
use tracing::{field::Field, Event, Level, Subscriber};
use tracing_subscriber::{
    fmt::{format::Writer, FmtContext, FormatEvent, FormatFields},
    registry::LookupSpan,
};

/// How log lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-12-02T10:00:00.000000Z  INFO shrike: message key=value`.
    #[default]
    Text,
    /// `{"time":"…","severity":"INFO","message":"…","target":"…",…}`.
    Json,
}

/// The Cloud Logging severity of a level.
pub fn severity(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARNING",
        Level::INFO => "INFO",
        Level::DEBUG | Level::TRACE => "DEBUG",
    }
}

/// Formats events as JSON lines (see the module doc).
#[derive(Debug, Default)]
pub struct JsonLines;

struct Fields(Map<String, Value>);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_string(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), Value::String(value.to_string()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().to_string(), Value::String(value.to_string()));
    }
}

/// One log line as JSON.
pub fn json_line(level: &Level, target: &str, unix_ns: i128, record: impl FnOnce(&mut dyn tracing::field::Visit)) -> String {
    let mut fields = Fields(Map::new());
    record(&mut fields);
    let mut out = Map::new();
    out.insert("time".into(), crate::finding::rfc3339(unix_ns).into());
    out.insert("severity".into(), severity(level).into());
    out.insert("message".into(), fields.0.remove("message").unwrap_or_else(|| Value::String(String::new())));
    out.insert("target".into(), target.into());
    for (k, v) in fields.0 {
        // A field may not replace the envelope's keys.
        let k = if out.contains_key(&k) { format!("field_{k}") } else { k };
        out.insert(k, v);
    }
    Value::Object(out).to_string()
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        let line = json_line(meta.level(), meta.target(), crate::finding::unix_now_ns(), |v| event.record(v));
        writeln!(writer, "{line}")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_cloud_logging_fields() {
        let buf = Buf::default();
        let out = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonLines)
            .with_max_level(Level::DEBUG)
            .with_writer(move || out.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(sink = "siem", retry_in_ms = 500u64, ok = false, "delivery failed; \"quoted\"");
            tracing::debug!(severity = "spoof", "x");
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{text}");
        let v = &lines[0];
        assert_eq!(v["severity"], "WARNING");
        assert_eq!(v["message"], "delivery failed; \"quoted\"");
        assert_eq!(v["sink"], "siem");
        assert_eq!(v["retry_in_ms"], 500);
        assert_eq!(v["ok"], false);
        assert!(v["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(lines[1]["severity"], "DEBUG", "a field cannot replace the severity");
        assert_eq!(lines[1]["field_severity"], "spoof");
        assert_eq!(severity(&Level::TRACE), "DEBUG");
        assert_eq!(severity(&Level::ERROR), "ERROR");
    }
}
