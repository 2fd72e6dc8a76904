//! `nono-mediated`: the suite's stand-in for a mediated command's real binary.
//!
//! Profiles point a command's `binary_path` at a copy (or hard link) of this program, so a
//! test sees from outside exactly what the mediation server handed the real command. Its
//! arguments are never interpreted (they are what `args_prefix` rules match), so what it
//! does is a *script* of steps, one per line, read from:
//!
//! 1. the file `<own path>.steps` next to the running executable (tests install a fake as
//!    `bin/gh` and write `bin/gh.steps`, so each command of a profile has its own script and
//!    a mediated command calling another one does not pass its script along), else
//! 2. the environment variable `NONO_MEDIATED_STEPS` (steps separated by newlines), else
//! 3. the single step `describe`.
//!
//! Steps (`name` or `name:argument`):
//!
//! | step | effect |
//! |---|---|
//! | `describe` | prints one JSON line: `argv`, `env`, `cwd`, `pid`, `ppid`, `stdin_bytes` (stdin read to its end) |
//! | `record:PATH` | appends the `describe` line to the file PATH instead (for buffered paths whose output the agent never sees) |
//! | `cat` | copies stdin to stdout byte for byte |
//! | `print:TEXT` / `stderr:TEXT` | writes TEXT to stdout / stderr (`\n`, `\t`, `\\` and `\xHH` are decoded) |
//! | `exit:N` | exits with N at once |
//! | `signal:N` | kills itself with signal N |
//! | `sleep:SECS` | sleeps (fractions allowed) |
//! | `write:PATH` / `read:PATH` | writes `written by nono-mediated\n` to PATH / reads PATH, and prints the outcome |
//! | `connect:PORT` | connects to 127.0.0.1:PORT over TCP and prints the outcome |
//! | `touch:PATH` | creates PATH |
//! | `wait-file:PATH` | waits (up to 20 s) until PATH exists; exits 70 if it never does |
//! | `print-env:NAME` | prints the value of variable NAME and a newline (nothing when unset) |
//! | `env-to-file:NAME PATH` | writes the value of variable NAME to the file PATH |
//! | `fds` | prints one JSON line: `fds`, every descriptor the program holds open, as `{"N": "DEV:INO"}` (the identity of the file behind it, from `fstat`) |
//! | `call:CMD ARG...` | runs CMD with inherited stdio and prints its exit code; CMD is `$NONO_SHIM_DIR/CMD` when that exists (a mediated command calling another through the session's shims), else found on `PATH` |
//!
//! Outcome lines look like `{"step":"read","ok":false,"errno":"EACCES",...}`. A steps file
//! that exists but cannot be read prints `{"step":"steps","ok":false,...}` and exits 71,
//! so a test never mistakes a refused script for a default `describe`.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

fn main() {
    let steps = match load_steps() {
        Ok(steps) => steps,
        Err(line) => {
            print_line(line);
            std::process::exit(71);
        }
    };
    for step in steps.lines().filter(|l| !l.trim().is_empty()) {
        let (name, arg) = step.split_once(':').unwrap_or((step, ""));
        run_step(name.trim(), arg);
        let _ = std::io::stdout().flush();
    }
}

fn load_steps() -> Result<String, Value> {
    let own = std::env::current_exe().unwrap_or_default();
    let mut steps_file = own.into_os_string();
    steps_file.push(".steps");
    let steps_file = PathBuf::from(steps_file);
    match std::fs::read_to_string(&steps_file) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(std::env::var("NONO_MEDIATED_STEPS").unwrap_or_else(|_| "describe".into()))
        }
        Err(e) => {
            Err(json!({"step": "steps", "ok": false, "path": steps_file, "errno": errno_name(&e)}))
        }
    }
}

