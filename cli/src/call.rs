//! `goplugin call`: one gRPC method, JSON in, JSON out, without generated code.
//!
//! The method's request and response types come from the plugin's reflection; the JSON request
//! becomes a [`DynamicMessage`] (proto3 JSON mapping: bytes in base64, 64-bit integers as
//! strings or numbers, field names as written in the .proto or in lowerCamelCase), travels
//! through a codec that encodes and decodes by descriptor, and each response is printed as JSON
//! as it arrives (server streams message by message).

use futures_util::StreamExt;
use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor, MethodDescriptor, SerializeOptions};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

use crate::reflect::Reflection;

/// Encodes [`DynamicMessage`]s and decodes them with the response descriptor.
struct DynamicCodec(MessageDescriptor);

struct DynamicEncoder;
struct DynamicDecoder(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> DynamicEncoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> DynamicDecoder {
        DynamicDecoder(self.0.clone())
    }
}

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn encode(&mut self, item: DynamicMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item.encode(dst)
            .map_err(|e| tonic::Status::internal(format!("encoding the request: {e}")))
    }
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Self::Error> {
        DynamicMessage::decode(self.0.clone(), src)
            .map(Some)
            .map_err(|e| tonic::Status::internal(format!("decoding the response: {e}")))
    }
}

/// `package.Service/Method` (or `package.Service.Method`) split in two.
pub fn split_method(text: &str) -> Result<(String, String), String> {
    let text = text.trim_start_matches('/');
    let split = text.rsplit_once('/').or_else(|| text.rsplit_once('.'));
    match split {
        Some((service, method)) if !service.is_empty() && !method.is_empty() => {
            Ok((service.to_string(), method.to_string()))
        }
        _ => Err(format!(
            "{text:?} is not SERVICE/METHOD (e.g. proto.KV/Get); `goplugin inspect` lists them"
        )),
    }
}

