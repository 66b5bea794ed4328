//! gob over an async byte stream: one encoder per direction for the stream's life (type
//! definitions are sent once per stream), messages framed by their gob length prefix.
//!
//! The codec itself is the `gobwire` crate (evaluated against Go's `encoding/gob` in both
//! directions by its own corpus tests and here by the net/rpc cross-tests); this file only moves
//! its messages over tokio streams.
//!
//! ## Bounds
//!
//! gob itself accepts messages up to 8 GiB. A peer controls every length here, so a reader
//! refuses (with an error naming the limit, which ends the connection):
//! * a message over [`MAX_MESSAGE`] (64 MiB: far above any net/rpc plugin argument seen in
//!   practice, far below what would hurt a host);
//! * a value whose messages together pass [`MAX_MESSAGE`], or that is spread over more than
//!   [`MAX_MESSAGES_PER_VALUE`] messages. gob splits a value only when an interface holds a type
//!   the stream has not defined yet, so real values span a handful; the decoder re-scans the
//!   buffered value on every message, and the count bound keeps that work linear in practice;
//! * more than [`MAX_TYPES_PER_STREAM`] type definitions (the type table lives as long as the
//!   stream).

use gobwire::{Decode, Decoder, Encode, Encoder, Progress};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::Error;

/// The largest gob message, and the largest value (all its messages together), a reader accepts.
pub const MAX_MESSAGE: u64 = 64 << 20;

/// The most messages one value may be spread over.
pub const MAX_MESSAGES_PER_VALUE: usize = 64;

/// The most type definitions one stream may send (each is kept for the stream's life).
pub const MAX_TYPES_PER_STREAM: usize = 4096;

/// The reading half: decodes values, one or more messages each.
pub struct GobReader<R> {
    reader: R,
    decoder: Decoder,
    types_defined: usize,
}

impl<R: AsyncRead + Unpin> GobReader<R> {
    /// A reader with a fresh type table.
    pub fn new(reader: R) -> Self {
        GobReader {
            reader,
            decoder: Decoder::new(),
            types_defined: 0,
        }
    }

    /// Reads messages until a value is complete and buffered; `Ok(false)` at a clean end of the
    /// stream. Take the value with [`GobReader::decode_buffered`] or
    /// [`GobReader::discard_buffered`].
    pub async fn fill(&mut self) -> Result<bool, Error> {
        let mut messages = 0usize;
        let mut bytes = 0u64;
        loop {
            let Some(body) = read_message(&mut self.reader).await? else {
                return if messages > 0 {
                    Err(gob_err("the stream ended inside a value"))
                } else {
                    Ok(false)
                };
            };
            match self.decoder.push_message(&body).map_err(gob)? {
                Progress::TypeDefinition(_) => {
                    self.types_defined += 1;
                    if self.types_defined > MAX_TYPES_PER_STREAM {
                        return Err(gob_err(&format!(
                            "more than {MAX_TYPES_PER_STREAM} type definitions on one stream"
                        )));
                    }
                    continue;
                }
                Progress::Ready => return Ok(true),
                Progress::NeedMore => {}
            }
            messages += 1;
            bytes += body.len() as u64;
            if bytes > MAX_MESSAGE {
                return Err(gob_err(&format!(
                    "a value of more than {MAX_MESSAGE} bytes is over the limit"
                )));
            }
            if messages >= MAX_MESSAGES_PER_VALUE {
                return Err(gob_err(&format!(
                    "a value spread over more than {MAX_MESSAGES_PER_VALUE} messages is over the \
                     limit"
                )));
            }
        }
    }

    /// Decodes the value [`GobReader::fill`] buffered. A decoding error leaves the stream usable.
    pub fn decode_buffered<T: Decode + Default>(&mut self) -> Result<T, Error> {
        self.decoder.decode::<T>().map_err(gob)
    }

    /// Drops the value [`GobReader::fill`] buffered (still learning the types it defines).
    pub fn discard_buffered(&mut self) -> Result<(), Error> {
        self.decoder.discard().map_err(gob)
    }

    /// The next value; `None` at a clean end of the stream.
    pub async fn read<T: Decode + Default>(&mut self) -> Result<Option<T>, Error> {
        if !self.fill().await? {
            return Ok(None);
        }
        self.decode_buffered().map(Some)
    }

    /// Reads the next value and throws it away (a body nobody wants, e.g. after an error reply).
    pub async fn skip(&mut self) -> Result<(), Error> {
        if !self.fill().await? {
            return Err(gob_err("the stream ended before a body"));
        }
        self.discard_buffered()
    }
}

/// gob's encoding state for one direction of a stream: each type is defined once.
#[derive(Default)]
pub struct GobEncoder {
    encoder: Encoder,
}

impl GobEncoder {
    /// Encodes the values (header and body) as the bytes of their messages.
    pub fn encode(&mut self, values: &[&(dyn Encode + Sync)]) -> Result<Vec<u8>, Error> {
        let mut buf = Vec::new();
        for value in values {
            self.encoder.encode_into(*value, &mut buf).map_err(gob)?;
        }
        Ok(buf)
    }
}

/// The writing half: encodes values, sending each type definition once.
pub struct GobWriter<W> {
    writer: W,
    encoder: GobEncoder,
}

impl<W: AsyncWrite + Unpin> GobWriter<W> {
    /// A writer with a fresh type table.
    pub fn new(writer: W) -> Self {
        GobWriter {
            writer,
            encoder: GobEncoder::default(),
        }
    }

