//! How long resolving a large profile chain takes: 10 levels of `extends`, 1,000 filesystem
//! paths and 200 distinct mediation commands in all, plus a few commands redefined at every
//! level so that the per-command merge runs too. Goal: under 5 ms.
//!
//! `cargo bench -p nono-reference --bench profile`

use nono_reference::profile::{self, expand::Vars, resolve::Lookup};
use serde_json::json;
use std::time::{Duration, Instant};

const LEVELS: usize = 10;
const PATHS_PER_LEVEL: usize = 100;
const COMMANDS_PER_LEVEL: usize = 20;
const SHARED_COMMANDS: usize = 4;

fn level(n: usize) -> serde_json::Value {
    let paths: Vec<String> = (0..PATHS_PER_LEVEL).map(|i| format!("$HOME/level{n}/dir{i}")).collect();
    let names = (0..COMMANDS_PER_LEVEL).map(|i| format!("cmd{n}-{i}"));
    // The shared commands exist at every level and are merged field by field.
    let shared = (0..SHARED_COMMANDS).map(|i| format!("shared{i}"));
    let commands: Vec<_> = names
        .chain(shared)
        .map(|name| {
            json!({
                "name": name,
                "binary_path": format!("$HOME/bin/{name}"),
                "intercept": [
                    { "args_prefix": ["auth", "token"], "action": { "type": "capture" } },
                    { "args_prefix": ["level", n.to_string()], "action": { "type": "respond", "stdout": "ok\n" } }
                ],
                "sandbox": { "fs_read": [format!("~/.config/{name}")], "network": { "allowed_hosts": ["example.com"] } },
                "caller_policy": { "allowed_parents": ["git", format!("p{n}")] }
            })
        })
        .collect();
    let mut profile = json!({
        "filesystem": { "read": paths },
        "network": { "connect_port": [443] },
        "mediation": { "commands": commands, "env": { "block": [format!("TOKEN_{n}")] } }
    });
    if n > 0 {
        profile["extends"] = json!(format!("level{}", n - 1));
    }
    profile
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    for n in 0..LEVELS {
        std::fs::write(dir.path().join(format!("level{n}.json")), level(n).to_string()).unwrap();
    }
    let lookup = Lookup { user_dir: Some(dir.path().to_path_buf()), cwd: dir.path().to_path_buf() };
    let vars = Vars::new([("HOME".to_string(), "/home/bench".to_string())].into(), "/work".into());
    let top = format!("level{}", LEVELS - 1);

    let resolved = profile::load(&top, &lookup, &vars).expect("the chain resolves");
    let paths = resolved.profile.filesystem.read.len();
    let commands = resolved.profile.mediation.commands.len();
    assert_eq!(paths, LEVELS * PATHS_PER_LEVEL);

    let mut samples: Vec<Duration> = (0..200)
        .map(|_| {
            let start = Instant::now();
            let resolved = profile::load(&top, &lookup, &vars).unwrap();
            std::hint::black_box(&resolved);
            start.elapsed()
        })
        .collect();
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "profile chain: {LEVELS} levels, {paths} paths, {commands} commands after merging ({} written), read + resolve + merge + expand",
        LEVELS * (COMMANDS_PER_LEVEL + SHARED_COMMANDS)
    );
    println!(
        "  median {:.3} ms   p90 {:.3} ms   min {:.3} ms   (goal: under 5 ms)",
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 9 / 10]),
        ms(samples[0])
    );
}
