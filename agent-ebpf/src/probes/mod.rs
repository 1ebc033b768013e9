//! One hook per file. No syscall tracepoints: attaching any of them puts every syscall of every
//! thread of the kernel on the tracing slow path.

mod cgroup_mkdir;
mod inet_sock_set_state;
mod sched_process_exec;
mod sched_process_exit;
mod sched_process_fork;
mod sock_use;
