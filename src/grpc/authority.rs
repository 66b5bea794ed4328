//! Accepting requests whose `:authority` is a socket path, as grpc-go does.
//!
//! gRPC clients put the target in HTTP/2's `:authority` pseudo-header. For a Unix socket, stacks
//! differ: grpc-go sends `localhost`, but gRPC C-core (Python, Ruby, PHP and C++ hosts; grpcio
//! since 1.57) sends the percent-encoded socket path (`tmp%2Fplugin1652192291`), grpc-java the raw
//! path (`/tmp/plugin…`), others an empty value. grpc-go's server accepts any of them, so every Go
//! plugin works with such hosts. The `h2` crate under tonic parses `:authority` with the `http`
//! crate, which rejects all three, and resets the stream with `PROTOCOL_ERROR` before tonic sees
//! it (hyperium/h2 PR #487 would relax that; until it lands, this module stands in for it).
//!
//! So every connection the plugin side accepts — main and brokered, plaintext or inside TLS,
//! classic or multiplexed — passes its incoming bytes through an [`AuthorityNormaliser`] before
//! `h2` reads them:
//!
//! - It checks for the HTTP/2 client preface; anything else (net/rpc's yamux, garbage) passes
//!   through untouched.
//! - It walks the frames. Frames other than `HEADERS`/`CONTINUATION` pass through as they arrive
//!   (payloads are streamed, not buffered).
//! - The first header block (a `HEADERS` frame and its `CONTINUATION`s, up to
//!   [`MAX_HEADER_BLOCK`]) is decoded with HPACK (the `loona-hpack` crate). If its `:authority` is
//!   one `h2` accepts (grpc-go and this crate send `unused` or `localhost`, TCP clients
//!   `host:port`), it and the rest of the connection pass through untouched and unread: gRPC
//!   stacks keep one authority per connection, so hosts that never needed this pay for one
//!   decoded block per connection. (A client that switched to a socket-path authority on a later
//!   request of the same connection would still be refused by `h2`.)
//! - Otherwise every header block of the connection is decoded, keeping the peer's dynamic table,
//!   and re-encoded with an encoder of our own: that authority becomes `localhost`,
//!   every other header stays as it was (`never indexed` literals are re-encoded as ordinary
//!   literals). The first re-encoded block starts by resizing the server's dynamic table to 0 and
//!   back, so the server's table and our encoder's start in step whatever came before. Re-encoded blocks are split into
//!   frames of at most 16 KiB (every HTTP/2 peer accepts that size) and lose their padding.
//!
//! Peer input is bounded: a header block over [`MAX_HEADER_BLOCK`] bytes, or one that decodes to
//! more than [`MAX_DECODED`] bytes (an HPACK bomb of indexed references), is not decoded: before
//! any rewriting the rest of the connection passes through untouched (and `h2` applies its own
//! limits), after it the connection fails. An HPACK error is handled the same way.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use loona_hpack::{Decoder, Encoder};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Frame types and flags this module looks at (RFC 9113 §6).
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;
/// The largest header block (all its frames) that is decoded.
pub const MAX_HEADER_BLOCK: usize = 1 << 20;
/// The most header bytes (HPACK sizes: name + value + 32 per field) one block may decode to.
pub const MAX_DECODED: usize = 1 << 20;
/// HPACK's default dynamic table size, which `h2` servers keep.
const TABLE_SIZE: usize = 4096;
/// Frame size of re-encoded header blocks: the minimum every HTTP/2 peer accepts.
const OUT_FRAME: usize = 16_384;
/// What a socket-path authority becomes.
const REPLACEMENT: &[u8] = b"localhost";

/// Whether `h2` would accept `value` as `:authority`.
pub fn authority_is_valid(value: &[u8]) -> bool {
    http::uri::Authority::try_from(value).is_ok()
}

