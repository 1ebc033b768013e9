//! Pure (no root, no kernel): every detection on recorded event streams of real attacks and
//! benign look-alikes (tests/fixtures/attacks/*.jsonl, recorded by the privileged attack test
//! with SHRIKE_WRITE_FIXTURES=1), replayed through the same pipeline as live events. Each must
//! raise exactly the categories in its `.expected` file.

use std::{collections::BTreeSet, path::Path, process::Command};

use serde_json::Value;

#[test]
fn recorded_attacks_and_look_alikes_replay_to_their_categories() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/attacks");
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).expect("fixtures directory").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries.iter().filter(|p| p.extension().is_some_and(|e| e == "jsonl")) {
        let expected_file = path.with_extension("expected");
        let want: BTreeSet<String> =
            std::fs::read_to_string(&expected_file).expect("expected file").lines().filter(|l| !l.is_empty()).map(str::to_string).collect();
        let out = Command::new(env!("CARGO_BIN_EXE_shrike")).arg("replay").arg(path).output().unwrap();
        assert!(out.status.success(), "{}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
        let got: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["finding"]["category"].as_str().unwrap().to_string())
            .collect();
        if got != want {
            failures.push(format!("{}: expected {want:?}, got {got:?}", path.display()));
        }
        cases += 1;
    }
    assert!(cases >= 16, "all recorded cases are present ({cases})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
