//! `Execution: Socat Reverse Shell Detected`: socat joining an EXEC/SYSTEM/SHELL address to a
//! network address, and the program it starts (the shell joins the same incident).

use super::{
    network::RelayKind,
    rules::Severity,
    spec::{no_incident_properties, put, Mitre, Props, Render, Scope, Spec},
    tools::{socat, ToolKind},
    Ctx, Detection, DetectionId, Detector, Evidence, ToolCommand,
};
use crate::event::EventBody;

/// The definition.
pub static SPEC: Spec = Spec {
    category: "Execution: Socat Reverse Shell Detected",
    module: "SOCAT_REVERSE_SHELL_DETECTED",
    severity: Severity::Medium,
    mitre: Mitre {
        tactic: "EXECUTION",
        techniques: &["UNIX_SHELL", "COMMAND_AND_SCRIPTING_INTERPRETER"],
        additional_tactics: &["COMMAND_AND_CONTROL"],
        additional_techniques: &[],
    },
    description: "socat joined a network connection to a program it started: a reverse or bind shell.",
    next_steps: "Review the pod; check the socat peer address and what the started program ran.",
    scope: Scope::HostToo,
    detector: Some(|| Box::new(SocatShell)),
    render_incident: no_incident_properties,
};

/// What socat did.
#[derive(Clone, Debug, PartialEq)]
pub enum SocatEvidence {
    /// It joins a program to the network.
    Joins {
        /// The EXEC/SYSTEM/SHELL address, as written.
        exec: String,
        /// The network address, as written.
        network: String,
        /// The network address's target (`host:port`).
        peer: Option<String>,
    },
    /// It started this program for its peer.
    Started {
        /// The program's pid.
        child_pid: u32,
    },
    /// It feeds this shell through pipes or a FIFO (socat without EXEC: `sh -i <f 2>&1 |
    /// socat - TCP:h:p >f`).
    WiredShell {
        /// The shell's pid.
        shell_pid: u32,
    },
}

impl Render for SocatEvidence {
    fn render(&self, props: &mut Props) {
        match self {
            SocatEvidence::Joins { exec, network, peer } => {
                put(props, "Socat_Exec_Address", exec.as_str());
                put(props, "Socat_Network_Address", network.as_str());
                if let Some(p) = peer {
                    put(props, "Socat_Peer", p.as_str());
                }
            }
            SocatEvidence::Started { child_pid } => put(props, "Socat_Child_Pid", *child_pid),
            SocatEvidence::WiredShell { shell_pid } => put(props, "Socat_Wired_Shell_Pid", *shell_pid),
        }
    }
}

/// The detector.
pub struct SocatShell;

impl Detector for SocatShell {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !ctx.in_scope(DetectionId::SocatReverseShell) {
            return;
        }
        // A socat without EXEC wired to a shell that runs what it reads, found by the exec or
        // connection that completed the loop.
        for w in ctx.wired.iter().filter(|w| w.tool == ToolKind::Socat) {
            let mut d = ctx.wired_relay_detection(DetectionId::SocatReverseShell, w, "socat");
            (d.connection, d.peer) = ctx.relay_evidence(w.relay);
            d.evidence = Evidence::Socat(SocatEvidence::WiredShell { shell_pid: w.shell.pid });
            out.push(d);
        }
        if !matches!(ctx.event.body, EventBody::Exec(_)) {
            return;
        }
        let p = ctx.process;
        if let Some(ToolCommand::Socat(cmd)) = ctx.command {
            if let Some((exec, net)) = socat::reverse_shell(cmd) {
                let mut d = ctx.detection(DetectionId::SocatReverseShell, p.key, format!("socat joins {} to {}", exec.raw, net.raw));
                d.evidence = Evidence::Socat(SocatEvidence::Joins { exec: exec.raw.clone(), network: net.raw.clone(), peer: net.target.clone() });
                d.peer = net.peer();
                out.push(d);
            }
            return;
        }
        // The program socat started for its peer.
        let socat_parent =
            p.parent.filter(|k| ctx.net.relay(k) == Some(RelayKind::Exec) && ctx.net.relay_tool(k) == Some(ToolKind::Socat));
        if let Some(parent) = socat_parent {
            let mut d = ctx.detection(DetectionId::SocatReverseShell, parent, format!("socat (pid {}) started {}", parent.pid, ctx.argv_text()));
            d.evidence = Evidence::Socat(SocatEvidence::Started { child_pid: p.key.pid });
            out.push(d);
        }
    }
}
