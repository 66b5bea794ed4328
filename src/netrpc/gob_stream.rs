//! gob over an async byte stream: one encoder per direction for the stream's life (type
//! definitions are sent once per stream), messages framed by their gob length prefix.
//!
//! The codec itself is the `gobwire` crate (evaluated against Go's `encoding/gob` in both
//! directions by its own corpus tests and here by the net/rpc cross-tests); this file only moves
//! its messages over tokio streams.

use gobwire::{Decode, Decoder, Encode, Encoder, Progress, MAX_MESSAGE_LEN};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::Error;

/// The reading half: decodes values, one or more messages each.
pub struct GobReader<R> {
    reader: R,
    decoder: Decoder,
}

impl<R: AsyncRead + Unpin> GobReader<R> {
    /// A reader with a fresh type table.
    pub fn new(reader: R) -> Self {
        GobReader {
            reader,
            decoder: Decoder::new(),
        }
    }

    /// Reads messages until a value is complete; `Ok(false)` at a clean end of the stream.
    async fn fill(&mut self) -> Result<bool, Error> {
        let mut started = false;
        loop {
            let Some(body) = read_message(&mut self.reader).await? else {
                return if started {
                    Err(gob_err("the stream ended inside a value"))
                } else {
                    Ok(false)
                };
            };
            started = true;
            if self.decoder.push_message(&body).map_err(gob)? == Progress::Ready {
                return Ok(true);
            }
        }
    }

    /// The next value; `None` at a clean end of the stream.
    pub async fn read<T: Decode + Default>(&mut self) -> Result<Option<T>, Error> {
        if !self.fill().await? {
            return Ok(None);
        }
        self.decoder.decode::<T>().map(Some).map_err(gob)
    }

    /// Reads the next value and throws it away (a body nobody wants, e.g. after an error reply).
    pub async fn skip(&mut self) -> Result<(), Error> {
        self.read::<gobwire::Dynamic>()
            .await?
            .map(|_| ())
            .ok_or_else(|| gob_err("the stream ended before a body"))
    }
}

/// The writing half: encodes values, sending each type definition once.
pub struct GobWriter<W> {
    writer: W,
    encoder: Encoder,
    buf: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> GobWriter<W> {
    /// A writer with a fresh type table.
    pub fn new(writer: W) -> Self {
        GobWriter {
            writer,
            encoder: Encoder::new(),
            buf: Vec::new(),
        }
    }

    /// Encodes the values (header and body) and writes them in one piece, then flushes.
    pub async fn write(&mut self, values: &[&(dyn Encode + Sync)]) -> Result<(), Error> {
        self.buf.clear();
        for value in values {
            self.encoder
                .encode_into(*value, &mut self.buf)
                .map_err(gob)?;
        }
        self.writer
            .write_all(&self.buf)
            .await
            .map_err(|e| Error::io("writing a net/rpc message", e))?;
        self.writer
            .flush()
            .await
            .map_err(|e| Error::io("writing a net/rpc message", e))
    }

    /// Closes the writing side.
    pub async fn shutdown(&mut self) {
        let _ = self.writer.shutdown().await;
    }
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
    if len >= MAX_MESSAGE_LEN {
        return Err(gob_err(&format!(
            "message of {len} bytes is over the limit"
        )));
    }
    // The buffer grows with what arrives: a length prefix alone (up to gob's 8 GiB limit) must not
    // make the reader allocate it.
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