/// Where the normaliser is in the byte stream.
enum Stage {
    /// Matching the client preface; this many bytes matched so far.
    Preface(usize),
    /// Walking frames.
    Frames,
    /// Not HTTP/2, or no longer tracked: bytes pass through.
    Passthrough,
}

/// A header block being collected.
struct Block {
    /// The original frames, byte for byte.
    raw: Vec<u8>,
    /// The HPACK fragment, without padding and priority fields.
    fragment: Vec<u8>,
    stream_id: u32,
    end_stream: bool,
    priority: Option<[u8; 5]>,
}

/// The sans-IO core: bytes from the peer in, bytes for `h2` out.
pub struct AuthorityNormaliser {
    stage: Stage,
    /// An incomplete frame header, or an incomplete header-block frame.
    pending: Vec<u8>,
    /// Payload bytes of a pass-through frame still to copy.
    skip: usize,
    block: Option<Block>,
    decoder: Decoder<'static>,
    /// Present once header blocks are re-encoded.
    encoder: Option<Encoder<'static>>,
}

impl Default for AuthorityNormaliser {
    fn default() -> Self {
        let mut decoder = Decoder::new();
        decoder.set_max_allowed_table_size(TABLE_SIZE);
        AuthorityNormaliser {
            stage: Stage::Preface(0),
            pending: Vec::new(),
            skip: 0,
            block: None,
            decoder,
            encoder: None,
        }
    }
}

