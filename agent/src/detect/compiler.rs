//! `Defense Evasion: Launch Code Compiler Tool In Container`: a compiler run inside a container
//! (never on the host). A compiler's own helpers (cc1, as, collect2 under gcc) join the
//! incident of the outermost compiler.

use super::{
    rules::DetectionId,
    tools::{identify, is_compiler_invocation, ToolKind},
    Ctx, Detection, Detector,
};
use crate::event::EventBody;

/// The detector.
pub struct Compiler;

impl Detector for Compiler {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !matches!(ctx.event.body, EventBody::Exec(_))
            || ctx.container.is_none()
            || !ctx.in_scope(DetectionId::CompilerInContainer)
            || ctx.tool != Some(ToolKind::Compiler)
        {
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
        d.properties.push(("Compiler", String::from_utf8_lossy(id.name).into_owned().into()));
        out.push(d);
    }
}
