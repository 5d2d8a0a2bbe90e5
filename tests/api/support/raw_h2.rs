//! An HTTP/2 client written frame by frame (RFC 9113), over real TLS with ALPN `h2`, for the
//! tests that must do what no well-behaved client does: stay silent after the preface, leave
//! PINGs unanswered, open more streams than allowed, reset streams in bursts. Header blocks are
//! HPACK literals without indexing or Huffman coding (RFC 7541 §6.2.2), which every decoder
//! must accept.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::tls::tls_connector;

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const CONTINUATION: u8 = 0x9;

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

pub const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;

pub const NO_ERROR: u32 = 0x0;
pub const CANCEL: u32 = 0x8;
pub const REFUSED_STREAM: u32 = 0x7;
pub const ENHANCE_YOUR_CALM: u32 = 0xb;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[derive(Clone)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

impl Frame {
    /// GOAWAY's or RST_STREAM's error code.
    pub fn error_code(&self) -> u32 {
        let at = if self.kind == GOAWAY { 4 } else { 0 };
        u32::from_be_bytes(self.payload[at..at + 4].try_into().unwrap())
    }

    /// A SETTINGS frame's value for `id`.
    pub fn setting(&self, id: u16) -> Option<u32> {
        self.payload.chunks_exact(6).find_map(|s| {
            (u16::from_be_bytes([s[0], s[1]]) == id)
                .then(|| u32::from_be_bytes(s[2..6].try_into().unwrap()))
        })
    }
}

impl std::fmt::Debug for Frame {
    /// Short: a page's HTML in a failure message hides the frames around it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self.kind {
            DATA => "DATA",
            HEADERS => "HEADERS",
            RST_STREAM => "RST_STREAM",
            SETTINGS => "SETTINGS",
            PING => "PING",
            GOAWAY => "GOAWAY",
            0x8 => "WINDOW_UPDATE",
            _ => "other",
        };
        write!(
            f,
            "{name}(flags {:#x}, stream {}, {} bytes)",
            self.flags,
            self.stream,
            self.payload.len()
        )
    }
}

/// What the server did next.
#[derive(Debug)]
pub enum Next {
    Frame(Frame),
    /// The connection was closed (EOF, or a TLS close/reset).
    Closed,
    /// Nothing within the wait.
    Silent,
}

pub struct RawH2 {
    tls: TlsStream<TcpStream>,
    buffer: Vec<u8>,
}

impl RawH2 {
    /// TLS with ALPN `h2` only, then the client preface and an empty SETTINGS frame.
    pub async fn open(port: u16, ca: &Path) -> Self {
        let mut connection = Self::tls_only(port, ca).await;
        connection
            .send(&[PREFACE.to_vec(), frame(SETTINGS, 0, 0, &[])].concat())
            .await;
        connection
    }

    /// TLS with ALPN `h2` only; nothing of HTTP/2 sent yet.
    pub async fn tls_only(port: u16, ca: &Path) -> Self {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let tls = tls_connector(ca, &[b"h2"])
            .connect("127.0.0.1".try_into().unwrap(), tcp)
            .await
            .expect("TLS handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        Self {
            tls,
            buffer: Vec::new(),
        }
    }

    /// Also acknowledges the server's SETTINGS (its limits then bind), and returns them.
    pub async fn open_settled(port: u16, ca: &Path) -> (Self, Frame) {
        let mut connection = Self::open(port, ca).await;
        let settings = connection
            .wait_for(Duration::from_secs(5), |f| {
                f.kind == SETTINGS && f.flags & ACK == 0
            })
            .await
            .expect("the server's SETTINGS");
        connection.send(&frame(SETTINGS, ACK, 0, &[])).await;
        (connection, settings)
    }

    /// Writes `bytes`; a server that closes the connection half-way is not an error here (the
    /// reads that follow show it).
    pub async fn send(&mut self, bytes: &[u8]) {
        if self.tls.write_all(bytes).await.is_ok() {
            let _ = self.tls.flush().await;
        }
    }

    /// The next frame, if one comes within `wait`.
    pub async fn next(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(frame) = self.take_frame() {
                return Next::Frame(frame);
            }
            let mut chunk = [0u8; 16 * 1024];
            match tokio::time::timeout_at(deadline, self.tls.read(&mut chunk)).await {
                Err(_) => return Next::Silent,
                Ok(Ok(0)) | Ok(Err(_)) => return Next::Closed,
                Ok(Ok(n)) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads until a frame `wanted` matches (skipping others); `None` when the connection
    /// closed first. Panics when nothing matching comes within `wait`.
    pub async fn wait_for(
        &mut self,
        wait: Duration,
        wanted: impl Fn(&Frame) -> bool,
    ) -> Option<Frame> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Next::Frame(frame) if wanted(&frame) => return Some(frame),
                Next::Frame(_) => continue,
                Next::Closed => return None,
                Next::Silent => panic!("no such frame within {wait:?}"),
            }
        }
    }

    /// Reads every frame until the server closes the connection, within `wait`; returns them.
    pub async fn until_closed(&mut self, wait: Duration) -> Result<Vec<Frame>, Vec<Frame>> {
        let deadline = Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Next::Frame(frame) => seen.push(frame),
                Next::Closed => return Ok(seen),
                Next::Silent => return Err(seen),
            }
        }
    }

    fn take_frame(&mut self) -> Option<Frame> {
        if self.buffer.len() < 9 {
            return None;
        }
        let length = u32::from_be_bytes([0, self.buffer[0], self.buffer[1], self.buffer[2]]);
        let end = 9 + length as usize;
        if self.buffer.len() < end {
            return None;
        }
        let head: Vec<u8> = self.buffer.drain(..end).collect();
        Some(Frame {
            kind: head[3],
            flags: head[4],
            stream: u32::from_be_bytes(head[5..9].try_into().unwrap()) & 0x7fff_ffff,
            payload: head[9..].to_vec(),
        })
    }
}

/// One frame: the 9-byte header and the payload.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut out = vec![length[1], length[2], length[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A request's HEADERS frame, complete (END_HEADERS); `end_stream`: no body follows.
pub fn request(stream: u32, method: &str, path: &str, end_stream: bool) -> Vec<u8> {
    let mut fields = vec![
        (":method", method),
        (":scheme", "https"),
        (":path", path),
        (":authority", "127.0.0.1"),
    ];
    if method == "POST" {
        fields.push(("content-type", "application/json"));
    }
    let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
    frame(HEADERS, flags, stream, &header_block(&fields))
}

pub fn rst_stream(stream: u32, code: u32) -> Vec<u8> {
    frame(RST_STREAM, 0, stream, &code.to_be_bytes())
}

/// HPACK literals without indexing, no Huffman coding.
pub fn header_block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in fields {
        block.push(0x00);
        string(&mut block, name.as_bytes());
        string(&mut block, value.as_bytes());
    }
    block
}

/// An HPACK string literal: its length as a 7-bit-prefix integer (RFC 7541 §5.1), then the bytes.
fn string(block: &mut Vec<u8>, bytes: &[u8]) {
    let mut length = bytes.len();
    if length < 127 {
        block.push(length as u8);
    } else {
        block.push(127);
        length -= 127;
        while length >= 128 {
            block.push((length % 128) as u8 | 0x80);
            length /= 128;
        }
        block.push(length as u8);
    }
    block.extend_from_slice(bytes);
}
