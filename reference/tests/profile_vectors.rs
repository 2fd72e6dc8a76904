//! The invalid-profile vectors in `fixtures/profiles/invalid`, checked directly against the
//! reference library: the error class and JSON path must be exactly the ones the vector
//! names. (The conformance suite checks the same vectors black-box through the CLI, where
//! only the message is visible; this is where the class is pinned down.)

mod common;

use nono_reference::profile::{self, expand::Vars, resolve::Lookup};
use serde_json::Value;

fn substitute(value: &Value, root: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("{{root}}", root)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, root)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v, root))).collect()),
        other => other.clone(),
    }
}

#[test]
fn invalid_vectors_fail_with_the_named_class_and_path() {
    let mut failures = vec![];
    for vector in &common::vectors("profiles/invalid") {
        let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let root_str = root.path().to_string_lossy().into_owned();
        let vector = substitute(vector, &root_str);
        let id = vector["id"].as_str().unwrap().to_string();
        let profiles_dir = root.path().join("config/nono/profiles");
        std::fs::create_dir_all(&profiles_dir).unwrap();
        for (name, profile) in vector["profiles"].as_object().unwrap() {
            let text = match profile {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let file_name = if name.ends_with(".json") || name.ends_with(".jsonc") { name.clone() } else { format!("{name}.json") };
            std::fs::write(profiles_dir.join(file_name), text).unwrap();
        }
        let mut env: std::collections::BTreeMap<String, String> =
            [("HOME".to_string(), format!("{root_str}/home"))].into();
        if let Some(vars) = vector.get("env").and_then(Value::as_object) {
            for (name, value) in vars {
                match value.as_str() {
                    Some(v) => env.insert(name.clone(), v.to_string()),
                    None => env.remove(name),
                };
            }
        }
        let show = vector["show"].as_str().unwrap();
        let target = profiles_dir.join(if show.ends_with(".json") || show.ends_with(".jsonc") { show.to_string() } else { format!("{show}.json") });
        let lookup = Lookup { user_dir: Some(profiles_dir.clone()), cwd: root.path().to_path_buf() };
        let vars = Vars::new(env, root.path().to_path_buf());
        let want = &vector["error"];
        match profile::load(&target.to_string_lossy(), &lookup, &vars) {
            Ok(_) => failures.push(format!("{id}: loaded without error")),
            Err(errors) => {
                let first = &errors[0];
                let class = want["class"].as_str().unwrap();
                if first.class.as_str() != class {
                    failures.push(format!("{id}: class {} instead of {class}: {first}", first.class.as_str()));
                }
                if let Some(path) = want.get("path").and_then(Value::as_str) {
                    if first.path != path {
                        failures.push(format!("{id}: path {:?} instead of {path:?}: {first}", first.path));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_built_in_profile_loads() {
    let lookup = Lookup { user_dir: None, cwd: "/".into() };
    let vars = Vars::new([("HOME".to_string(), "/home/u".to_string())].into(), "/work".into());
    for (name, _) in profile::resolve::BUILTIN {
        let resolved = profile::load(name, &lookup, &vars).unwrap_or_else(|e| panic!("built-in {name}: {e:?}"));
        assert_eq!(resolved.profile.meta.name.as_deref(), Some(*name), "built-in {name} names itself in meta.name");
    }
}
