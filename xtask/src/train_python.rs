//! Placeholder for the classifier trainer.

use std::path::Path;

/// Train and evaluate; write the model and the report.
pub fn run(_root: &Path, _malregistry: &Path, _model: &Path, _report: &Path) -> anyhow::Result<()> {
    anyhow::bail!("not written yet")
}
