//! `Defense Evasion: Launch Code Compiler Tool In Container`: a compiler run inside a container
//! (never on the host). A compiler's own helpers (cc1, as, collect2 under gcc) join the
//! incident of the outermost compiler.

use super::{
    rules::Severity,
    spec::{no_incident_properties, put, Mitre, Props, Render, Scope, Spec},
    tools::{identify, is_compiler_invocation, ToolKind},
    Ctx, Detection, DetectionId, Detector, Evidence,
};
use crate::event::EventBody;

/// The definition.
pub static SPEC: Spec = Spec {
    category: "Defense Evasion: Launch Code Compiler Tool In Container",
    module: "LAUNCH_CODE_COMPILER_TOOL_IN_CONTAINER",
    severity: Severity::Low,
    mitre: Mitre {
        tactic: "DEFENSE_EVASION",
        techniques: &["COMPILE_AFTER_DELIVERY", "OBFUSCATED_FILES_OR_INFO"],
        additional_tactics: &[],
        additional_techniques: &[],
    },
    description: "A code compiler ran inside a container. Attackers compile tools on the target to evade detection of known binaries.",
    next_steps: "If this workload is not expected to build code, find what was compiled and from where it came.",
    scope: Scope::ContainerOnly,
    detector: Some(|| Box::new(Compiler)),
    render_incident: no_incident_properties,
};

/// Which compiler ran.
#[derive(Clone, Debug, PartialEq)]
pub struct CompilerEvidence {
    /// Its name (without version suffixes or target prefixes).
    pub compiler: String,
}

impl Render for CompilerEvidence {
    fn render(&self, props: &mut Props) {
        put(props, "Compiler", self.compiler.as_str());
    }
}

/// The detector.
pub struct Compiler;

impl Detector for Compiler {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !matches!(ctx.event.body, EventBody::Exec(_)) || !ctx.in_scope(DetectionId::CompilerInContainer) || ctx.tool != Some(ToolKind::Compiler) {
            return;
        }
        let p = ctx.process;
        let id = identify(&p.exe, &p.argv, ctx.lists);
        if !is_compiler_invocation(&id, &p.argv) {
            return;
        }
        let mut root = p.key;
        for a in ctx.ancestors() {
            let aid = identify(&a.exe, &a.argv, ctx.lists);
            if aid.kind == ToolKind::Compiler && is_compiler_invocation(&aid, &a.argv) {
                root = a.key;
            }
        }
        let mut d = ctx.detection(DetectionId::CompilerInContainer, root, ctx.argv_text());
        d.evidence = Evidence::Compiler(CompilerEvidence { compiler: String::from_utf8_lossy(id.name).into_owned() });
        out.push(d);
    }
}
