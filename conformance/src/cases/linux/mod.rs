//! The Linux battery (Landlock). One module per scenario family.

use crate::case::Case;

mod env;
mod exec;
mod core;
mod exit_cli;
mod fs_dev;
mod fs_file;
mod fs_link;
mod fs_proc;
mod fs_read;
mod fs_refer;
mod fs_trunc;
mod fs_write;
mod implicit_grants;
mod ipc;
mod ipc_blackbox;
pub(crate) mod mediation;
mod net;
pub(crate) mod net_proxy;
mod process;
mod profile;
pub(crate) mod protected;
mod implicit;
mod run_contract;
pub(crate) mod system_reads;
mod system_user_tools;
mod workload;
mod scope;
mod stdout;

/// All Linux cases.
pub fn all() -> Vec<Case> {
    let mut out = vec![crate::canary::linux_case()];
    for family in [
        fs_read::cases,
        fs_write::cases,
        fs_file::cases,
        fs_dev::cases,
        fs_trunc::cases,
        fs_refer::cases,
        fs_link::cases,
        fs_proc::cases,
        exec::cases,
        net::cases,
        net_proxy::cases,
        scope::cases,
        process::cases,
        env::cases,
        exit_cli::cases,
        core::cases,
        stdout::cases,
        implicit_grants::cases,
        profile::cases,
        ipc::cases,
        ipc_blackbox::cases,
        mediation::cases,
        system_reads::cases,
        system_user_tools::cases,
        implicit::cases,
        protected::cases,
        workload::cases,
        run_contract::cases,
    ] {
        out.extend(family());
    }
    out
}
