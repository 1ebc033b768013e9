//! The fixed expectations file `python-model/tests/cases.tsv`, read by the model tests and by
//! the trainer (which scores every case into `expected_scores.tsv`).
//!
//! One case per line: id, expected verdict (`malicious`/`benign`), kind, payload, separated by
//! tabs. Kind `file`: the payload is a path from the repository root; kind `code`: the payload
//! is the source with `\n`, `\t` and `\\` escapes. Empty lines and lines starting with `#` are
//! skipped.

use std::path::Path;

/// One case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Its id.
    pub id: String,
    /// Expected verdict.
    pub malicious: bool,
    /// The code to score.
    pub code: Vec<u8>,
}

/// Parse cases.tsv text; `file` payloads are read below `root`. The error names the line.
pub fn parse(text: &str, root: &Path) -> Result<Vec<Case>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| format!("line {}: {why}", n + 1);
        let f: Vec<&str> = line.splitn(4, '\t').collect();
        if f.len() != 4 {
            return Err(bad(format!("{line:?} does not have 4 tab-separated fields")));
        }
        let malicious = match f[1] {
            "malicious" => true,
            "benign" => false,
            v => return Err(bad(format!("verdict {v:?} is not malicious or benign"))),
        };
        let code = match f[2] {
            "file" => std::fs::read(root.join(f[3])).map_err(|e| bad(format!("{}: {e}", f[3])))?,
            "code" => unescape(f[3]).into_bytes(),
            k => return Err(bad(format!("kind {k:?} is not file or code"))),
        };
        out.push(Case { id: f[0].to_string(), malicious, code });
    }
    Ok(out)
}

/// `\n`, `\t`, `\\` escapes; any other backslash stays as it is.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_kinds_and_errors() {
        let cases = parse("# c\n\na\tbenign\tcode\tx\\n\\ty\\\\\\q\n", Path::new("/")).unwrap();
        assert_eq!(cases, [Case { id: "a".into(), malicious: false, code: b"x\n\ty\\\\q".to_vec() }]);
        assert!(parse("a\tbenign\tcode\n", Path::new("/")).unwrap_err().starts_with("line 1:"));
        assert!(parse("\na\tmaybe\tcode\tx\n", Path::new("/")).unwrap_err().starts_with("line 2:"));
        assert!(parse("a\tbenign\tblob\tx\n", Path::new("/")).is_err());
    }
}
