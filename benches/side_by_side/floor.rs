//! The floor: what the kernel alone costs, measured in the same run as the plugins.
//!
//! Two threads joined by a Unix socket pair, with blocking std I/O and no framing: a ping-pong of
//! `payload`-byte messages (the round-trip time is the least a unary call over a Unix socket can
//! take) and a one-way stream of `download` bytes in `chunk`-byte writes (the most a stream can
//! carry). Threads instead of processes: the socket path through the kernel is the same, and a
//! thread switch is, if anything, slightly cheaper than a process switch, so the floor errs low.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Instant;

use crate::runner::Workload;

/// Floor figures of one round.
#[derive(Clone, Copy, Debug)]
pub struct Floor {
    /// Median round-trip time of a ping-pong, µs.
    pub rtt_p50_us: f64,
    /// One-way stream throughput, MiB/s.
    pub mib_s: f64,
}

/// Measures the floor once.
pub fn measure(workload: &Workload) -> Result<Floor, String> {
    let io = |e: std::io::Error| format!("raw Unix socket floor: {e}");
    let rtt_p50_us = ping_pong(workload.payload, workload.warmup, workload.unary).map_err(io)?;
    let mib_s = stream(workload.download_mib << 20, workload.chunk_kib << 10).map_err(io)?;
    eprintln!("floor: ping-pong p50 {rtt_p50_us:.1} µs, stream {mib_s:.0} MiB/s");
    Ok(Floor { rtt_p50_us, mib_s })
}

fn ping_pong(payload: usize, warmup: usize, n: usize) -> std::io::Result<f64> {
    let (mut near, mut far) = UnixStream::pair()?;
    let echo = std::thread::spawn(move || -> std::io::Result<()> {
        let mut buf = vec![0u8; payload];
        loop {
            match far.read_exact(&mut buf) {
                Ok(()) => far.write_all(&buf)?,
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    });
    let mut buf = vec![7u8; payload];
    let mut micros = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let start = Instant::now();
        near.write_all(&buf)?;
        near.read_exact(&mut buf)?;
        if i >= warmup {
            micros.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    drop(near);
    echo.join().expect("echo thread panicked")?;
    Ok(crate::summary::median(&micros))
}

fn stream(size: u64, chunk: u64) -> std::io::Result<f64> {
    let (mut writer, mut reader) = UnixStream::pair()?;
    let start = Instant::now();
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        let zeros = vec![0u8; chunk as usize];
        let mut sent = 0;
        while sent < size {
            let n = chunk.min(size - sent);
            writer.write_all(&zeros[..n as usize])?;
            sent += n;
        }
        Ok(())
    });
    let mut buf = vec![0u8; chunk as usize];
    let mut received = 0u64;
    while received < size {
        match reader.read(&mut buf)? {
            0 => break,
            n => received += n as u64,
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    sender.join().expect("sender thread panicked")?;
    if received != size {
        return Err(std::io::Error::other(format!(
            "received {received} of {size} bytes"
        )));
    }
    Ok(size as f64 / (1 << 20) as f64 / elapsed)
}
