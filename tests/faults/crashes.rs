//! Plugins that crash, refuse to stop, or lose their host.

use super::*;

#[test]
fn plugin_crashes_in_the_middle_of_a_unary_call() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let (host_log, _capture) = capture_host_log();
        let host = Host::new(case.host("serve"));
        let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
        assert_eq!(double(&mut test, 2).await, 4);
        let status = test.double(TestRequest { input: -1 }).await.unwrap_err();
        println!("crash mid-call: {status}");
        assert!(
            matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
            ),
            "{status}"
        );
        tokio::time::timeout(Duration::from_secs(5), host.exited_token().cancelled())
            .await
            .expect("the crash is noticed");
        assert_eq!(host.exit_status().unwrap().signal(), Some(libc::SIGABRT));
        let status = test.double(TestRequest { input: 1 }).await.unwrap_err();
        println!("after the crash: {status}");
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status}");
        assert_crash_reported(&host_log);
        drop(test);
        host.kill().await;
    });
}

#[test]
fn plugin_crashes_in_the_middle_of_a_stream() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let (host_log, _capture) = capture_host_log();
        let host = Host::new(case.host("serve"));
        let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let mut replies = test
            .stream(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        for n in 1..=3 {
            tx.send(TestRequest { input: n }).await.unwrap();
            assert_eq!(replies.message().await.unwrap().unwrap().output, n);
        }
        tx.send(TestRequest { input: -1 }).await.unwrap();
        let status = replies.message().await.unwrap_err();
        println!("crash mid-stream: {status}");
        assert!(
            matches!(
                status.code(),
                tonic::Code::Unavailable
                    | tonic::Code::Unknown
                    | tonic::Code::Internal
                    | tonic::Code::Cancelled
            ),
            "{status}"
        );
        tokio::time::timeout(Duration::from_secs(5), host.exited_token().cancelled())
            .await
            .expect("the crash is noticed");
        assert_eq!(host.exit_status().unwrap().signal(), Some(libc::SIGABRT));
        assert_crash_reported(&host_log);
        drop((tx, replies, test));
        host.kill().await;
    });
}

#[test]
fn plugin_that_ignores_shutdown_is_killed_after_the_grace_period() {
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let logs = Logs::default();
        let host = Host::new(case.host("ignore-shutdown").on_log(logs.hook()));
        host.ping().await.unwrap();
        host.kill().await;
        assert!(
            logs.any(|e| e.message == "asked to shut down; not going anywhere"),
            "the plugin never got the Shutdown request"
        );
        assert_eq!(host.exit_status().unwrap().signal(), Some(libc::SIGKILL));
    });
}

#[test]
fn plugins_die_with_a_host_that_is_killed() {
    // "serve": a Rust plugin (host-side death signal and its own parent watch); "no-listener": a
    // plugin that watches nothing, so only the host side can take it along.
    for mode in ["serve", "no-listener"] {
        let case = Case::new();
        case.run(Duration::from_secs(20), async {
            let mut host = case
                .command("host")
                .arg(mode)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut line = String::new();
            std::io::BufReader::new(host.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let (pid, address) = line.trim().split_once(' ').expect("<pid> <address>");
            let pid: u32 = pid.parse().unwrap();
            assert!(process_alive(pid));
            host.kill().unwrap();
            host.wait().unwrap();
            // Within 2 s, as the issue asks (the parent watch polls every 0.5 s).
            let deadline = Instant::now() + Duration::from_secs(2);
            while process_alive(pid) {
                assert!(
                    Instant::now() < deadline,
                    "{mode}: plugin {pid} outlived its host"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if mode == "serve" {
                assert!(
                    !Path::new(address).exists(),
                    "the plugin left its socket {address}"
                );
            }
        });
    }
}

#[test]
fn a_netrpc_plugin_that_never_answers_quit_is_killed_after_the_grace_period() {
    // A stopped process is the most wedged plugin there is: its socket accepts Control.Quit and
    // nothing ever answers. kill() once waited for that answer forever.
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let mut command = Command::new(rust_example("grpctest_plugin"));
        command.arg("--netrpc").env("TMPDIR", case.tmp());
        let host = Host::new(
            HostConfig::new(handshake())
                .allowed_protocols(&[Protocol::NetRpc])
                .plugins(netrpc_test_plugins())
                .command(command),
        );
        let test: NetRpcTest = host.dispense("test").await.unwrap();
        let pid = host.reattach_config().unwrap().pid;
        // SAFETY: kill(2) of the plugin this case started.
        unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
        let started = Instant::now();
        host.kill().await;
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(host.exit_status().unwrap().signal(), Some(libc::SIGKILL));
        drop(test);
    });
}

#[test]
fn a_plugin_started_with_stderr_closed_serves_and_survives_a_panic() {
    // Descriptor 2 closed (`2>&-`): the plugin has nowhere to log and its panic hook nowhere to
    // write; neither may stop it, hang it or turn a caught panic into an abort.
    let case = Case::new();
    case.run(Duration::from_secs(20), async {
        let command = case.shell(r#"exec "$0" serve 2>&-"#);
        let host = Host::new(case.host_for(command));
        let mut test: TestClient<Channel> = host.dispense("test").await.unwrap();
        assert_eq!(double(&mut test, 2).await, 4);
        let status = test
            .panic(go_plugin_schemas::grpctest::PanicRequest::default())
            .await
            .unwrap_err();
        println!("panic with stderr closed: {status}");
        assert_eq!(double(&mut test, 3).await, 6);
        assert!(!host.exited());
        drop(test);
        host.kill().await;
    });
}
