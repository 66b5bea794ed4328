//! Load, bounded: `make soak` runs these (release build, one at a time, with their timings
//! printed); `make test` only builds them (`#[ignore]`).
//!
//! * one host launches 200 Rust plugins at once, calls each, kills them all;
//! * 100,000 unary calls, 64 in flight, against one plugin;
//! * 1,000 launch/call/kill cycles, with this process's memory and descriptors flat.
//!
//! Each fails on any error and on anything left behind: plugin processes, sockets (the plugins'
//! `TMPDIR` must end empty) and this process's file descriptors.

#[path = "support/features.rs"]
mod features;
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use go_plugin::handshake::HandshakeConfig;
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin_schemas::grpctest::test_client::TestClient;
use go_plugin_schemas::grpctest::TestRequest;
use support::*;
use tonic::transport::Channel;

fn host_config(tmp: &Path) -> HostConfig {
    let mut command = Command::new(rust_example("grpctest_plugin"));
    command.env("TMPDIR", tmp);
    HostConfig::new(HandshakeConfig::new(1, "TEST_MAGIC_COOKIE", "test"))
        .plugins(ClientSet::new().plugin("test", |c| TestClient::new(c.channel())))
        .command(command)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// This process's resident memory in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Waits (up to 5 s) for descriptors to drop back to `before`; the plugin processes must be gone
/// and `tmp` empty.
async fn assert_nothing_left(fds_before: usize, pids: &[u32], tmp: &Path) {
    for pid in pids {
        assert_process_gone(*pid, Duration::from_secs(5));
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds() > fds_before {
        assert!(
            Instant::now() < deadline,
            "descriptors grew from {fds_before} to {}",
            open_fds()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let left: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

#[test]
#[ignore = "load: run with `make soak`"]
fn two_hundred_plugins_at_once() {
    const PLUGINS: usize = 200;
    let tmp = short_tempdir();
    runtime().block_on(async {
        let fds = open_fds();
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..PLUGINS {
            let host = Host::new(host_config(tmp.path()));
            tasks.spawn(async move {
                let mut test: TestClient<Channel> = host.dispense("test").await?;
                let answer = test.double(TestRequest { input: i as i32 }).await?;
                assert_eq!(answer.into_inner().output, 2 * i as i32);
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(host)
            });
        }
        let mut hosts = Vec::new();
        while let Some(done) = tasks.join_next().await {
            hosts.push(done.unwrap().unwrap());
        }
        let launched = started.elapsed();
        let pids: Vec<u32> = hosts
            .iter()
            .map(|h| h.reattach_config().unwrap().pid)
            .collect();
        let killing = Instant::now();
        let mut kills = tokio::task::JoinSet::new();
        for host in hosts {
            kills.spawn(async move {
                host.kill().await;
                assert!(host.exit_status().unwrap().success());
            });
        }
        while let Some(done) = kills.join_next().await {
            done.unwrap();
        }
        println!(
            "{PLUGINS} plugins launched and called at once in {launched:.2?}, all killed in {:.2?}",
            killing.elapsed()
        );
        assert_nothing_left(fds, &pids, tmp.path()).await;
    });
}

#[test]
#[ignore = "load: run with `make soak`"]
fn a_hundred_thousand_calls_at_64_in_flight() {
    const CALLS: usize = 100_000;
    const IN_FLIGHT: usize = 64;
    let tmp = short_tempdir();
    runtime().block_on(async {
        let fds = open_fds();
        let host = Host::new(host_config(tmp.path()));
        let test: TestClient<Channel> = host.dispense("test").await.unwrap();
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for w in 0..IN_FLIGHT {
            let mut test = test.clone();
            workers.spawn(async move {
                let mut errors = 0usize;
                for i in (w..CALLS).step_by(IN_FLIGHT) {
                    let input = i as i32;
                    match test.double(TestRequest { input }).await {
                        Ok(r) if r.get_ref().output == 2 * input => {}
                        _ => errors += 1,
                    }
                }
                errors
            });
        }
        let mut errors = 0;
        while let Some(done) = workers.join_next().await {
            errors += done.unwrap();
        }
        let took = started.elapsed();
        println!(
            "{CALLS} unary calls, {IN_FLIGHT} in flight: {took:.2?} ({:.0} calls/s), {errors} errors",
            CALLS as f64 / took.as_secs_f64()
        );
        assert_eq!(errors, 0);
        drop(test);
        let pid = host.reattach_config().unwrap().pid;
        host.kill().await;
        assert_nothing_left(fds, &[pid], tmp.path()).await;
    });
}

#[test]
#[ignore = "load: run with `make soak`"]
fn a_thousand_launch_kill_cycles_with_flat_memory() {
    const CYCLES: usize = 1_000;
    const WARM_UP: usize = 100;
    let tmp = short_tempdir();
    runtime().block_on(async {
        let started = Instant::now();
        let (mut fds, mut rss) = (0, 0);
        for cycle in 0..CYCLES {
            if cycle == WARM_UP {
                (fds, rss) = (open_fds(), rss_kib());
            }
            let host = Host::new(host_config(tmp.path()));
            let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
            assert_eq!(double(&mut test, 21).await, 42);
            drop(test);
            let pid = host.reattach_config().unwrap().pid;
            host.kill().await;
            assert_process_gone(pid, Duration::from_secs(5));
        }
        let took = started.elapsed();
        // Let the last connection's tasks finish before counting.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (fds_after, rss_after) = (open_fds(), rss_kib());
        println!(
            "{CYCLES} launch/call/kill cycles in {took:.2?} ({:.1} ms each); after cycle \
             {WARM_UP} → {CYCLES}: memory {rss} → {rss_after} KiB, descriptors {fds} → {fds_after}",
            took.as_secs_f64() * 1000.0 / CYCLES as f64
        );
        assert!(
            fds_after <= fds,
            "descriptors grew from {fds} to {fds_after}"
        );
        // Flat: what 900 cycles add must stay under 8 MiB (about 9 KiB per cycle).
        assert!(
            rss_after < rss + 8 * 1024,
            "memory grew from {rss} KiB to {rss_after} KiB over {} cycles",
            CYCLES - WARM_UP
        );
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    });
}
