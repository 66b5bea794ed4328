//! Long lines and floods on the plugin's stdout and stderr.

use super::*;

/// A `kB` figure of this process's `/proc/self/status` (`VmRSS`, `VmHWM`), in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    kib / 1024.0
}

/// Resets this process's peak RSS (`VmHWM`) to its current RSS (Linux `clear_refs`, value 5).
fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

/// The rise of this process's peak RSS from the moment it is made: the host's memory cost of a
/// flood (printed for the README's figures, bounded by each case).
struct PeakRss {
    before: f64,
}

impl PeakRss {
    fn start() -> PeakRss {
        let before = status_mib("VmRSS");
        reset_peak_rss();
        PeakRss { before }
    }

    /// Prints the rise under `name` and checks it stays under `limit_mib`.
    fn check(&self, name: &str, limit_mib: f64) {
        let rise = status_mib("VmHWM") - self.before;
        println!("{name}: host peak RSS rise {:.0} MiB", rise.max(0.0));
        assert!(
            rise < limit_mib,
            "{name}: the host's peak RSS rose by {rise:.0} MiB"
        );
    }
}

#[test]
fn a_10_mib_log_line_arrives_intact() {
    let case = Case::new();
    case.run(Duration::from_secs(30), async {
        let (raw, logs) = (Buffer::default(), Logs::default());
        let host = Host::new(
            case.host("long-log-line")
                .stderr(raw.clone())
                .on_log(logs.hook()),
        );
        host.start().await.unwrap();
        eventually(Duration::from_secs(20), "the long log entry", || {
            logs.any(|e| e.message.len() > LONG_LINE)
        })
        .await;
        // Longer than the 64 KiB parsed as hclog JSON (go-plugin's piece size): logged as text,
        // whole; the raw sink gets the JSON line unchanged.
        let expected = long_line();
        assert!(
            logs.any(|e| e.message.len() > LONG_LINE && e.message.contains(&expected)),
            "the long entry arrived changed"
        );
        let raw = String::from_utf8(raw.bytes()).unwrap();
        let json = raw
            .lines()
            .find(|l| l.len() > LONG_LINE)
            .expect("the raw line");
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(value["@message"].as_str(), Some(expected.as_str()));
        host.kill().await;
    });
}

#[test]
fn a_20_mib_stderr_line_passes_through_whole_and_is_logged_in_16_mib_pieces() {
    let case = Case::new();
    case.run(Duration::from_secs(30), async {
        let (raw, logs) = (Buffer::default(), Logs::default());
        let expected = pattern(2 * LONG_LINE);
        let peak = PeakRss::start();
        let host = Host::new(
            case.host("huge-stderr-line")
                .stderr(raw.clone())
                .on_log(logs.hook()),
        );
        host.start().await.unwrap();
        eventually(Duration::from_secs(20), "the whole line", || {
            raw.0.lock().unwrap().len() > expected.len()
        })
        .await;
        // The test keeps the line twice (raw sink, log entries): about 50 MiB of the rise.
        peak.check("huge-stderr-line (20 MiB, kept twice by the test)", 128.0);
        assert!(
            raw.bytes() == format!("{expected}\n").into_bytes(),
            "the raw line arrived changed"
        );
        let pieces: Vec<String> = logs
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.message.clone())
            .collect();
        assert_eq!(
            pieces.concat(),
            expected,
            "the pieces do not add up to the line"
        );
        assert_eq!(
            pieces.iter().map(String::len).collect::<Vec<_>>(),
            [16 << 20, 4 << 20]
        );
        host.kill().await;
    });
}

#[test]
fn a_10_mib_stdout_line_arrives_intact() {
    let case = Case::new();
    case.run(Duration::from_secs(30), async {
        let stdout = Buffer::default();
        let host = Host::new(case.host("long-stdout-line").sync_stdout(stdout.clone()));
        host.ping().await.unwrap();
        eventually(Duration::from_secs(20), "the long stdout line", || {
            stdout.0.lock().unwrap().len() > LONG_LINE
        })
        .await;
        let mut expected = long_line().into_bytes();
        expected.push(b'\n');
        assert!(
            stdout.bytes() == expected,
            "the stdout line arrived changed"
        );
        host.kill().await;
    });
}

#[test]
fn stdout_flood_after_the_handshake_never_blocks_the_plugin() {
    // Captured stdout (GRPCStdio) with no sink on the host: drained and dropped.
    let case = Case::new();
    case.run(Duration::from_secs(40), async {
        let peak = PeakRss::start();
        let host = Host::new(case.host("flood-stdout"));
        let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
        let done = case.file("done");
        eventually(Duration::from_secs(30), "64 MiB of captured stdout", || {
            done.exists()
        })
        .await;
        assert_eq!(double(&mut test, 21).await, 42);
        peak.check("flood-stdout (64 MiB through GRPCStdio)", 48.0);
        drop(test);
        host.kill().await;
        assert!(host.exit_status().unwrap().success());
    });
    drop(case);
    // The real stdout (a plugin writing after its handshake line): drained by the host.
    let case = Case::new();
    case.run(Duration::from_secs(40), async {
        let peak = PeakRss::start();
        let host = Host::new(case.host("flood-raw-stdout"));
        host.start().await.unwrap();
        let done = case.file("done");
        eventually(Duration::from_secs(30), "64 MiB of raw stdout", || {
            done.exists()
        })
        .await;
        peak.check("flood-raw-stdout (64 MiB on the real stdout)", 48.0);
        host.kill().await;
    });
}

#[test]
fn a_16_mib_json_array_on_stderr_is_not_parsed_and_costs_little_memory() {
    // Parsed as JSON, `[0,0,0,…]` of 16 MiB is eight million values: hundreds of MiB of the
    // host's memory for one line the plugin chose. Above 64 KiB it is text.
    let case = Case::new();
    case.run(Duration::from_secs(30), async {
        let longest = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = longest.clone();
        let peak = PeakRss::start();
        let host = Host::new(case.host("json-bomb-stderr-line").on_log(move |_, entry| {
            seen.fetch_max(entry.message.len(), std::sync::atomic::Ordering::SeqCst);
        }));
        host.start().await.unwrap();
        eventually(Duration::from_secs(20), "the 16 MiB line", || {
            longest.load(std::sync::atomic::Ordering::SeqCst) >= 16 << 20
        })
        .await;
        peak.check("json-bomb-stderr-line (16 MiB `[0,0,…]`)", 160.0);
        host.kill().await;
    });
}