impl AuthorityNormaliser {
    /// Takes the next bytes from the peer and appends what `h2` should read to `out`.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        while !input.is_empty() {
            match self.stage {
                Stage::Passthrough => {
                    out.extend_from_slice(input);
                    return Ok(());
                }
                Stage::Preface(seen) => {
                    let n = input.len().min(PREFACE.len() - seen);
                    if input[..n] != PREFACE[seen..seen + n] {
                        out.extend_from_slice(&PREFACE[..seen]);
                        self.stage = Stage::Passthrough;
                        continue;
                    }
                    input = &input[n..];
                    self.stage = if seen + n == PREFACE.len() {
                        out.extend_from_slice(PREFACE);
                        Stage::Frames
                    } else {
                        Stage::Preface(seen + n)
                    };
                }
                Stage::Frames if self.skip > 0 => {
                    let n = input.len().min(self.skip);
                    out.extend_from_slice(&input[..n]);
                    self.skip -= n;
                    input = &input[n..];
                }
                Stage::Frames => input = self.frame_bytes(input, out)?,
            }
        }
        Ok(())
    }

    /// Whether every further byte passes unchanged (not HTTP/2, or nothing left to look at).
    pub fn passes_through(&self) -> bool {
        matches!(self.stage, Stage::Passthrough)
    }

    /// Collects a frame header, then either streams the frame through or collects a header-block
    /// frame whole. Returns the input not consumed yet.
    fn frame_bytes<'a>(&mut self, input: &'a [u8], out: &mut Vec<u8>) -> io::Result<&'a [u8]> {
        let mut input = input;
        if self.pending.len() < 9 {
            let n = input.len().min(9 - self.pending.len());
            self.pending.extend_from_slice(&input[..n]);
            input = &input[n..];
            if self.pending.len() < 9 {
                return Ok(input);
            }
        }
        let header = &self.pending[..9];
        let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
        let kind = header[3];
        let in_block = self.block.is_some();
        if kind != HEADERS && kind != CONTINUATION && !in_block {
            out.extend_from_slice(&self.pending);
            self.pending.clear();
            self.skip = length;
            return Ok(input);
        }
        let collected = self.block.as_ref().map_or(0, |b| b.raw.len());
        if collected + 9 + length > MAX_HEADER_BLOCK
            || (in_block && kind != CONTINUATION)
            || (!in_block && kind == CONTINUATION)
        {
            // Too large, or not a well-formed block: `h2` judges it.
            return self.give_up(out).map(|()| input);
        }
        let n = input.len().min(9 + length - self.pending.len());
        self.pending.extend_from_slice(&input[..n]);
        if self.pending.len() == 9 + length {
            let frame = std::mem::take(&mut self.pending);
            self.header_frame(frame, out)?;
        }
        Ok(&input[n..])
    }

    /// One complete `HEADERS` or `CONTINUATION` frame.
    fn header_frame(&mut self, frame: Vec<u8>, out: &mut Vec<u8>) -> io::Result<()> {
        let flags = frame[4];
        let stream_id = u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]) & 0x7fff_ffff;
        let payload = &frame[9..];
        let fragment: &[u8] = if frame[3] == HEADERS {
            let pad = if flags & PADDED != 0 {
                payload.first().copied().map(usize::from)
            } else {
                Some(0)
            };
            let start =
                usize::from(flags & PADDED != 0) + if flags & PRIORITY != 0 { 5 } else { 0 };
            match pad {
                Some(pad) if start + pad <= payload.len() => &payload[start..payload.len() - pad],
                _ => {
                    self.pending = frame;
                    return self.give_up(out);
                }
            }
        } else {
            payload
        };
        let fragment = fragment.to_vec();
        match &mut self.block {
            Some(block) => {
                block.raw.extend_from_slice(&frame);
                block.fragment.extend_from_slice(&fragment);
            }
            None => {
                let priority = (flags & PRIORITY != 0).then(|| {
                    let at = usize::from(flags & PADDED != 0);
                    let mut p = [0u8; 5];
                    p.copy_from_slice(&payload[at..at + 5]);
                    p
                });
                self.block = Some(Block {
                    raw: frame.clone(),
                    fragment,
                    stream_id,
                    end_stream: flags & END_STREAM != 0,
                    priority,
                });
            }
        }
        if flags & END_HEADERS != 0 {
            let block = self.block.take().expect("a block is being collected");
            self.finish(block, out)?;
        }
        Ok(())
    }

    /// A complete header block: pass it through, or re-encode it.
    fn finish(&mut self, block: Block, out: &mut Vec<u8>) -> io::Result<()> {
        let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut decoded = 0usize;
        let mut bad_authority = false;
        let result = self.decoder.decode_with_cb(&block.fragment, |name, value| {
            decoded += name.len() + value.len() + 32;
            if decoded > MAX_DECODED {
                return;
            }
            if &*name == b":authority" && !authority_is_valid(&value) {
                bad_authority = true;
            }
            fields.push((name.into_owned(), value.into_owned()));
        });
        if result.is_err() || decoded > MAX_DECODED {
            self.block = Some(block);
            return self.give_up(out);
        }
        if self.encoder.is_none() && !bad_authority {
            // The connection's first request has an authority `h2` accepts: every gRPC stack
            // keeps one authority per connection, so the rest is not looked at.
            out.extend_from_slice(&block.raw);
            self.stage = Stage::Passthrough;
            return Ok(());
        }
        let mut encoded = Vec::new();
        let encoder = match &mut self.encoder {
            Some(encoder) => encoder,
            None => {
                // Empty the server's dynamic table, then give it back its size: both tables
                // start empty, in step.
                encoded.push(0x20);
                loona_hpack::encoder::encode_integer_into(TABLE_SIZE, 5, 0x20, &mut encoded)?;
                self.encoder.insert(Encoder::new())
            }
        };
        for (name, value) in &mut fields {
            if name.as_slice() == b":authority" && !authority_is_valid(value) {
                *value = REPLACEMENT.to_vec();
            }
        }
        encoder.encode_into(fields.iter().map(|(n, v)| (&n[..], &v[..])), &mut encoded)?;
        write_header_frames(&block, &encoded, out);
        Ok(())
    }

    /// Stops tracking: what was collected goes out unchanged and the rest passes through. Once
    /// blocks are re-encoded that would desynchronise HPACK, so the connection fails instead.
    fn give_up(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        if self.encoder.is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "an HTTP/2 header block that cannot be decoded after an authority was rewritten",
            ));
        }
        if let Some(block) = self.block.take() {
            out.extend_from_slice(&block.raw);
        }
        out.append(&mut self.pending);
        self.stage = Stage::Passthrough;
        Ok(())
    }
}

