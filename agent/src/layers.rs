//! The crate's imports run one way (see the crate doc): no module of a layer imports a module of
//! a later layer, and only the sensor uses aya. Read from the sources, as a reviewer would grep.

use std::{collections::BTreeSet, path::Path};

/// The pipeline's layers, in the order data flows; `event` (the types they share) and the
/// neutral helpers come before all of them.
const LAYERS: [&[&str]; 7] =
    [&["event", "metrics", "toml_file"], &["sensor"], &["process"], &["container"], &["detect"], &["finding"], &["sink"]];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level modules a source file names through `crate::` (also inside `use crate::{…}`).
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Names at the group's top level, up to its closing brace.
            let mut depth = 0;
            let mut name = String::new();
            let mut expect_name = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => expect_name = true,
                    c if depth == 0 && expect_name && (c.is_alphanumeric() || c == '_') => name.push(c),
                    c if depth == 0 && expect_name && !c.is_whitespace() && !name.is_empty() => {
                        out.insert(std::mem::take(&mut name));
                        expect_name = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                out.insert(name);
            }
        } else {
            out.insert(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn imports_run_one_way_and_only_the_sensor_uses_aya() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let module = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if module == "layers" {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        if module != "sensor" && (text.contains("use aya") || text.contains("aya::")) {
            wrong.push(format!("{}: uses aya", rel.display()));
        }
        let Some(mine) = layer(&module) else { continue };
        for m in imports(&text) {
            if layer(&m).is_some_and(|theirs| theirs > mine) || (layer(&m).is_none() && m != module) {
                wrong.push(format!("{}: {module} imports {m}", rel.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn imports_are_read_from_groups_too() {
    let text = "use crate::{\n    container::{ContainerRef, X},\n    event::Event,\n};\nlet x = crate::sink::y();";
    assert_eq!(imports(text).into_iter().collect::<Vec<_>>(), ["container", "event", "sink"]);
}
