//! Asking a plugin what it serves: gRPC server reflection, the client side.
//!
//! go-plugin's gRPC server registers reflection (`reflection.Register`), and so does this crate's
//! `serve`; the host can therefore learn every service and message at run time:
//!
//! ```text
//! ServerReflectionInfo (a bidirectional stream; one request, one response per stream here)
//!   list_services                       → names of every service
//!   file_containing_symbol("proto.KV")  → the file defining it and the files it imports
//!   file_by_filename("x.proto")         → a file still missing
//! ```
//!
//! The files (serialized `FileDescriptorProto`s) become a [`DescriptorPool`], from which
//! messages are encoded and decoded dynamically. `grpc.reflection.v1` is asked first;
//! servers older than grpc-go 1.57 only have `v1alpha`, whose messages are the same on the wire,
//! so the v1 request is re-decoded as a v1alpha one.
//!
//! The plugin answers, so it is bounded: each question gets [`ASK_TIMEOUT`], and a lookup stops
//! with an error past [`MAX_FILES`] files or [`MAX_FILE_BYTES`] bytes of descriptors (a plugin
//! naming ever new imports would otherwise be asked for ever).

use std::collections::{BTreeMap, BTreeSet};

use prost::Message;
use prost_reflect::DescriptorPool;
use tonic::transport::Channel;
use tonic_reflection::pb::{v1, v1alpha};

use v1::server_reflection_request::MessageRequest;
use v1::server_reflection_response::MessageResponse;

/// How long one reflection question may take.
const ASK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The most descriptor files one lookup collects.
const MAX_FILES: usize = 1024;

/// The most descriptor bytes one lookup collects.
const MAX_FILE_BYTES: usize = 64 << 20;

/// The reflection client, remembering which protocol version the server speaks.
pub struct Reflection {
    channel: Channel,
    alpha: bool,
}

impl Reflection {
    /// A client over the plugin's channel.
    pub fn new(channel: Channel) -> Reflection {
        Reflection {
            channel,
            alpha: false,
        }
    }

    /// One request, one response, within [`ASK_TIMEOUT`].
    async fn ask(&mut self, request: MessageRequest) -> Result<MessageResponse, String> {
        tokio::time::timeout(ASK_TIMEOUT, self.ask_unbounded(request))
            .await
            .map_err(|_| format!("the plugin's reflection did not answer within {ASK_TIMEOUT:?}"))?
    }

    async fn ask_unbounded(&mut self, request: MessageRequest) -> Result<MessageResponse, String> {
        let request = v1::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        };
        if !self.alpha {
            match ask_v1(self.channel.clone(), request.clone()).await {
                Err(status) if status.code() == tonic::Code::Unimplemented => self.alpha = true,
                other => return unpack(other),
            }
        }
        unpack(ask_v1alpha(self.channel.clone(), request).await)
    }

    /// Every service the plugin serves, sorted.
    pub async fn list_services(&mut self) -> Result<Vec<String>, String> {
        match self
            .ask(MessageRequest::ListServices(String::new()))
            .await?
        {
            MessageResponse::ListServicesResponse(list) => {
                let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
                names.sort();
                Ok(names)
            }
            other => Err(format!("unexpected reflection answer {other:?}")),
        }
    }

    /// Descriptors for `symbols` (services or messages) and everything they import. Symbols the
    /// server cannot describe are returned with the reason instead of failing the whole pool.
    pub async fn pool_for(
        &mut self,
        symbols: &[String],
    ) -> Result<(DescriptorPool, Vec<(String, String)>), String> {
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut failed = Vec::new();
        for symbol in symbols {
            match self
                .ask(MessageRequest::FileContainingSymbol(symbol.clone()))
                .await
            {
                Ok(answer) => add_files(&mut files, answer)?,
                Err(reason) => failed.push((symbol.clone(), reason)),
            }
        }
        // Each answer carries the imports too (one stream per request); fetch any left out.
        let mut asked = BTreeSet::new();
        loop {
            let missing: Vec<String> = files
                .values()
                .filter_map(|bytes| prost_types::FileDescriptorProto::decode(&bytes[..]).ok())
                .flat_map(|f| f.dependency)
                .filter(|d| !files.contains_key(d) && !asked.contains(d))
                .collect();
            if missing.is_empty() {
                break;
            }
            for name in missing {
                asked.insert(name.clone());
                let answer = self
                    .ask(MessageRequest::FileByFilename(name.clone()))
                    .await
                    .map_err(|e| format!("the plugin's reflection has no file {name}: {e}"))?;
                add_files(&mut files, answer)?;
            }
        }
        Ok((build_pool(files.values())?, failed))
    }
}