/// `HEADERS` (with the block's END_STREAM and priority) and `CONTINUATION` frames carrying
/// `encoded`, at most [`OUT_FRAME`] bytes of payload each.
fn write_header_frames(block: &Block, encoded: &[u8], out: &mut Vec<u8>) {
    let first_room = OUT_FRAME - if block.priority.is_some() { 5 } else { 0 };
    let (first, mut rest) = encoded.split_at(encoded.len().min(first_room));
    let mut flags = if block.end_stream { END_STREAM } else { 0 };
    if block.priority.is_some() {
        flags |= PRIORITY;
    }
    if rest.is_empty() {
        flags |= END_HEADERS;
    }
    let priority = block.priority.as_ref().map_or(&[][..], |p| &p[..]);
    frame_header(
        out,
        priority.len() + first.len(),
        HEADERS,
        flags,
        block.stream_id,
    );
    out.extend_from_slice(priority);
    out.extend_from_slice(first);
    while !rest.is_empty() {
        let (chunk, tail) = rest.split_at(rest.len().min(OUT_FRAME));
        let flags = if tail.is_empty() { END_HEADERS } else { 0 };
        frame_header(out, chunk.len(), CONTINUATION, flags, block.stream_id);
        out.extend_from_slice(chunk);
        rest = tail;
    }
}

fn frame_header(out: &mut Vec<u8>, length: usize, kind: u8, flags: u8, stream_id: u32) {
    out.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream_id.to_be_bytes());
}

/// An accepted connection whose incoming bytes pass through an [`AuthorityNormaliser`].
pub struct NormalisedAuthority<T> {
    inner: T,
    normaliser: AuthorityNormaliser,
    /// Normalised bytes not read yet, from `ready_from`.
    ready: Vec<u8>,
    ready_from: usize,
    scratch: Box<[u8]>,
}

