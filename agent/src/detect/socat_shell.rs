//! `Execution: Socat Reverse Shell Detected`: socat joining an EXEC/SYSTEM/SHELL address to a
//! network address, and the program it starts (the shell joins the same incident).

use super::{
    network::RelayKind,
    rules::DetectionId,
    socat,
    tools::ToolKind,
    Ctx, Detection, Detector,
};
use crate::event::EventBody;

/// The detector.
pub struct SocatShell;

impl Detector for SocatShell {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !matches!(ctx.event.body, EventBody::Exec(_)) || !ctx.in_scope(DetectionId::SocatReverseShell) {
            return;
        }
        let p = ctx.process;
        match ctx.tool {
            Some(ToolKind::Socat) => {
                let cmd = socat::parse(&p.argv[ctx.args_from.min(p.argv.len())..]);
                if let Some((exec, net)) = socat::reverse_shell(&cmd) {
                    let mut d = ctx.detection(
                        DetectionId::SocatReverseShell,
                        p.key,
                        format!("socat joins {} to {}", exec.raw, net.raw),
                    );
                    d.properties.push(("Socat_Exec_Address", exec.raw.clone().into()));
                    d.properties.push(("Socat_Network_Address", net.raw.clone().into()));
                    if let Some(t) = &net.target {
                        d.properties.push(("Socat_Peer", t.clone().into()));
                    }
                    d.peer = net.peer();
                    out.push(d);
                }
            }
            // The program socat started for its peer.
            _ => {
                let socat_parent = p.parent.filter(|k| {
                    ctx.net.relay(k) == Some(RelayKind::Exec) && ctx.net.relay_tool(k) == Some(ToolKind::Socat)
                });
                if let Some(parent) = socat_parent {
                    let mut d = ctx.detection(
                        DetectionId::SocatReverseShell,
                        parent,
                        format!("socat (pid {}) started {}", parent.pid, ctx.argv_text()),
                    );
                    d.properties.push(("Socat_Child_Pid", p.key.pid.into()));
                    out.push(d);
                }
            }
        }
    }
}
