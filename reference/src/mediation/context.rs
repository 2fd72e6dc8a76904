//! Context tokens: how the server recognises calls from a command it started itself.
//!
//! Every command the server runs gets a fresh random token in `NONO_SANDBOX_CONTEXT`. When
//! a request carries one the server issued, and (on Linux) the connecting process descends
//! from the command it was issued to, the caller is that command ([`Caller::Parent`]),
//! whose sandbox may allow further commands directly. Anything else is the agent. The token
//! is kept apart from credential nonces, so a nonce the agent holds never passes for one.
//!
//! A token lives exactly as long as its command: [`Contexts::issue`] registers it and
//! returns a [`ContextToken`] guard, [`ContextToken::bind`] records the command's pid once
//! it was spawned, and dropping the guard revokes the token, however the command ended.

use super::policy::Caller;
use super::session::random_hex;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a request waits for the pid of the command whose token it carries: a command
/// can call back before the server has recorded its pid (that happens right after spawn).
const BIND_WAIT: Duration = Duration::from_secs(2);

/// The tokens issued and not yet revoked: token → (command name, pid once known).
#[derive(Default)]
pub struct Contexts {
    issued: Mutex<HashMap<String, (String, Option<u32>)>>,
}

impl Contexts {
    /// Issues a fresh token for a run of `command`; it is revoked when the guard drops.
    pub fn issue(&self, command: &str) -> Result<ContextToken<'_>, String> {
        let token = random_hex(32).map_err(|e| e.to_string())?;
        self.lock().insert(token.clone(), (command.to_string(), None));
        Ok(ContextToken { contexts: self, token })
    }

    /// Who sent a request whose environment holds `token` (if any), connecting from
    /// process `peer_pid`.
    pub fn caller(&self, token: Option<&str>, peer_pid: Option<u32>) -> Caller {
        let Some(token) = token else { return Caller::Agent };
        let deadline = Instant::now() + BIND_WAIT;
        loop {
            let issued = self.lock();
            match issued.get(token) {
                None => return Caller::Agent,
                Some((name, Some(owner))) => {
                    return if descends_from(peer_pid, *owner) { Caller::Parent(name.clone()) } else { Caller::Agent };
                }
                Some((_, None)) if Instant::now() >= deadline => return Caller::Agent,
                Some((_, None)) => {}
            }
            drop(issued);
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Option<u32>)>> {
        self.issued.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One issued token; revoked when dropped.
pub struct ContextToken<'a> {
    contexts: &'a Contexts,
    token: String,
}

impl ContextToken<'_> {
    /// The value for the command's `NONO_SANDBOX_CONTEXT`.
    pub fn value(&self) -> &str {
        &self.token
    }

    /// Records the pid of the command the token was issued to.
    pub fn bind(&self, pid: u32) {
        if let Some(entry) = self.contexts.lock().get_mut(&self.token) {
            entry.1 = Some(pid);
        }
    }
}

impl Drop for ContextToken<'_> {
    fn drop(&mut self) {
        self.contexts.lock().remove(&self.token);
    }
}

/// Does process `pid` descend from (or equal) `ancestor`? Read from `/proc` on Linux;
/// elsewhere the context token alone decides.
fn descends_from(pid: Option<u32>, ancestor: u32) -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let mut current = match pid {
        Some(pid) => pid,
        None => return false,
    };
    for _ in 0..64 {
        if current == ancestor {
            return true;
        }
        if current <= 1 {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{current}/stat")) else { return false };
        // The command name may hold spaces and parentheses: the fields follow the last ')'.
        let Some(ppid) = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|p| p.parse().ok()) else {
            return false;
        };
        current = ppid;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_command_until_the_guard_drops() {
        let contexts = Contexts::default();
        let token = contexts.issue("gh").unwrap();
        let value = token.value().to_string();
        token.bind(std::process::id());
        assert_eq!(contexts.caller(Some(&value), Some(std::process::id())), Caller::Parent("gh".into()));
        drop(token);
        assert_eq!(contexts.caller(Some(&value), Some(std::process::id())), Caller::Agent);
    }

    #[test]
    fn an_unknown_token_or_none_is_the_agent() {
        let contexts = Contexts::default();
        assert_eq!(contexts.caller(None, None), Caller::Agent);
        assert_eq!(contexts.caller(Some("forged"), None), Caller::Agent);
    }
}
