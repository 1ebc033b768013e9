//! `Reverse Shell`: a shell or interpreter whose stdin is bound to a remote socket, because it
//! was started that way, redirected its own stdin (`dup2(sock, 0)`, bash's `0>&1` after
//! `>& /dev/tcp/...`), or is fed by a network relay (socat EXEC, netcat through pipes).

use super::{
    network::{NetworkFed, RelayKind, Relayed},
    rules::Severity,
    spec::{put, Mitre, Props, Scope, Spec},
    tools::ToolKind,
    Connection, Ctx, Detection, DetectionId, Detector, Evidence,
};
use crate::event::EventBody;

/// The definition.
pub static SPEC: Spec = Spec {
    category: "Reverse Shell",
    module: "REVERSE_SHELL",
    severity: Severity::Critical,
    mitre: Mitre {
        tactic: "EXECUTION",
        techniques: &["UNIX_SHELL", "COMMAND_AND_SCRIPTING_INTERPRETER"],
        additional_tactics: &["COMMAND_AND_CONTROL"],
        additional_techniques: &[],
    },
    description: "A shell or interpreter has its standard input bound to a remote socket.",
    next_steps: "Isolate the workload; investigate the remote address and the process ancestry.",
    scope: Scope::HostToo,
    detector: Some(|| Box::new(ReverseShell)),
    render_incident,
};

/// SCC's names for the two ends of the socket on the shell's stdin.
fn render_incident(first: &Detection, more: &[Detection], props: &mut Props) {
    let Some(c) = first.connection.or_else(|| more.iter().find_map(|m| m.connection)) else { return };
    put(props, "Reverse_Shell_Stdin_Redirection_Src_Ip", c.local.ip().to_string());
    put(props, "Reverse_Shell_Stdin_Redirection_Src_Port", c.local.port());
    put(props, "Reverse_Shell_Stdin_Redirection_Dst_Ip", c.remote.ip().to_string());
    put(props, "Reverse_Shell_Stdin_Redirection_Dst_Port", c.remote.port());
}

/// The detector.
pub struct ReverseShell;

impl Detector for ReverseShell {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !ctx.in_scope(DetectionId::ReverseShell) {
            return;
        }
        // Shells a netcat drives through pipes, found by the exec that completed the loop.
        ctx.wired_shell_detections(DetectionId::ReverseShell, |w| w.kind == RelayKind::Netcat, out);
        let p = ctx.process;
        let mut peer = None;
        let mut evidence = Evidence::None;
        let (connection, how) = match &ctx.event.body {
            EventBody::Exec(_) => {
                if !matches!(ctx.tool, Some(ToolKind::Shell | ToolKind::Interpreter)) {
                    return;
                }
                match ctx.net.network_fed(ctx.table, p, ctx.lists) {
                    Some(NetworkFed::Direct { fd: 0, socket }) => (Connection::from_stdio(&socket), "started with stdin on a socket".to_string()),
                    Some(NetworkFed::Relay { relay }) => {
                        let (connection, named) = ctx.relay_evidence(relay);
                        peer = named;
                        evidence = Evidence::Relayed(Relayed { relay });
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
            if ctx.net.network_fed(ctx.table, a, ctx.lists).is_some() {
                root = a.key;
            }
        }
        let mut d = ctx.detection(DetectionId::ReverseShell, root, format!("{} {how}", p.comm));
        d.connection = connection;
        d.peer = peer;
        d.evidence = evidence;
        out.push(d);
    }
}
