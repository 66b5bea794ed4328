//! The host of go-plugin's `examples/streaming`, in Rust: it launches `./plugin/streamer`, asks it
//! to use the file given as the only argument, streams a text into it in 10-byte chunks and reads
//! it back, printing what it received.
//!
//! ```text
//! streamer_host myfile      # with ./plugin/streamer being the Go or the Rust streamer plugin
//! ```

use go_plugin::handshake::HandshakeConfig;
use go_plugin::host::{ClientSet, Host, HostConfig};
use go_plugin_schemas::streamer::streamer_service_client::StreamerServiceClient;
use go_plugin_schemas::streamer::{configure, read, write};
use tonic::transport::Channel;

const TEXT: &[u8] = b"Lorem ipsum dolor sit amet";
const CHUNK: usize = 10;

async fn run(host: &Host, path: String) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let mut streamer: StreamerServiceClient<Channel> = host.dispense("streamer").await?;
    streamer
        .configure(configure::Request {
            path,
            chunk_size: CHUNK as i64,
        })
        .await?;
    let chunks: Vec<_> = TEXT
        .chunks(CHUNK)
        .map(|c| write::RequestChunk {
            bytes_to_write: c.to_vec(),
        })
        .collect();
    match streamer.write(tokio_stream::iter(chunks)).await {
        Ok(_) => {}
        // go-plugin's Go streamer ends `Write` without a response message (its Go client accepts
        // the resulting EOF); tonic reports that as "Missing response message".
        Err(status)
            if status.code() == tonic::Code::Internal
                && status.message() == "Missing response message." => {}
        Err(status) => return Err(status.into()),
    }
    let mut received = Vec::new();
    let mut stream = streamer.read(read::Request {}).await?.into_inner();
    while let Some(chunk) = stream.message().await? {
        received.extend_from_slice(&chunk.read_bytes);
    }
    Ok(received)
}

#[tokio::main]
async fn main() {
    go_plugin::log::init_host().ok();
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: streamer_host FILE");
        std::process::exit(2);
    };
    let plugins = ClientSet::new().plugin("streamer", |c| {
        // go-plugin's example host limits messages to 1000 bytes; the plugin streams in chunks.
        StreamerServiceClient::new(c.channel())
            .max_decoding_message_size(1000)
            .max_encoding_message_size(1000)
    });
    let config = HostConfig::new(HandshakeConfig::new(1, "BASIC_PLUGIN", "hello"))
        .plugins(plugins)
        .command(std::process::Command::new("./plugin/streamer"));
    let host = Host::new(config);
    let result = run(&host, path).await;
    host.kill().await;
    match result {
        Ok(received) => println!(
            "received {} bytes: {}",
            received.len(),
            String::from_utf8_lossy(&received)
        ),
        Err(e) => {
            println!("error: {e}");
            std::process::exit(1);
        }
    }
}
