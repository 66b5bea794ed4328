//! Before and instead of the handshake, and what is refused before the plugin runs.

use super::*;

#[test]
fn plugin_exits_before_the_handshake() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let host = Host::new(case.host("exit-early"));
        let err = host.start().await.unwrap_err();
        let text = err.to_string();
        match &err {
            Error::ExitedBeforeConnect {
                status,
                last_stderr,
            } => {
                assert_eq!(status.and_then(|s| s.code()), Some(3), "{text}");
                assert_eq!(
                    last_stderr,
                    &["fault_plugin: giving up before the handshake".to_string()]
                );
            }
            _ => panic!("not ExitedBeforeConnect: {text}"),
        }
        assert_contains(&text, "plugin exited before we could connect");
        assert_contains(&text, "exit status: 3");
        assert_contains(&text, "fault_plugin: giving up before the handshake");
        assert!(host.exited());
    });
}

#[test]
fn plugin_prints_garbage() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let host = Host::new(case.host("garbage"));
        let text = host.start().await.unwrap_err().to_string();
        assert!(
            text.starts_with("Unrecognized remote plugin message: this is not a handshake line\n"),
            "{text}"
        );
        assert_contains(&text, "This usually means");
        assert!(
            host.exited(),
            "the plugin must be killed after a failed start"
        );
    });
}

#[test]
fn plugin_prints_half_a_line_and_hangs_until_the_start_timeout() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let host = Host::new(
            case.host("half-line")
                .start_timeout(Duration::from_millis(500)),
        );
        let err = host.start().await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    what: go_plugin::TimedOut::Start,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.to_string(), "timeout while waiting for plugin to start");
        assert!(host.exited());
    });
}

#[test]
fn plugin_prints_an_endless_line_instead_of_a_handshake() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let host = Host::new(case.host("endless-line"));
        let text = host.start().await.unwrap_err().to_string();
        assert!(
            text.starts_with("Unrecognized remote plugin message: xxxxxxxx"),
            "{text}"
        );
        assert_contains(&text, "(no end of line in the first 65536 bytes)");
        assert!(text.len() < 2000, "the error quotes the whole line");
        assert!(host.exited());
    });
}

#[test]
fn plugin_announces_an_address_nobody_listens_on() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let host = Host::new(case.host("no-listener"));
        host.start().await.unwrap();
        let text = host.ping().await.unwrap_err().to_string();
        let socket = case.tmp().join("nobody-listens-here");
        assert_contains(
            &text,
            &format!(
                "error connecting to the plugin at unix:{}",
                socket.display()
            ),
        );
        assert_contains(&text, "No such file or directory");
        host.kill().await;
        assert!(host.exit_status().unwrap().signal() == Some(libc::SIGKILL));
    });
}

#[test]
fn plugin_accepts_the_connection_and_never_answers() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let host = Host::new(
            case.host("silent-peer")
                .start_timeout(Duration::from_secs(2)),
        );
        host.start().await.unwrap();
        let text = host.ping().await.unwrap_err().to_string();
        assert_contains(&text, "did not finish within 2s");
        assert_contains(&text, "does it expect TLS");
        // The host is not stuck: kill works (hard, as the plugin ignores Shutdown).
        host.kill().await;
        assert!(host.exit_status().unwrap().signal() == Some(libc::SIGKILL));
    });
}

#[test]
fn checksum_mismatch_is_refused_before_the_plugin_runs() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let plugin = rust_example("fault_plugin");
        let host = Host::new(case.host("serve").checksum_sha256(vec![0; 32]));
        let err = host.start().await.unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("checksums did not match"), "{text}");
        match &err {
            Error::ChecksumMismatch {
                path,
                actual,
                expected,
            } => {
                assert_eq!(path, &plugin);
                assert_eq!(actual, &sha256_file(&plugin).unwrap());
                assert_eq!(expected, &vec![0; 32]);
            }
            _ => panic!("not ChecksumMismatch: {text}"),
        }
        assert_contains(&text, &plugin.display().to_string());
        assert!(
            case.pids().is_empty(),
            "the plugin was run before its checksum was checked"
        );
        // The right checksum starts it.
        let host = Host::new(
            case.host("serve")
                .checksum_sha256(sha256_file(&plugin).unwrap()),
        );
        host.ping().await.unwrap();
        host.kill().await;
        assert!(host.exit_status().unwrap().success());
    });
}

#[test]
fn socket_path_over_108_bytes_is_a_clear_error() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let long = case.tmp().join("d".repeat(90));
        // The host's socket directory: refused before anything runs.
        let host = Host::new(
            case.host("serve")
                .unix_socket(UnixSocketConfig::in_dir(long.clone())),
        );
        let text = host.start().await.unwrap_err().to_string();
        assert_contains(&text, "107-byte limit");
        assert!(case.pids().is_empty(), "the plugin was started anyway");
        // The plugin's own TMPDIR: the plugin says why it cannot listen, and the host passes it on.
        let mut command = case.command("serve");
        command.env("TMPDIR", &long);
        let host = Host::new(case.host_for(command));
        let text = host.start().await.unwrap_err().to_string();
        assert_contains(&text, "plugin exited before we could connect");
        assert_contains(&text, "107-byte limit");
        assert_contains(
            &text,
            "set PLUGIN_UNIX_SOCKET_DIR or TMPDIR to a shorter directory",
        );
    });
}