    /// Encodes the values (header and body) and writes them in one piece, then flushes.
    pub async fn write(&mut self, values: &[&(dyn Encode + Sync)]) -> Result<(), Error> {
        let bytes = self.encoder.encode(values)?;
        write_bytes(&mut self.writer, &bytes).await
    }

    /// Closes the writing side.
    pub async fn shutdown(&mut self) {
        let _ = self.writer.shutdown().await;
    }
}

/// Writes encoded messages and flushes.
pub async fn write_bytes<W: AsyncWrite + Unpin>(writer: &mut W, bytes: &[u8]) -> Result<(), Error> {
    let io = |e| Error::io("writing a net/rpc message", e);
    writer.write_all(bytes).await.map_err(io)?;
    writer.flush().await.map_err(io)
}

/// One length-prefixed gob message; `None` at a clean end of the stream.
async fn read_message<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Vec<u8>>, Error> {
    let io = |e| Error::io("reading a net/rpc message", e);
    let mut first = [0u8; 1];
    match r.read_exact(&mut first).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(io(e)),
    }
    let len = if first[0] < 0x80 {
        u64::from(first[0])
    } else {
        let width = usize::from(first[0].wrapping_neg());
        if width > 8 {
            return Err(gob_err("bad message length prefix"));
        }
        let mut bytes = [0u8; 8];
        r.read_exact(&mut bytes[..width]).await.map_err(io)?;
        bytes[..width]
            .iter()
            .fold(0u64, |acc, b| acc << 8 | u64::from(*b))
    };
    if len > MAX_MESSAGE {
        return Err(gob_err(&format!(
            "a message of {len} bytes is over the limit of {MAX_MESSAGE}"
        )));
    }
    // The buffer grows with what arrives: a length prefix alone must not make the reader allocate
    // it.
    let mut body = Vec::with_capacity(len.min(64 << 10) as usize);
    (&mut *r)
        .take(len)
        .read_to_end(&mut body)
        .await
        .map_err(io)?;
    if (body.len() as u64) < len {
        return Err(io(std::io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(Some(body))
}

fn gob(e: gobwire::Error) -> Error {
    Error::Gob(e.to_string())
}

fn gob_err(what: &str) -> Error {
    Error::Gob(what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gob's signed integer encoding (encode.go, `encodeInt`), for type ids (64 and up).
    fn small_int(i: i64) -> Vec<u8> {
        let u = if i < 0 {
            (!i as u64) << 1 | 1
        } else {
            (i as u64) << 1
        };
        let bytes = u.to_be_bytes();
        let significant = &bytes[u.leading_zeros() as usize / 8..];
        [&[(significant.len() as u8).wrapping_neg()][..], significant].concat()
    }

    /// A Go-style stream of one `struct{ Any interface{} }` value holding `Inner{Name: "a"}`,
    /// split as Go splits it when the interface's type is new to the stream: the outer value up
    /// to the interface's type name, then `extra_definitions` unused type definitions and the
    /// definition of `Inner`, one message each, then the rest of the value.
    fn split_value(extra_definitions: i64) -> Vec<u8> {
        let mut messages: Vec<Vec<u8>> = Vec::new();
        // type 65: struct Holder { Any interface{} } (field type 8 is interface).
        messages.push(
            [
                &small_int(-65)[..],
                b"\x03\x01\x01\x06Holder\x01",
                &small_int(65),
            ]
            .concat()
            .into_iter()
            .chain(*b"\x00\x01\x01\x01\x03Any\x01\x10\x00\x00\x00")
            .collect(),
        );
        // The value of type 65: field 1, an interface whose concrete type is named "Inner".
        messages.push([&small_int(65)[..], b"\x01\x05Inner"].concat());
        // struct Inner { Name string } as type `id` (field type 6 is string).
        let definition = |id: i64| -> Vec<u8> {
            [
                &small_int(-id)[..],
                b"\x03\x01\x01\x05Inner\x01",
                &small_int(id),
                b"\x00\x01\x01\x01\x04Name\x01\x0c\x00\x00\x00",
            ]
            .concat()
        };
        for k in 0..extra_definitions {
            messages.push(definition(67 + k));
        }
        messages.push(definition(66));
        // The concrete value: type 66, 4 bytes, {Name: "a"}; then the end of the outer struct.
        messages.push([&small_int(66)[..], b"\x04\x01\x01a\x00\x00"].concat());
        let mut stream = Vec::new();
        for message in &messages {
            gobwire::frame(&mut stream, message);
        }
        stream
    }

    #[tokio::test]
    async fn a_value_split_over_a_few_messages_is_read() {
        let stream = split_value(3);
        let mut reader = GobReader::new(&stream[..]);
        let value: gobwire::Dynamic = reader.read().await.unwrap().unwrap();
        assert!(format!("{value:?}").contains("\"a\""), "{value:?}");
        assert!(reader.read::<gobwire::Dynamic>().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_value_spread_over_too_many_messages_is_refused() {
        let stream = split_value(MAX_MESSAGES_PER_VALUE as i64);
        let err = GobReader::new(&stream[..])
            .read::<gobwire::Dynamic>()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("messages is over the limit"), "{err}");
    }

    #[tokio::test]
    async fn a_message_over_the_limit_is_refused_before_it_is_read() {
        let mut stream = Vec::new();
        gobwire::frame(&mut stream, b"");
        // A prefix announcing MAX_MESSAGE + 1 bytes, and nothing after it.
        let len = MAX_MESSAGE + 1;
        let bytes = len.to_be_bytes();
        let stream = [&[0xfc][..], &bytes[4..]].concat();
        let err = GobReader::new(&stream[..])
            .read::<gobwire::Dynamic>()
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("over the limit"), "{err}");
    }
}
