//! `Reverse Shell`: a shell or interpreter whose stdin is bound to a remote socket, because it
//! was started that way, redirected its own stdin (`dup2(sock, 0)`, bash's `0>&1` after
//! `>& /dev/tcp/...`), or is fed by a network relay (socat EXEC, netcat through pipes).

use super::{
    network::NetworkFed,
    rules::DetectionId,
    tools::ToolKind,
    Connection, Ctx, Detection, Detector,
};
use crate::event::EventBody;

/// The detector.
pub struct ReverseShell;

impl Detector for ReverseShell {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !ctx.in_scope(DetectionId::ReverseShell) {
            return;
        }
        let p = ctx.process;
        let mut peer = None;
        let (connection, how) = match &ctx.event.body {
            EventBody::Exec(_) => {
                if !matches!(ctx.tool, Some(ToolKind::Shell | ToolKind::Interpreter)) {
                    return;
                }
                match ctx.net.network_fed(ctx.table, p) {
                    Some(NetworkFed::Direct { fd: 0, socket }) => (Connection::from_stdio(&socket), "started with stdin on a socket".to_string()),
                    Some(NetworkFed::Relay { relay }) => {
                        let (connection, named) = ctx.relay_evidence(relay);
                        peer = named;
                        (connection, format!("stdin relayed from the network by pid {}", relay.pid))
                    }
                    _ => return,
                }
            }
            EventBody::StdioRedirect(r) if r.fd == 0 && r.target.remote().is_some() => {
                if !matches!(ctx.tool, Some(ToolKind::Shell | ToolKind::Interpreter)) {
                    return;
                }
                (Connection::from_stdio(&r.target), format!("has a socket on its stdin ({})", r.via.describe()))
            }
            _ => return,
        };
        // One incident per attack: shells that a reverse shell starts (with the same socket
        // inherited) belong to the topmost network-fed process of the chain.
        let mut root = p.key;
        for a in ctx.ancestors() {
            if ctx.net.network_fed(ctx.table, a).is_some() {
                root = a.key;
            }
        }
        let mut d = ctx.detection(DetectionId::ReverseShell, root, format!("{} {how}", p.comm));
        d.connection = connection;
        d.peer = peer;
        out.push(d);
    }
}
