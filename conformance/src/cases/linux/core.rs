//! `linux.core.*`: what the run contract rests on: the implementation describes itself
//! (`conformance-info --json`) and refuses to run anything on a kernel without Landlock.

use crate::case::{case, Case, CaseResult, Ctx, Requirement};
use crate::kit::expect::expect_not_run;
use crate::kit::spawn;
use crate::probe::Op;

pub fn cases() -> Vec<Case> {
    vec![
    case(
        "linux.core.conformance_info_json",
        "conformance-info --json answers a JSON object with name, version, platform, backend, Landlock ABI and feature names",
        &["CORE-INFO-001"],
        conformance_info_json,
    ),
    case(
        "linux.core.refuses_to_run_without_landlock",
        "On a kernel without Landlock the IUT exits 1 with a message and never runs the program",
        &["CORE-APPLY-001"],
        refuses_to_run_without_landlock,
    )
    .requires(Requirement::LandlockAbiBelow(1)),
    ]
}

fn conformance_info_json(cx: &Ctx) -> CaseResult {
    let mut info = cx.iut_command();
    info.args(["conformance-info", "--json"]);
    let out = spawn::output(info).map_err(|e| {
        format!(
            "cannot run {} conformance-info --json: {e}",
            cx.imp.path.display()
        )
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    crate::ensure!(
        out.status.success(),
        "conformance-info --json failed ({}); stdout {stdout:?}",
        out.status
    );
    let v: serde_json::Value = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("conformance-info output is not JSON ({e}): {stdout:?}"))?;
    let nonempty_str = |key: &str| {
        v.get(key)
            .and_then(|x| x.as_str())
            .filter(|x| !x.is_empty())
    };
    for key in ["implementation", "version", "platform", "backend"] {
        crate::ensure!(
            nonempty_str(key).is_some(),
            "conformance-info lacks a non-empty string {key:?}: {v}"
        );
    }
    crate::ensure!(
        nonempty_str("platform") == Some("linux"),
        "platform must be \"linux\" here: {v}"
    );
    crate::ensure!(
        nonempty_str("backend") == Some("landlock"),
        "backend must be \"landlock\" on this kernel: {v}"
    );
    let measured = crate::implementation::measure_landlock_abi(&cx.probe);
    crate::ensure!(
        v.get("landlock_abi").and_then(|x| x.as_u64()) == Some(measured as u64),
        "landlock_abi must be the kernel's ABI ({measured}, measured by the probe): {v}"
    );
    let features = v
        .get("features")
        .and_then(|x| x.as_array())
        .ok_or_else(|| format!("no features array: {v}"))?;
    crate::ensure!(
        !features.is_empty()
            && features
                .iter()
                .all(|f| f.as_str().is_some_and(|f| !f.is_empty())),
        "features must be a non-empty list of feature names: {v}"
    );
    Ok(())
}

fn refuses_to_run_without_landlock(cx: &Ctx) -> CaseResult {
    let out = cx.fx.dir("out");
    let refused = cx
        .run()
        .allow(&out)
        .probe(Op::create(out.join("marker")));
    expect_not_run(cx, &refused, "out/marker", "no Landlock")?;
    crate::ensure!(
        refused.code == 1,
        "without Landlock the IUT must exit 1; {refused}"
    );
    crate::ensure!(
        !refused.stderr.trim().is_empty(),
        "the IUT refused without a message; {refused}"
    );

    // Control: the probe itself, run outside any sandbox, does create the marker.
    let direct = cx.probe_outside_output(Op::create(out.join("direct")))?;
    crate::ensure!(
        cx.fx.exists("out/direct"),
        "control: the probe run directly did not create its marker: {}",
        String::from_utf8_lossy(&direct.stdout)
    );
    Ok(())
}
