//! `BENCH_REPORT_ONLY`: the rounds and notes of an earlier run, read back from its
//! `results.json`, so that the report can be rewritten (say, after editing `ANALYSIS.md`) without
//! measuring again.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::floor::Floor;
use crate::report::{Machine, Run};
use crate::runner::{parse_sample, Workload};
use crate::summary::{Round, CONFIGS};

pub fn from_json(path: &Path) -> Result<(Run, Vec<Round>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "BENCH_REPORT_ONLY needs the results of an earlier run: reading {}: {e}",
            path.display()
        )
    })?;
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
    let bad = |what: &str| format!("{} has no valid {what}", path.display());
    let m = &doc["machine"];
    let text_of = |v: &Value| v.as_str().unwrap_or("unknown").to_string();
    let machine = Machine {
        date: text_of(&m["date"]),
        cores: m["cores"].as_u64().unwrap_or(0) as usize,
        cpu: text_of(&m["cpu"]),
        memory: text_of(&m["memory"]),
        kernel: text_of(&m["kernel"]),
        load_before: text_of(&m["load_before"]),
        rustc: text_of(&m["rustc"]),
        go: text_of(&m["go"]),
        note: m["note"].as_str().map(str::to_string),
    };
    let w = &doc["workload"];
    let num = |k: &str| w[k].as_u64().ok_or_else(|| bad(&format!("workload.{k}")));
    let workload = Workload {
        launches: num("launches")? as usize,
        warmup: num("warmup")? as usize,
        unary: num("unary")? as usize,
        payload: num("payload_bytes")? as usize,
        concurrency: num("concurrency")? as usize,
        concurrent_ms: num("concurrent_ms")?,
        download_mib: num("download_mib")?,
        upload_mib: num("upload_mib")?,
        chunk_kib: num("chunk_kib")?,
        dials: num("dials")? as usize,
    };
    let mut rounds = Vec::new();
    for r in doc["raw_rounds"]
        .as_array()
        .ok_or_else(|| bad("raw_rounds"))?
    {
        let mut round = Round {
            floor: r["floor"]["rtt_p50_us"].as_f64().map(|rtt| Floor {
                rtt_p50_us: rtt,
                mib_s: r["floor"]["stream_mib_s"].as_f64().unwrap_or(f64::NAN),
            }),
            ..Round::default()
        };
        for config in CONFIGS {
            let key = format!(
                "{}/{}",
                config.pairing.key(),
                if config.mtls { "mtls_on" } else { "mtls_off" }
            );
            if let Some(sample) = r["samples"].get(&key).and_then(parse_sample) {
                round.samples.insert(config, sample);
            }
        }
        for pairing in crate::tuned::PAIRINGS {
            let times = r["tuned_start_ms"][pairing.key()].as_array();
            if let Some(times) = times.and_then(|t| t.iter().map(Value::as_f64).collect()) {
                round.tuned_start_ms.insert(pairing, times);
            }
        }
        rounds.push(round);
    }
    let run = Run {
        machine,
        rounds: rounds.len(),
        workload,
        elapsed: Duration::from_secs_f64(doc["elapsed_s"].as_f64().unwrap_or(0.0)),
        load_after: text_of(&m["load_after"]),
    };
    Ok((run, rounds))
}