impl<T> NormalisedAuthority<T> {
    /// Wraps a freshly accepted connection (before any byte was read from it).
    pub fn new(inner: T) -> Self {
        NormalisedAuthority {
            inner,
            normaliser: AuthorityNormaliser::default(),
            ready: Vec::new(),
            ready_from: 0,
            scratch: vec![0u8; 16 * 1024].into_boxed_slice(),
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for NormalisedAuthority<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.ready_from >= this.ready.len() && this.normaliser.passes_through() {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            if this.ready_from < this.ready.len() {
                let n = buf.remaining().min(this.ready.len() - this.ready_from);
                buf.put_slice(&this.ready[this.ready_from..this.ready_from + n]);
                this.ready_from += n;
                return Poll::Ready(Ok(()));
            }
            this.ready.clear();
            this.ready_from = 0;
            let mut scratch = ReadBuf::new(&mut this.scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut scratch) {
                Poll::Ready(Ok(())) if scratch.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {
                    let filled = scratch.filled().len();
                    this.normaliser
                        .push(&this.scratch[..filled], &mut this.ready)?;
                }
                other => return other,
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for NormalisedAuthority<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's byte stream: preface, an empty SETTINGS frame, then one HEADERS frame per block.
    fn client_bytes(blocks: &[Vec<u8>]) -> Vec<u8> {
        let mut out = PREFACE.to_vec();
        frame_header(&mut out, 0, 0x4, 0, 0);
        for (i, block) in blocks.iter().enumerate() {
            frame_header(
                &mut out,
                block.len(),
                HEADERS,
                END_HEADERS,
                1 + 2 * i as u32,
            );
            out.extend_from_slice(block);
        }
        out
    }

    fn request(authority: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        [
            (&b":method"[..], &b"POST"[..]),
            (b":scheme", b"http"),
            (b":path", b"/proto.KV/Put"),
            (b":authority", authority),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
        ]
        .iter()
        .map(|(n, v)| (n.to_vec(), v.to_vec()))
        .collect()
    }

    fn encode(encoder: &mut Encoder<'static>, fields: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        encoder.encode(fields.iter().map(|(n, v)| (&n[..], &v[..])))
    }

    fn normalise(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        AuthorityNormaliser::default()
            .push(bytes, &mut out)
            .unwrap();
        out
    }

    /// Reads the output as `h2` would: frames, header blocks decoded by one decoder.
    fn header_lists(bytes: &[u8]) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
        assert!(bytes.starts_with(PREFACE));
        let mut rest = &bytes[PREFACE.len()..];
        let mut decoder = Decoder::new();
        let (mut lists, mut block) = (Vec::new(), Vec::new());
        while !rest.is_empty() {
            let length = u32::from_be_bytes([0, rest[0], rest[1], rest[2]]) as usize;
            let (kind, flags) = (rest[3], rest[4]);
            let payload = &rest[9..9 + length];
            if kind == HEADERS || kind == CONTINUATION {
                let skip = if kind == HEADERS && flags & PRIORITY != 0 {
                    5
                } else {
                    0
                };
                block.extend_from_slice(&payload[skip..]);
                if flags & END_HEADERS != 0 {
                    lists.push(decoder.decode(&block).expect("valid HPACK"));
                    block.clear();
                }
            }
            rest = &rest[9 + length..];
        }
        lists
    }

    #[test]
    fn every_socket_path_authority_form_becomes_localhost_and_the_rest_is_kept() {
        for authority in [
            &b"/tmp/plugin1652192291"[..],
            b"tmp%2Fplugin1652192291",
            b"%2Ftmp%2Fplugin1652192291",
            b"",
        ] {
            assert!(!authority_is_valid(authority), "{authority:?}");
            let block = encode(&mut Encoder::new(), &request(authority));
            let lists = header_lists(&normalise(&client_bytes(&[block])));
            assert_eq!(lists, vec![request(b"localhost")], "{authority:?}");
        }
    }

    #[test]
    fn a_valid_authority_passes_through_byte_for_byte() {
        for authority in [&b"localhost"[..], b"127.0.0.1:40123", b"plugin"] {
            let mut encoder = Encoder::new();
            let blocks = vec![
                encode(&mut encoder, &request(authority)),
                encode(&mut encoder, &request(authority)),
            ];
            let bytes = client_bytes(&blocks);
            assert_eq!(normalise(&bytes), bytes, "{authority:?}");
        }
    }

    #[test]
    fn dynamic_table_references_stay_in_step_while_rewriting() {
        // The client's encoder indexes entries in the first block and refers to them later; the
        // re-encoded stream must decode to the same fields, authority aside.
        let mut encoder = Encoder::new();
        let mut first = request(b"/tmp/plugin1");
        first.push((b"x-custom".to_vec(), b"one".to_vec()));
        let blocks = vec![
            encode(&mut encoder, &first),
            encode(&mut encoder, &request(b"/tmp/plugin1")),
            encode(&mut encoder, &first),
        ];
        let mut expected = request(b"localhost");
        expected.push((b"x-custom".to_vec(), b"one".to_vec()));
        let lists = header_lists(&normalise(&client_bytes(&blocks)));
        assert_eq!(
            lists,
            vec![expected.clone(), request(b"localhost"), expected]
        );
    }

    #[test]
    fn after_a_valid_first_request_the_connection_is_not_read() {
        let mut encoder = Encoder::new();
        let blocks = vec![
            encode(&mut encoder, &request(b"unused")),
            encode(&mut encoder, &request(b"/tmp/plugin1")),
        ];
        let bytes = client_bytes(&blocks);
        let mut normaliser = AuthorityNormaliser::default();
        let mut out = Vec::new();
        normaliser.push(&bytes, &mut out).unwrap();
        assert_eq!(out, bytes);
        assert!(normaliser.passes_through());
    }

    #[test]
    fn any_split_of_the_input_gives_the_same_output() {
        let mut encoder = Encoder::new();
        let blocks = vec![
            encode(&mut encoder, &request(b"tmp%2Fplugin7")),
            encode(&mut encoder, &request(b"tmp%2Fplugin7")),
        ];
        let mut bytes = client_bytes(&blocks);
        // A DATA frame after the headers streams through.
        frame_header(&mut bytes, 5, 0x0, 0x1, 1);
        bytes.extend_from_slice(b"hello");
        let whole = normalise(&bytes);
        let mut normaliser = AuthorityNormaliser::default();
        let mut bytewise = Vec::new();
        for b in &bytes {
            normaliser
                .push(std::slice::from_ref(b), &mut bytewise)
                .unwrap();
        }
        assert_eq!(bytewise, whole);
        assert!(whole.ends_with(b"hello"));
    }

    #[test]
    fn a_frame_without_payload_is_passed_on_at_once() {
        let mut normaliser = AuthorityNormaliser::default();
        let mut out = Vec::new();
        let mut bytes = PREFACE.to_vec();
        frame_header(&mut bytes, 0, 0x4, 0x1, 0); // SETTINGS ACK
        normaliser.push(&bytes, &mut out).unwrap();
        assert_eq!(out, bytes);
    }

    #[test]
    fn bytes_that_are_not_http2_pass_through() {
        for bytes in [
            &b"\x00\x00\x00\x01yamux"[..],
            b"PRI * HTTP/1.1\r\n",
            b"GET / HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(normalise(bytes), bytes);
        }
    }

    #[test]
    fn a_large_priority_padded_block_is_split_into_continuations() {
        let mut fields = request(b"/tmp/plugin9");
        fields.push((b"x-big".to_vec(), vec![b'a'; 40_000]));
        let block = encode(&mut Encoder::new(), &fields);
        let mut bytes = PREFACE.to_vec();
        let payload_len = 1 + 5 + block.len() + 3;
        frame_header(
            &mut bytes,
            payload_len,
            HEADERS,
            END_HEADERS | PADDED | PRIORITY,
            1,
        );
        bytes.push(3);
        bytes.extend_from_slice(&[0, 0, 0, 0, 15]);
        bytes.extend_from_slice(&block);
        bytes.extend_from_slice(&[0, 0, 0]);
        let out = normalise(&bytes);
        let mut expected = fields.clone();
        expected[3].1 = b"localhost".to_vec();
        assert_eq!(header_lists(&out), vec![expected]);
        let first_len = u32::from_be_bytes([0, out[24], out[25], out[26]]) as usize;
        assert!(first_len <= OUT_FRAME);
    }

    #[test]
    fn an_hpack_bomb_is_not_expanded_and_passes_through() {
        // One large indexed entry, then thousands of references to it.
        let mut encoder = Encoder::new();
        let mut block = encode(&mut encoder, &[(b"x-big".to_vec(), vec![b'a'; 4000])]);
        block.extend(std::iter::repeat_n(0x80 | 62, 1000));
        block.extend(encode(&mut encoder, &request(b"/tmp/plugin1")));
        let bytes = client_bytes(&[block]);
        assert_eq!(normalise(&bytes), bytes);
    }

    #[test]
    fn a_continuation_without_headers_and_an_oversized_block_pass_through() {
        let mut bytes = PREFACE.to_vec();
        frame_header(&mut bytes, 3, CONTINUATION, END_HEADERS, 1);
        bytes.extend_from_slice(b"abc");
        assert_eq!(normalise(&bytes), bytes);
        let mut bytes = PREFACE.to_vec();
        frame_header(&mut bytes, MAX_HEADER_BLOCK, HEADERS, 0, 1);
        bytes.extend(std::iter::repeat_n(0u8, 100));
        assert_eq!(normalise(&bytes), bytes);
    }
}
