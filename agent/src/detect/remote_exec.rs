//! `Execution: Possible Remote Command Execution Detected`: a shell or interpreter started
//! while its stdin or stdout is a network socket (or fed by a network relay), or a shell,
//! interpreter or common command started under an ancestor in the same container whose stdio
//! was. A common command that is itself the one on the network (`cat` of an HTTP reply) runs
//! nothing it received and is not reported. The incident is rooted at the topmost such
//! process, so one attack is one finding that lists the commands it ran.

use super::{
    network::{NetworkFed, Relayed},
    rules::Severity,
    spec::{put, Mitre, Props, Scope, Spec},
    tools::ToolKind,
    Connection, Ctx, Detection, DetectionId, Detector, Evidence,
};
use crate::event::EventBody;

/// The definition.
pub static SPEC: Spec = Spec {
    category: "Execution: Possible Remote Command Execution Detected",
    module: "POSSIBLE_REMOTE_COMMAND_EXECUTION_DETECTED",
    severity: Severity::Medium,
    mitre: Mitre {
        tactic: "EXECUTION",
        techniques: &["UNIX_SHELL", "COMMAND_AND_SCRIPTING_INTERPRETER"],
        additional_tactics: &[],
        additional_techniques: &[],
    },
    description: "Commands were started through a network socket: a process whose stdin or stdout is a network connection, or whose ancestor's was, ran shell commands.",
    next_steps: "Check the commands listed and the remote peer; find the entry point (exploited service) in the process ancestry.",
    scope: Scope::HostToo,
    detector: Some(|| Box::new(RemoteExec)),
    render_incident,
};

/// The commands the incident ran, in order.
fn render_incident(first: &Detection, more: &[Detection], props: &mut Props) {
    let commands: Vec<&str> = std::iter::once(first).chain(more).map(|d| d.summary.as_str()).collect();
    put(props, "Commands", commands);
}

/// The detector.
pub struct RemoteExec;

impl Detector for RemoteExec {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !matches!(ctx.event.body, EventBody::Exec(_)) || !ctx.in_scope(DetectionId::RemoteCommandExecution) {
            return;
        }
        // Shells a netcat drives through pipes, found by the exec that completed the loop.
        ctx.wired_shell_detections(DetectionId::RemoteCommandExecution, out);
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
        // A command that itself reads or writes the network and runs nothing it received (`cat`
        // of an HTTP reply from /dev/tcp into a file, the `cat` of an echo service) is not
        // remote command execution: received bytes must reach a shell, an interpreter or a
        // program started under one.
        if root == p.key && ctx.tool == Some(ToolKind::CommonCommand) {
            return;
        }
        let mut d = ctx.detection(DetectionId::RemoteCommandExecution, root, ctx.argv_text());
        match fed {
            NetworkFed::Direct { socket, .. } => d.connection = Connection::from_stdio(&socket),
            NetworkFed::Relay { relay } => {
                d.evidence = Evidence::Relayed(Relayed { relay });
                (d.connection, d.peer) = ctx.relay_evidence(relay);
            }
        }
        out.push(d);
    }
}