fn run_step(name: &str, arg: &str) {
    match name {
        "describe" => print_line(describe()),
        "record" => {
            let line = format!("{}\n", describe());
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(arg);
            if let Err(e) = file.and_then(|mut f| f.write_all(line.as_bytes())) {
                report("record", Err(e), Map::new());
            }
        }
        "cat" => cat(),
        "print" => write_out(&mut std::io::stdout(), &unescape(arg)),
        "stderr" => write_out(&mut std::io::stderr(), &unescape(arg)),
        "exit" => std::process::exit(arg.trim().parse().unwrap_or(2)),
        "signal" => {
            let sig: i32 = arg.trim().parse().unwrap_or(libc::SIGKILL);
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
            // A signal that does not kill (SIGCHLD, ...) is a mistake in the test.
            std::process::exit(72);
        }
        "sleep" => std::thread::sleep(Duration::from_secs_f64(arg.trim().parse().unwrap_or(1.0))),
        "write" => report(
            "write",
            std::fs::write(arg, "written by nono-mediated\n"),
            Map::new(),
        ),
        "read" => {
            let mut extra = Map::new();
            let result = std::fs::read_to_string(arg).map(|content| {
                extra.insert("content".into(), json!(content));
            });
            report("read", result, extra)
        }
        "connect" => {
            let port: u16 = arg.trim().parse().unwrap_or(0);
            let result = std::net::TcpStream::connect(("127.0.0.1", port)).map(drop);
            report("connect", result, Map::new())
        }
        "touch" => report("touch", std::fs::write(arg, b"").map(drop), Map::new()),
        "wait-file" => {
            let deadline = Instant::now() + Duration::from_secs(20);
            while std::fs::symlink_metadata(arg).is_err() {
                if Instant::now() > deadline {
                    print_line(json!({"step": "wait-file", "ok": false, "path": arg}));
                    std::process::exit(70);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        "call" => call(arg),
        "fds" => match open_fds() {
            Ok(fds) => print_line(json!({"step": "fds", "ok": true, "fds": fds})),
            Err(e) => report("fds", Err(e), Map::new()),
        },
        "print-env" => print_line(std::env::var(arg.trim()).unwrap_or_default()),
        "env-to-file" => {
            let (name, path) = arg.split_once(' ').unwrap_or((arg, ""));
            let value = std::env::var(name).unwrap_or_default();
            report("env-to-file", std::fs::write(path, value), Map::new())
        }
        other => {
            eprintln!("nono-mediated: unknown step {other:?}");
            std::process::exit(2);
        }
    }
}

fn describe() -> Value {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let env: Map<String, Value> = std::env::vars_os()
        .map(|(k, v)| (k.to_string_lossy().into_owned(), json!(v.to_string_lossy())))
        .collect();
    let cwd = std::env::current_dir()
        .map(|d| d.to_string_lossy().into_owned())
        .ok();
    let mut stdin = Vec::new();
    let stdin_bytes = std::io::stdin()
        .read_to_end(&mut stdin)
        .map(|_| stdin.len())
        .ok();
    json!({
        "step": "describe",
        "argv": argv,
        "env": env,
        "cwd": cwd,
        "pid": std::process::id(),
        "ppid": std::os::unix::process::parent_id(),
        "stdin_bytes": stdin_bytes,
    })
}

/// Every descriptor this process holds, with the identity (device and inode) of its file.
/// `/dev/fd` lists them on Linux (a link to `/proc/self/fd`) and macOS alike; the listing's
/// own descriptor is closed again before `fstat` and drops out.
fn open_fds() -> std::io::Result<Map<String, Value>> {
    let numbers: Vec<i32> = std::fs::read_dir("/dev/fd")?
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let mut fds = Map::new();
    for n in numbers {
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat writes into `st`, which is a valid stat buffer; a closed n fails.
        if unsafe { libc::fstat(n, &mut st) } == 0 {
            fds.insert(n.to_string(), json!(format!("{}:{}", st.st_dev, st.st_ino)));
        }
    }
    Ok(fds)
}

fn cat() {
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if stdout.write_all(&buf[..n]).is_err() {
                    std::process::exit(74);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => std::process::exit(74),
        }
    }
    let _ = stdout.flush();
}

fn call(arg: &str) {
    let mut words = arg.split_whitespace();
    let Some(command) = words.next() else {
        eprintln!("nono-mediated: call needs a command");
        std::process::exit(2);
    };
    let _ = std::io::stdout().flush();
    let via_shim = std::env::var_os("NONO_SHIM_DIR")
        .map(|d| PathBuf::from(d).join(command))
        .filter(|p| p.exists());
    let program = via_shim.unwrap_or_else(|| PathBuf::from(command));
    let status = Command::new(program).arg0(command).args(words).status();
    let mut extra = Map::new();
    extra.insert("command".into(), json!(command));
    let result = status.map(|s| {
        extra.insert("exit_code".into(), json!(s.code()));
        extra.insert("signal".into(), json!(s.signal()));
    });
    report("call", result, extra)
}

fn report(step: &str, result: std::io::Result<()>, mut extra: Map<String, Value>) {
    extra.insert("step".into(), json!(step));
    extra.insert("ok".into(), json!(result.is_ok()));
    if let Err(e) = result {
        extra.insert("errno".into(), json!(errno_name(&e)));
    }
    print_line(Value::Object(extra));
}

/// Prints one line on stdout. Not `println!`, which panics (exit 101) when the reader has
/// gone: a shim killed while its command runs leaves the command a stdout nobody reads,
/// and the command's exit code must still be the one its script names.
fn print_line(line: impl std::fmt::Display) {
    write_out(&mut std::io::stdout(), format!("{line}\n").as_bytes());
}

fn errno_name(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EACCES) => "EACCES".into(),
        Some(libc::EPERM) => "EPERM".into(),
        Some(libc::ENOENT) => "ENOENT".into(),
        Some(libc::ECONNREFUSED) => "ECONNREFUSED".into(),
        Some(n) => format!("errno {n}"),
        None => e.to_string(),
    }
}

fn write_out(w: &mut impl Write, bytes: &[u8]) {
    let _ = w.write_all(bytes);
    let _ = w.flush();
}

/// Decodes `\n`, `\t`, `\\` and `\xHH`; anything else is kept as written.
fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            match bytes[i + 1] {
                b'n' => {
                    out.push(b'\n');
                    i += 2;
                    continue;
                }
                b't' => {
                    out.push(b'\t');
                    i += 2;
                    continue;
                }
                b'\\' => {
                    out.push(b'\\');
                    i += 2;
                    continue;
                }
                b'x' if i + 4 <= bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap_or("");
                    if let Ok(b) = u8::from_str_radix(hex, 16) {
                        out.push(b);
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}
