//! `Execution: Possible Remote Command Execution Detected`: a shell or common command started
//! while its stdin or stdout is a network socket (or fed by a network relay), or under an
//! ancestor in the same container whose stdio was. The incident is rooted at the topmost such
//! process, so one attack is one finding that lists the commands it ran.

use super::{
    network::NetworkFed,
    rules::DetectionId,
    tools::ToolKind,
    Connection, Ctx, Detection, Detector,
};
use crate::event::EventBody;

/// The detector.
pub struct RemoteExec;

impl Detector for RemoteExec {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !matches!(ctx.event.body, EventBody::Exec(_)) || !ctx.in_scope(DetectionId::RemoteCommandExecution) {
            return;
        }
        if !matches!(ctx.tool, Some(ToolKind::Shell | ToolKind::CommonCommand | ToolKind::Interpreter)) {
            return;
        }
        let p = ctx.process;
        let mut root = None;
        if let Some(fed) = ctx.net.network_fed(ctx.table, p) {
            root = Some((p.key, fed));
        }
        for a in ctx.ancestors() {
            if let Some(fed) = ctx.net.network_fed(ctx.table, a) {
                root = Some((a.key, fed));
            }
        }
        let Some((root, fed)) = root else { return };
        let mut d = ctx.detection(DetectionId::RemoteCommandExecution, root, ctx.argv_text());
        if let NetworkFed::Direct { socket, .. } = &fed {
            d.connection = Connection::from_stdio(socket);
        }
        if let NetworkFed::Relay { relay } = fed {
            d.properties.push(("Network_Relay_Pid", relay.pid.into()));
            (d.connection, d.peer) = ctx.relay_evidence(relay);
        }
        out.push(d);
    }
}