/// Finds the method through reflection.
async fn resolve(
    channel: Channel,
    service: &str,
    method: &str,
) -> Result<MethodDescriptor, String> {
    let mut reflection = Reflection::new(channel);
    let (pool, failed) = reflection.pool_for(&[service.to_string()]).await?;
    let Some(descriptor) = pool.get_service_by_name(service) else {
        let known = reflection.list_services().await.unwrap_or_default();
        let reason = failed
            .first()
            .map(|(_, r)| format!(" ({r})"))
            .unwrap_or_default();
        return Err(format!(
            "the plugin has no service {service:?}{reason}; it serves: {}",
            known.join(", ")
        ));
    };
    let found = descriptor.methods().find(|m| m.name() == method);
    found.ok_or_else(|| {
        format!(
            "service {service} has no method {method:?}; its methods: {}",
            descriptor
                .methods()
                .map(|m| m.name().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Turns the JSON text into request messages (a client stream takes an array).
fn requests(method: &MethodDescriptor, json: &str) -> Result<Vec<DynamicMessage>, String> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| format!("the request is not JSON: {e} (in {json:?})"))?;
    let values = match value {
        serde_json::Value::Array(items) if method.is_client_streaming() => items,
        serde_json::Value::Array(_) => {
            return Err(format!(
                "{} takes one message, not an array; give a JSON object",
                method.full_name()
            ))
        }
        other => vec![other],
    };
    let input = method.input();
    values
        .into_iter()
        .map(|v| {
            DynamicMessage::deserialize(input.clone(), v).map_err(|e| {
                let fields: Vec<String> =
                    input.fields().map(|f| f.json_name().to_string()).collect();
                format!(
                    "the request does not fit {}: {e}\n{} has the fields: {}",
                    input.full_name(),
                    input.name(),
                    if fields.is_empty() {
                        "none (send {})".into()
                    } else {
                        fields.join(", ")
                    }
                )
            })
        })
        .collect()
}

/// Prints one response message as JSON on stdout.
fn print(message: &DynamicMessage, compact: bool) -> Result<(), String> {
    let options = SerializeOptions::new();
    let mut out = Vec::new();
    let result = if compact {
        message.serialize_with_options(&mut serde_json::Serializer::new(&mut out), &options)
    } else {
        message.serialize_with_options(&mut serde_json::Serializer::pretty(&mut out), &options)
    };
    result.map_err(|e| format!("the response cannot be shown as JSON: {e}"))?;
    println!("{}", String::from_utf8_lossy(&out));
    Ok(())
}

/// Calls `method_text` with the JSON request and prints the answers.
pub async fn run(
    channel: Channel,
    method_text: &str,
    json: &str,
    compact: bool,
) -> Result<(), String> {
    let (service, method) = split_method(method_text)?;
    let method = resolve(channel.clone(), &service, &method).await?;
    let messages = requests(&method, json)?;
    let path: tonic::codegen::http::uri::PathAndQuery =
        format!("/{}/{}", method.parent_service().full_name(), method.name())
            .parse()
            .map_err(|e| format!("bad method path: {e}"))?;
    let codec = DynamicCodec(method.output());
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| format!("the plugin's connection is not ready: {e}"))?;
    let failed = |status: tonic::Status| {
        let mut text = format!(
            "{}/{} failed: {:?}: {}",
            method.parent_service().full_name(),
            method.name(),
            status.code(),
            status.message()
        );
        if status.code() == tonic::Code::Unimplemented {
            text.push_str("\n(the plugin lists the method but does not implement it)");
        }
        text
    };
    match (method.is_client_streaming(), method.is_server_streaming()) {
        (false, false) => {
            let request = messages.into_iter().next().expect("one message");
            let answer = grpc
                .unary(tonic::Request::new(request), path, codec)
                .await
                .map_err(failed)?;
            print(answer.get_ref(), compact)
        }
        (false, true) => {
            let request = messages.into_iter().next().expect("one message");
            let mut answers = grpc
                .server_streaming(tonic::Request::new(request), path, codec)
                .await
                .map_err(failed)?
                .into_inner();
            while let Some(answer) = answers.next().await {
                print(&answer.map_err(failed)?, compact)?;
            }
            Ok(())
        }
        (true, false) => {
            let stream = tokio_stream::iter(messages);
            let answer = grpc
                .client_streaming(tonic::Request::new(stream), path, codec)
                .await
                .map_err(failed)?;
            print(answer.get_ref(), compact)
        }
        (true, true) => {
            let stream = tokio_stream::iter(messages);
            let mut answers = grpc
                .streaming(tonic::Request::new(stream), path, codec)
                .await
                .map_err(failed)?
                .into_inner();
            while let Some(answer) = answers.next().await {
                print(&answer.map_err(failed)?, compact)?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_split_on_slash_or_last_dot() {
        assert_eq!(
            split_method("tfplugin5.Provider/GetSchema").unwrap(),
            ("tfplugin5.Provider".into(), "GetSchema".into())
        );
        assert_eq!(
            split_method("/proto.KV/Get").unwrap(),
            ("proto.KV".into(), "Get".into())
        );
        assert_eq!(
            split_method("proto.KV.Get").unwrap(),
            ("proto.KV".into(), "Get".into())
        );
        assert!(split_method("Get").is_err());
    }

    #[test]
    fn json_requests_are_checked_against_the_descriptor() {
        let pool =
            prost_reflect::DescriptorPool::decode(go_plugin_schemas::kv::FILE_DESCRIPTOR_SET)
                .unwrap();
        let put = pool
            .get_service_by_name("proto.KV")
            .unwrap()
            .methods()
            .find(|m| m.name() == "Put")
            .unwrap();
        let ok = requests(&put, r#"{"key":"a","value":"aGk="}"#).unwrap();
        assert_eq!(ok.len(), 1);
        let err = requests(&put, r#"{"kee":"a"}"#).unwrap_err();
        assert!(
            err.contains("PutRequest has the fields: key, value"),
            "{err}"
        );
        let err = requests(&put, "[{}]").unwrap_err();
        assert!(err.contains("not an array"), "{err}");
    }
}
