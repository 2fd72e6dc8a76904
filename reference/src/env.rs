//! Environment scrubbing: variables that let a caller inject code into the sandboxed
//! program (loader preloads, interpreter start-up hooks) or leak credentials are removed
//! before the program starts. Everything else passes unchanged.
//!
//! The list follows nono's (core-spec CLI-18): exact names, plus the prefixes below.

/// Variables removed by exact name.
pub const DANGEROUS_NAMES: &[&str] = &[
    "BASH_ENV",
    "ENV",
    "CDPATH",
    "GLOBIGNORE",
    "PROMPT_COMMAND",
    "IFS",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "RUBYLIB",
    "GEM_PATH",
    "GEM_HOME",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "DOTNET_STARTUP_HOOKS",
    "GOFLAGS",
    "OP_SERVICE_ACCOUNT_TOKEN",
    "OP_CONNECT_TOKEN",
    "OP_CONNECT_HOST",
    "NONO_CAP_FILE",
    "NONO_SUPERVISOR_PATH",
    // Names the supervisor socket; only `run` itself may set it (see `crate::ipc`).
    "NONO_SUPERVISOR_FD",
];

/// Variables removed by prefix (`LD_PRELOAD`, `DYLD_INSERT_LIBRARIES`, exported bash
/// functions, 1Password session tokens).
pub const DANGEROUS_PREFIXES: &[&str] = &["LD_", "DYLD_", "BASH_FUNC_", "OP_SESSION_"];

/// True when `name` must not reach the sandboxed program.
pub fn is_dangerous(name: &str) -> bool {
    is_dangerous_bytes(name.as_bytes())
}

/// [`is_dangerous`] for a name that need not be UTF-8, compared byte for byte: `LD_`
/// followed by invalid UTF-8 is still dangerous.
pub fn is_dangerous_bytes(name: &[u8]) -> bool {
    DANGEROUS_NAMES.iter().any(|n| n.as_bytes() == name)
        || DANGEROUS_PREFIXES.iter().any(|p| name.starts_with(p.as_bytes()))
}

/// The environment the sandboxed program receives: `vars` without the dangerous ones,
/// in their original order.
pub fn scrub<I, K, V>(vars: I) -> Vec<(K, V)>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<std::ffi::OsStr>,
{
    vars.into_iter()
        // On bytes: a name such as `LD_\xff` is not UTF-8 and must still be dropped.
        .filter(|(k, _)| !is_dangerous_bytes(std::os::unix::ffi::OsStrExt::as_bytes(k.as_ref())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("LD_PRELOAD", true)]
    #[case("LD_LIBRARY_PATH", true)]
    #[case("DYLD_INSERT_LIBRARIES", true)]
    #[case("BASH_FUNC_x%%", true)]
    #[case("OP_SESSION_abc", true)]
    #[case("NODE_OPTIONS", true)]
    #[case("PATH", false)]
    #[case("HOME", false)]
    #[case("OLD_PRELOAD", false)]
    #[case("ENVIRONMENT", false)]
    fn dangerous_names(#[case] name: &str, #[case] dangerous: bool) {
        assert_eq!(is_dangerous(name), dangerous);
    }

    #[test]
    fn scrub_keeps_order_of_the_rest() {
        let out = scrub(vec![("A", "1"), ("LD_PRELOAD", "x"), ("B", "2")]);
        assert_eq!(out, vec![("A", "1"), ("B", "2")]);
    }
}