/// Adds the files of a `file_descriptor_response` (or reports the server's error), within
/// [`MAX_FILES`] and [`MAX_FILE_BYTES`].
fn add_files(files: &mut BTreeMap<String, Vec<u8>>, answer: MessageResponse) -> Result<(), String> {
    match answer {
        MessageResponse::FileDescriptorResponse(response) => {
            for bytes in response.file_descriptor_proto {
                let file = prost_types::FileDescriptorProto::decode(&bytes[..])
                    .map_err(|e| format!("the plugin sent an unreadable file descriptor: {e}"))?;
                files.entry(file.name().to_string()).or_insert(bytes);
                let total: usize = files.values().map(Vec::len).sum();
                if files.len() > MAX_FILES || total > MAX_FILE_BYTES {
                    return Err(format!(
                        "the plugin's reflection sent more than {MAX_FILES} files or \
                         {MAX_FILE_BYTES} bytes of descriptors for one lookup; giving up"
                    ));
                }
            }
            Ok(())
        }
        other => Err(format!("unexpected reflection answer {other:?}")),
    }
}

/// A pool from serialized files in any order (encoded as one `FileDescriptorSet`, field 1 each,
/// so that custom options survive).
fn build_pool<'a>(files: impl Iterator<Item = &'a Vec<u8>>) -> Result<DescriptorPool, String> {
    let mut set = Vec::new();
    for file in files {
        prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut set);
        prost::encoding::encode_varint(file.len() as u64, &mut set);
        set.extend_from_slice(file);
    }
    DescriptorPool::decode(&set[..])
        .map_err(|e| format!("the plugin's descriptors do not fit together: {e}"))
}

fn unpack(
    answer: Result<v1::ServerReflectionResponse, tonic::Status>,
) -> Result<MessageResponse, String> {
    let answer = answer.map_err(|status| {
        if status.code() == tonic::Code::Unimplemented {
            "the plugin does not serve gRPC reflection (grpc.reflection.v1 or v1alpha); a Rust \
             plugin serves it when built with the go-plugin feature `reflection`"
                .to_string()
        } else {
            format!("reflection failed: {}", status.message())
        }
    })?;
    match answer.message_response {
        Some(MessageResponse::ErrorResponse(e)) => Err(e.error_message),
        Some(response) => Ok(response),
        None => Err("empty reflection answer".into()),
    }
}

async fn ask_v1(
    channel: Channel,
    request: v1::ServerReflectionRequest,
) -> Result<v1::ServerReflectionResponse, tonic::Status> {
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel);
    let mut answers = client
        .server_reflection_info(tokio_stream::once(request))
        .await?
        .into_inner();
    answers
        .message()
        .await?
        .ok_or_else(|| tonic::Status::unavailable("reflection stream ended without an answer"))
}

async fn ask_v1alpha(
    channel: Channel,
    request: v1::ServerReflectionRequest,
) -> Result<v1::ServerReflectionResponse, tonic::Status> {
    let request = v1alpha::ServerReflectionRequest::decode(&request.encode_to_vec()[..])
        .map_err(|e| tonic::Status::internal(e.to_string()))?;
    let mut client = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let mut answers = client
        .server_reflection_info(tokio_stream::once(request))
        .await?
        .into_inner();
    let answer = answers
        .message()
        .await?
        .ok_or_else(|| tonic::Status::unavailable("reflection stream ended without an answer"))?;
    v1::ServerReflectionResponse::decode(&answer.encode_to_vec()[..])
        .map_err(|e| tonic::Status::internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_collects_a_bounded_number_of_files() {
        let mut files = BTreeMap::new();
        let answer = |names: std::ops::Range<usize>| {
            MessageResponse::FileDescriptorResponse(v1::FileDescriptorResponse {
                file_descriptor_proto: names
                    .map(|n| {
                        prost_types::FileDescriptorProto {
                            name: Some(format!("f{n}.proto")),
                            dependency: vec![format!("f{}.proto", n + 1)],
                            ..Default::default()
                        }
                        .encode_to_vec()
                    })
                    .collect(),
            })
        };
        add_files(&mut files, answer(0..MAX_FILES)).unwrap();
        let err = add_files(&mut files, answer(MAX_FILES..MAX_FILES + 1)).unwrap_err();
        assert!(err.contains("giving up"), "{err}");
    }

    #[test]
    fn files_in_any_order_make_one_pool() {
        let set =
            prost_types::FileDescriptorSet::decode(go_plugin_schemas::kv::FILE_DESCRIPTOR_SET)
                .unwrap();
        let mut files: Vec<Vec<u8>> = set.file.iter().map(|f| f.encode_to_vec()).collect();
        files.reverse();
        let pool = build_pool(files.iter()).unwrap();
        assert!(pool.get_service_by_name("proto.KV").is_some());
    }
}
