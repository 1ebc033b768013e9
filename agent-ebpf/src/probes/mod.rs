//! One hook per file.

mod sched_process_exec;
mod sched_process_exit;
mod sched_process_fork;
mod sys_connect;
mod sys_dup;
