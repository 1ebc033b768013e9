//! `Execution: Possible Remote Command Execution Detected`: a shell or interpreter started
//! while its stdin or stdout is a network socket (or fed by a network relay), or a shell,
//! interpreter or common command started under an ancestor in the same container whose stdio
//! was. A common command that is itself the one on the network (`cat` of an HTTP reply) runs
//! nothing it received and is not reported. The incident is rooted at the topmost such
//! process, so one attack is one finding that lists the commands it ran.
//!
//! Shells fed through a relay count too: a shell that reads its program from a pipe or FIFO
//! wired to a network client (telnet, `openssl s_client`, `curl telnet://`, socat without
//! EXEC, a `cat` of `/dev/tcp`), and commands that a shell or interpreter running inline code
//! starts for a connection it holds itself (a popen or coprocess loop; rooted at that holder).

use super::{
    network::{NetworkFed, Relayed},
    rules::Severity,
    spec::{put, Mitre, Props, Scope, Spec},
    tools::ToolKind,
    Connection, Ctx, Detection, DetectionId, Detector, Evidence,
};
use crate::{
    event::{EventBody, ProcessKey},
    process::Process,
};

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
        if !ctx.in_scope(DetectionId::RemoteCommandExecution) {
            return;
        }
        // Shells a relay drives through pipes, found by the exec or connection that completed
        // the loop; in the incident of whatever feeds the shell from highest up (a shell that
        // holds the connection and started the pipeline).
        let before = out.len();
        ctx.wired_shell_detections(DetectionId::RemoteCommandExecution, |_| true, out);
        for d in &mut out[before..] {
            if let Some((root, _)) = ctx.table.get(d.process).and_then(|shell| incident_root(ctx, shell)) {
                d.root = root;
            }
        }
        if !matches!(ctx.event.body, EventBody::Exec(_)) {
            return;
        }
        if !matches!(ctx.tool, Some(ToolKind::Shell | ToolKind::CommonCommand | ToolKind::Interpreter)) {
            return;
        }
        let p = ctx.process;
        let root = incident_root(ctx, p);
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
            Fed::Net(NetworkFed::Direct { socket, .. }) => d.connection = Connection::from_stdio(&socket),
            Fed::Net(NetworkFed::Relay { relay } | NetworkFed::Piped { relay }) => {
                d.evidence = Evidence::Relayed(Relayed { relay });
                (d.connection, d.peer) = ctx.relay_evidence(relay);
            }
            Fed::Holder(c) => {
                d.evidence = Evidence::Relayed(Relayed { relay: root });
                d.connection = Connection::from_stdio(&c.socket);
            }
        }
        out.push(d);
    }
}

/// The process whose incident a command `p` belongs to: of `p` and its ancestors in its
/// container, the topmost one fed by the network, or that holds a connection and started the
/// one below it for it (see [`super::network::NetState::holder`]). Both are looked at on every
/// level, so the root does not depend on which of them the events showed first.
fn incident_root(ctx: &Ctx<'_>, p: &Process) -> Option<(ProcessKey, Fed)> {
    let chain: Vec<&Process> = std::iter::once(p).chain(ctx.ancestors_of(p)).collect();
    let mut root = None;
    for (i, a) in chain.iter().enumerate() {
        // An ancestor counts only with its stdin on the socket: a shell that once sent
        // something (`echo ok > /dev/tcp/h/p`, a readiness check) had its stdout on a socket
        // for that moment, and what it runs later received nothing.
        let fed = ctx.net.network_fed(ctx.table, a, ctx.lists).filter(|f| i == 0 || !matches!(f, NetworkFed::Direct { fd, .. } if *fd != 0));
        if let Some(fed) = fed {
            root = Some((a.key, Fed::Net(fed)));
        }
        // A holder inside the chain only (the topmost one's parent may be outside).
        if let Some((holder, c)) = ctx.net.holder(ctx.table, a, ctx.lists) {
            if chain.get(i + 1).is_some_and(|h| h.key == holder) {
                root = Some((holder, Fed::Holder(c)));
            }
        }
    }
    root
}

/// How the incident's root gets its commands from the network.
enum Fed {
    /// Its stdio, or a relay feeding it.
    Net(NetworkFed),
    /// It holds a connection and runs commands for it (see [`super::network::NetState::holder`]).
    Holder(crate::process::table::Connection),
}
