//! Plugins short of a resource: out of file descriptors, a plugin's accept loop must wait, not
//! spin, and serve again once descriptors are free.

use super::*;

/// User plus system CPU time of a process, in clock ticks (`/proc/<pid>/stat`, fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn a_plugin_out_of_file_descriptors_backs_off_accepting_and_recovers() {
    let case = Case::new();
    case.run(Duration::from_secs(30), async {
        // A plugin allowed few descriptors, then more connections than it can take: each accept
        // fails with EMFILE for as long as they wait in the backlog.
        let command = case.shell(r#"ulimit -n 48 && exec "$0" serve"#);
        let host = Host::new(case.host_for(command));
        host.ping().await.unwrap();
        let address = host.reattach_config().unwrap().address;
        let mut crowd = Vec::new();
        for _ in 0..80 {
            crowd.push(tokio::net::UnixStream::connect(&address).await.unwrap());
        }
        let pid = case.pids()[0];
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = cpu_ticks(pid);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let used = cpu_ticks(pid) - before;
        // SAFETY: sysconf has no preconditions.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        println!("plugin CPU while out of descriptors: {used} ticks in 2 s ({per_second}/s)");
        assert!(
            used < per_second / 2,
            "the plugin spun on accept errors: {used} ticks of CPU in 2 s"
        );
        drop(crowd);
        tokio::time::timeout(Duration::from_secs(10), async {
            while host.ping().await.is_err() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the plugin serves again once descriptors are free");
        host.kill().await;
    });
}
