//! Every finding shrike writes must parse into the official Security Command Center v2 model
//! without a field or enum value the real API does not have.

use google_cloud_securitycenter_v2::model::{Finding, Resource};
use serde_json::Value;

/// Panics when the `{"finding", "resource"}` envelope does not fit the official model.
pub fn assert_valid_finding(v: &Value) {
    let obj = v.as_object().expect("a finding line is a JSON object");
    let keys: Vec<&String> = obj.keys().collect();
    assert_eq!(keys, ["finding", "resource"], "envelope keys");
    let f: Finding = serde_json::from_value(v["finding"].clone())
        .unwrap_or_else(|e| panic!("finding does not parse into the SCC v2 model: {e}\n{v}"));
    let dbg = format!("{f:?}");
    assert!(!dbg.contains("_unknown_fields"), "finding has fields the SCC v2 API does not have:\n{dbg}");
    assert!(!dbg.contains("UnknownValue"), "finding has enum values the SCC v2 API does not have:\n{dbg}");
    assert!(!f.category.is_empty() && f.event_time.is_some());
    let r: Resource = serde_json::from_value(v["resource"].clone())
        .unwrap_or_else(|e| panic!("resource does not parse into the SCC v2 model: {e}\n{v}"));
    let dbg = format!("{r:?}");
    assert!(!dbg.contains("_unknown_fields") && !dbg.contains("UnknownValue"), "resource:\n{dbg}");
    // Round trip: what the model serializes is what we wrote (no field lost or renamed).
    let back = serde_json::to_value(&f).expect("serialize");
    assert_json_subset(&v["finding"], &back, "finding");
}

fn assert_json_subset(ours: &Value, model: &Value, path: &str) {
    match (ours, model) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                // proto3 JSON leaves default values out.
                let is_default = matches!(va, Value::String(s) if s.is_empty() || s == "0")
                    || va == &Value::from(0)
                    || va == &Value::Bool(false);
                let Some(vb) = b.get(k) else {
                    assert!(is_default, "{path}.{k} was dropped by the model");
                    continue;
                };
                // sourceProperties is a free-form map whose values the model keeps as they are.
                if path.ends_with("sourceProperties") {
                    continue;
                }
                assert_json_subset(va, vb, &format!("{path}.{k}"));
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path} length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_json_subset(x, y, &format!("{path}[{i}]"));
            }
        }
        // The model writes enums as their numbers; the name was checked above (no UnknownValue).
        (Value::String(_), Value::Number(_)) => {}
        // Timestamps: the same instant, however many fraction digits.
        (Value::String(a), Value::String(b)) if path.ends_with("Time") => {
            assert_eq!(same_instant(a), same_instant(b), "{path}");
        }
        (a, b) => assert_eq!(a, b, "{path}"),
    }
}

/// An RFC 3339 UTC timestamp without its `Z` and without trailing zeros of its fraction, so
/// `…:30Z`, `…:30.000Z` and `…:30.000000000Z` compare equal; the seconds' own digits are kept.
fn same_instant(t: &str) -> String {
    let t = t.strip_suffix('Z').unwrap_or(t);
    match t.split_once('.') {
        Some((secs, frac)) if frac.trim_end_matches('0').is_empty() => secs.to_string(),
        Some((secs, frac)) => format!("{secs}.{}", frac.trim_end_matches('0')),
        None => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::same_instant;

    #[test]
    fn timestamps_compare_by_instant_not_by_digits() {
        assert_eq!(same_instant("2026-12-06T17:29:30.000Z"), same_instant("2026-12-06T17:29:30Z"));
        assert_eq!(same_instant("2026-12-06T17:29:30.120Z"), same_instant("2026-12-06T17:29:30.12Z"));
        assert_ne!(same_instant("2026-12-06T17:29:30Z"), same_instant("2026-12-06T17:29:03Z"));
        assert_ne!(same_instant("2026-12-06T17:29:30.5Z"), same_instant("2026-12-06T17:29:30Z"));
    }
}