#[test]
fn a_plugin_rewritten_in_place_with_its_old_mtime_is_hashed_again() {
    // Same size, same modification time, other bytes: a digest remembered by (inode, size, mtime)
    // alone would let the changed file run.
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let plugin = case.file("plugin-copy");
        std::fs::copy(rust_example("fault_plugin"), &plugin).unwrap();
        let digest = sha256_file(&plugin).unwrap();
        let launch = || {
            let command = case.command_of(&plugin, "serve");
            Host::new(case.host_for(command).checksum_sha256(digest.clone()))
        };
        let host = launch();
        host.ping().await.unwrap();
        host.kill().await;

        let mtime = std::fs::metadata(&plugin).unwrap().modified().unwrap();
        let mut bytes = std::fs::read(&plugin).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&plugin, &bytes).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&plugin)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let host = launch();
        let text = host.start().await.unwrap_err().to_string();
        assert!(text.starts_with("checksums did not match"), "{text}");
        host.kill().await;
    });
}

#[test]
fn kill_during_a_start_ends_it_and_every_failed_start_says_later_what_happened() {
    let case = Case::new();
    case.run(Duration::from_secs(30), async {
        // Killed while waiting for a handshake that will not come for a minute.
        let slow = || {
            case.host("half-line")
                .start_timeout(Duration::from_secs(60))
        };
        let host = Host::new(slow());
        let starting = tokio::spawn({
            let host = host.clone();
            async move { host.start().await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        tokio::time::timeout(Duration::from_secs(5), host.kill())
            .await
            .expect("kill waited for the start to time out");
        let err = starting.await.unwrap().unwrap_err().to_string();
        assert_contains(&err, "the plugin was killed while it was starting");
        let again = host.start().await.unwrap_err().to_string();
        assert_eq!(
            again,
            "this plugin is not running: it was killed while it was starting; make a new Host"
        );

        // A failed start: later calls name the failure.
        let host = Host::new(case.host("exit-early"));
        host.start().await.unwrap_err();
        let again = host.start().await.unwrap_err().to_string();
        assert_contains(&again, "this plugin is not running: it failed to start (");
        assert_contains(&again, "exit status: 3");

        // A start whose future was dropped.
        let host = Host::new(slow());
        assert!(
            tokio::time::timeout(Duration::from_millis(300), host.start())
                .await
                .is_err()
        );
        let again = host.start().await.unwrap_err().to_string();
        assert_contains(&again, "its start was cancelled before it finished");
        host.kill().await;
    });
}

#[test]
fn a_plugin_swapped_after_its_check_never_runs() {
    // The path is replaced by another program while the checked file is being hashed (a large
    // file keeps the hash busy; the case waits until the host has it open). Executing the path
    // again would run the replacement unchecked; the host executes the file it hashed.
    let case = Case::new();
    case.run(Duration::from_secs(60), async {
        let plugin = case.file("plugin-big");
        std::fs::copy(rust_example("fault_plugin"), &plugin).unwrap();
        // Zeros after the ELF image change nothing when it runs, and make hashing take a while.
        std::fs::File::options()
            .write(true)
            .open(&plugin)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let digest = sha256_file(&plugin).unwrap();
        // A new status-change time, so that the host hashes it again rather than recall it.
        std::thread::sleep(Duration::from_millis(20));
        std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let impostor = case.file("impostor");
        std::fs::write(
            &impostor,
            "#!/bin/sh\n: > \"$FAULT_PID_DIR/$$\"\n: > \"$FAULT_DONE_FILE.impostor\"\nexec sleep 300\n",
        )
        .unwrap();
        std::fs::set_permissions(&impostor, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();

        let host = Host::new(
            case.host_for(case.command_of(&plugin, "serve"))
                .checksum_sha256(digest),
        );
        let starting = tokio::spawn({
            let host = host.clone();
            async move { host.start().await }
        });
        let opened = || open_fds().values().any(|target| target == &plugin.display().to_string());
        let deadline = Instant::now() + Duration::from_secs(20);
        while !opened() {
            assert!(Instant::now() < deadline, "the host never opened the plugin to hash it");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        std::fs::rename(&impostor, &plugin).unwrap();
        starting.await.unwrap().unwrap();
        host.ping().await.unwrap();
        assert!(
            !case.file("done.impostor").exists(),
            "the program swapped in after the check ran"
        );
        host.kill().await;
    });
}
