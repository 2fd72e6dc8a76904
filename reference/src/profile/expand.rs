//! Variable expansion in profile paths.
//!
//! One left-to-right pass over the string:
//! * a leading `~` (alone, or followed by `/`) is the home directory; `~user` and a `~`
//!   anywhere else stay as written;
//! * `$NAME` (NAME the longest run of `A-Z`, `0-9`, `_`) and `${NAME}` are replaced:
//!   first the explicit names (`HOME`, `WORKDIR` = the run's working directory, `TMPDIR`
//!   with `/tmp` as default, `XDG_CONFIG_HOME`, `XDG_DATA_HOME`, `XDG_STATE_HOME`,
//!   `XDG_CACHE_HOME` with their usual defaults under the home directory), then any variable
//!   set in the process environment;
//! * a name that is unset stays literal (`$FOO/bar` stays `$FOO/bar`), as do lower-case
//!   names, a lone `$`, and `${` without a valid name and `}`;
//! * replaced text is never rescanned, so a value containing `$X` is inserted as is.
//!
//! A relative `HOME`, `TMPDIR` or `XDG_*` value is an error when used (a relative grant
//! would depend on wherever the program happens to run), as is `~` with `HOME` unset.
//! Only paths are expanded: `filesystem.*`, the `tls_ca`, `tls_client_cert` and
//! `tls_client_key` files of `network.custom_credentials`, a mediated command's
//! `binary_path`, its `args_prefix` entries and its sandbox's `fs_*` lists. Everything else
//! (`allow_domain` hosts included) stays literal.

use super::format::Profile;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What expansion reads: a snapshot of the environment and the run's working directory.
#[derive(Clone, Debug)]
pub struct Vars {
    env: BTreeMap<String, String>,
    workdir: PathBuf,
}

/// Why a string could not be expanded: the variable and what is wrong with its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpandError {
    pub variable: String,
    pub reason: String,
}

impl Vars {
    /// From the process environment and a working directory.
    pub fn from_process(workdir: PathBuf) -> Vars {
        Vars::new(std::env::vars().collect(), workdir)
    }

    /// From an explicit environment (tests, benchmarks).
    pub fn new(env: BTreeMap<String, String>, workdir: PathBuf) -> Vars {
        Vars { env, workdir }
    }

    /// The value an explicit or environment variable expands to; `Ok(None)` keeps it literal.
    fn value(&self, name: &str) -> Result<Option<String>, ExpandError> {
        let home_default = |suffix: &str| -> Result<Option<String>, ExpandError> {
            Ok(self.absolute("HOME")?.map(|home| format!("{}/{suffix}", home.trim_end_matches('/'))))
        };
        match name {
            "WORKDIR" => Ok(Some(self.workdir.to_string_lossy().into_owned())),
            "TMPDIR" => Ok(Some(match self.absolute("TMPDIR")? {
                Some(dir) if dir != "/" => dir.trim_end_matches('/').to_string(),
                Some(dir) => dir,
                None => "/tmp".to_string(),
            })),
            "XDG_CONFIG_HOME" => self.absolute(name)?.map_or_else(|| home_default(".config"), |v| Ok(Some(v))),
            "XDG_DATA_HOME" => self.absolute(name)?.map_or_else(|| home_default(".local/share"), |v| Ok(Some(v))),
            "XDG_STATE_HOME" => self.absolute(name)?.map_or_else(|| home_default(".local/state"), |v| Ok(Some(v))),
            "XDG_CACHE_HOME" => self.absolute(name)?.map_or_else(|| home_default(".cache"), |v| Ok(Some(v))),
            _ if name == "HOME" || name.starts_with("XDG_") => self.absolute(name),
            _ => Ok(self.env.get(name).cloned()),
        }
    }

    /// A variable that must hold an absolute path when set.
    fn absolute(&self, name: &str) -> Result<Option<String>, ExpandError> {
        match self.env.get(name) {
            Some(value) if !value.starts_with('/') => Err(ExpandError {
                variable: name.to_string(),
                reason: format!("{name}={value:?} is not an absolute path"),
            }),
            value => Ok(value.cloned()),
        }
    }

