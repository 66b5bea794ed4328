//! `make bench`: go-plugin in Rust and in Go, side by side in one run.
//!
//! Four pairings of host and plugin — Go↔Go, Rust host→Go plugin, Go host→Rust plugin, Rust↔Rust
//! — each with AutoMTLS off and on, are run **interleaved**: every round runs each of the eight
//! configurations once (rotating which goes first) plus the floor (a raw Unix-socket ping-pong and
//! stream, [`floor`]), so slow phases of a noisy machine hit all of them alike and ratios against
//! Go↔Go of the same run stay comparable. One configuration run is one process of a bench host
//! (examples/bench_host.rs or go-testdata/benchhost, same flags and JSON output) measuring one
//! plugin (examples/bench_plugin.rs or go-testdata/benchplugin); see [`runner`]. The Rust programs
//! are the default release build, what users get; each round also runs the tuned build's AutoMTLS
//! start-up ([`tuned`]).
//!
//! Medians over the rounds ([`summary`]) go to `bench/RESULTS.md` (with the hand-written analysis
//! in `bench/ANALYSIS.md` appended), `bench/results.json` and the chart `bench/ratios.svg`
//! ([`report`], [`chart`]).
//!
//! `cargo bench --bench side_by_side` runs it (`make bench` builds the programs first);
//! `cargo test` only checks that it starts. Environment: `BENCH_ROUNDS` (default 20),
//! `BENCH_NOTE` (a sentence for the machine notes, e.g. that the machine was shared),
//! `BENCH_OUT` (output folder, default `bench/`), `BENCH_REPORT_ONLY` (measure nothing: rewrite
//! the report from the `results.json` already in the output folder, e.g. after editing
//! `ANALYSIS.md`).

mod chart;
mod floor;
mod reload;
mod report;
mod runner;
mod summary;
mod tuned;

use std::path::PathBuf;
use std::time::Instant;

use std::path::Path;

use runner::{Programs, Workload};
use summary::{Round, CONFIGS};

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then only say what this is.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "side_by_side: run `make bench` (or `cargo bench --bench side_by_side`) to benchmark"
        );
        return;
    }
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let rounds: usize = match std::env::var("BENCH_ROUNDS") {
        Ok(v) => v
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("BENCH_ROUNDS must be a positive number, got {v:?}"))?,
        Err(_) => 20,
    };
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out_dir = std::env::var_os("BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("bench"));
    let (run, all) = if std::env::var_os("BENCH_REPORT_ONLY").is_some() {
        reload::from_json(&out_dir.join("results.json"))?
    } else {
        measure(&manifest, rounds)?
    };
    let summary = summary::Summary::of(&all);
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    let analysis = std::fs::read_to_string(out_dir.join("ANALYSIS.md")).unwrap_or_default();
    let write = |name: &str, text: String| {
        let path = out_dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
        Ok::<(), String>(())
    };
    write(
        "RESULTS.md",
        report::markdown(&run, &summary, &analysis, "ratios.svg"),
    )?;
    write("results.json", report::json(&run, &summary, &all))?;
    write("ratios.svg", chart::svg(&summary))?;
    print!("{}", report::goals_text(&summary));
    Ok(())
}

/// The measuring part: `rounds` interleaved rounds.
fn measure(manifest: &Path, rounds: usize) -> Result<(report::Run, Vec<Round>), String> {
    let programs = Programs::locate(manifest)?;
    let tuned_programs = Programs::locate_tuned(manifest)?;
    let workload = Workload::default();
    let tuned_workload = tuned::workload(&workload);
    let machine = report::Machine::describe(std::env::var("BENCH_NOTE").ok());
    let started = Instant::now();
    let mut all = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut this = Round::default();
        // Rotate the order so that no configuration always runs first (or right after the floor).
        let offset = round % (CONFIGS.len() + 1);
        for k in 0..=CONFIGS.len() {
            let slot = (k + offset) % (CONFIGS.len() + 1);
            if slot == CONFIGS.len() {
                this.floor = Some(floor::measure(&workload)?);
                continue;
            }
            let config = CONFIGS[slot];
            eprint!(
                "round {}/{rounds}: {:<12} {:<5}",
                round + 1,
                config.pairing.short(),
                if config.mtls { "mTLS" } else { "plain" }
            );
            let sample = programs.run(config, &workload)?;
            eprintln!(
                " start {:>6.1} ms  p50 {:>6.1} µs  {:>7.0} calls/s  {:>6.0} MiB/s",
                summary::median(&sample.start_ms),
                sample.unary_p50_us,
                sample.calls_per_s,
                sample.download_mib_s
            );
            this.samples.insert(config, sample);
        }
        this.tuned_start_ms = tuned::measure(&tuned_programs, &tuned_workload)?;
        all.push(this);
    }
    let elapsed = started.elapsed();
    eprintln!("measured in {:.0} s", elapsed.as_secs_f64());
    let run = report::Run {
        machine,
        rounds,
        workload,
        elapsed,
        load_after: report::load_average(),
    };
    Ok((run, all))
}
