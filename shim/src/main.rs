//! `nono-shim`: the binary that mediated commands resolve to.
//!
//! Mediation is not implemented yet. Until it is, the shim refuses clearly instead of
//! running anything: a mediated command must never fall through to an unmediated run.
fn main() {
    let name = std::env::args().next().unwrap_or_else(|| "nono-shim".into());
    eprintln!("nono-shim: {name}: command mediation is not available in this build");
    std::process::exit(127);
}