    /// Expands one string.
    pub fn expand(&self, input: &str) -> Result<String, ExpandError> {
        let mut out = String::with_capacity(input.len());
        let mut rest = input;
        if rest == "~" || rest.starts_with("~/") {
            match self.absolute("HOME")? {
                // `/` trimmed would be empty: `~` alone must still be `/` then.
                Some(home) if rest == "~" && home.trim_end_matches('/').is_empty() => out.push('/'),
                Some(home) => out.push_str(home.trim_end_matches('/')),
                None => {
                    return Err(ExpandError { variable: "HOME".into(), reason: "HOME is not set, so '~' has no meaning".into() })
                }
            }
            rest = &rest[1..];
        }
        while let Some(dollar) = rest.find('$') {
            out.push_str(&rest[..dollar]);
            let after = &rest[dollar + 1..];
            let (name, consumed) = match after.strip_prefix('{') {
                Some(braced) => match braced.find('}') {
                    Some(end) if is_name(&braced[..end]) => (&braced[..end], end + 2),
                    _ => ("", 0),
                },
                None => {
                    let len = after.bytes().take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_').count();
                    (&after[..len], len)
                }
            };
            match (name.is_empty(), self.value(name)?) {
                (false, Some(value)) => out.push_str(&value),
                _ => out.push_str(&rest[dollar..dollar + 1 + consumed]),
            }
            rest = &after[consumed..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Expands every path field of a resolved profile in place. On error returns the JSON path
/// of the field and the reason.
pub fn expand_profile(profile: &mut Profile, vars: &Vars) -> Result<(), (String, ExpandError)> {
    let one = |path: String, value: &mut String| -> Result<(), (String, ExpandError)> {
        *value = vars.expand(value).map_err(|e| (path, e))?;
        Ok(())
    };
    let fs = &mut profile.filesystem;
    let lists = [
        ("allow", &mut fs.allow),
        ("read", &mut fs.read),
        ("write", &mut fs.write),
        ("allow_file", &mut fs.allow_file),
        ("read_file", &mut fs.read_file),
        ("write_file", &mut fs.write_file),
        ("deny", &mut fs.deny),
    ];
    for (key, list) in lists {
        for (i, value) in list.iter_mut().enumerate() {
            one(format!("filesystem.{key}[{i}]"), value)?;
        }
    }
    // Credential files are paths too (seed 000: the same expansion as filesystem paths).
    for (name, credential) in profile.network.custom_credentials.iter_mut() {
        let fields = [
            ("tls_ca", &mut credential.tls_ca),
            ("tls_client_cert", &mut credential.tls_client_cert),
            ("tls_client_key", &mut credential.tls_client_key),
        ];
        for (key, value) in fields {
            if let Some(value) = value {
                one(format!("network.custom_credentials.{name}.{key}"), value)?;
            }
        }
    }
    for (c, command) in profile.mediation.commands.iter_mut().enumerate() {
        let at = format!("mediation.commands[{c}]");
        if let Some(binary) = &mut command.binary_path {
            one(format!("{at}.binary_path"), binary)?;
        }
        for (r, rule) in command.intercept.iter_mut().enumerate() {
            for (i, arg) in rule.args_prefix.iter_mut().enumerate() {
                one(format!("{at}.intercept[{r}].args_prefix[{i}]"), arg)?;
            }
        }
        if let Some(sandbox) = &mut command.sandbox {
            let lists = [
                ("fs_read", &mut sandbox.fs_read),
                ("fs_read_file", &mut sandbox.fs_read_file),
                ("fs_write", &mut sandbox.fs_write),
                ("fs_write_file", &mut sandbox.fs_write_file),
            ];
            for (key, list) in lists {
                for (i, value) in list.iter_mut().enumerate() {
                    one(format!("{at}.sandbox.{key}[{i}]"), value)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), "/work/dir".into())
    }

    #[rstest]
    #[case("~", "/home/u")]
    #[case("~/x", "/home/u/x")]
    #[case("a/~/b", "a/~/b")]
    #[case("~other/x", "~other/x")]
    #[case("$HOME/x", "/home/u/x")]
    #[case("${HOME}/x", "/home/u/x")]
    #[case("$HOMEDIR/x", "$HOMEDIR/x")]
    #[case("$WORKDIR/src", "/work/dir/src")]
    #[case("$TMPDIR/t", "/tmp/t")]
    #[case("$XDG_CONFIG_HOME/nono", "/home/u/.config/nono")]
    #[case("$XDG_RUNTIME_DIR/s", "$XDG_RUNTIME_DIR/s")]
    #[case("$FOO/bar", "/foo/bar")]
    #[case("$UNSET/bar", "$UNSET/bar")]
    #[case("$foo/bar", "$foo/bar")]
    #[case("${FOO", "${FOO")]
    #[case("${lower}", "${lower}")]
    #[case("$", "$")]
    #[case("$$FOO", "$/foo")]
    #[case("$LOOP", "$FOO")]
    fn expansion(#[case] input: &str, #[case] expected: &str) {
        let v = vars(&[("HOME", "/home/u"), ("FOO", "/foo"), ("LOOP", "$FOO")]);
        assert_eq!(v.expand(input).unwrap(), expected);
    }

    #[test]
    fn relative_values_are_errors_only_when_used() {
        let v = vars(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "cache")]);
        assert_eq!(v.expand("$HOME/x").unwrap(), "/home/u/x");
        assert_eq!(v.expand("$XDG_CACHE_HOME/x").unwrap_err().variable, "XDG_CACHE_HOME");
        let no_home = vars(&[]);
        assert_eq!(no_home.expand("~/x").unwrap_err().variable, "HOME");
        assert_eq!(no_home.expand("$HOME/x").unwrap(), "$HOME/x");
    }
}
