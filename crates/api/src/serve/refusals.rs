//! hyper's own refusals, in the standard error body. hyper answers an HTTP/1 request it cannot
//! parse by itself, before any service sees it: 400 for a malformed request line or header, 414
//! for a URI over 64 KiB (the most the `http` crate holds), 431 for a head over
//! `MAX_HEAD_BYTES` or with more than 100 fields (more would cost hyper an allocation per
//! request). It writes a head alone (`content-length: 0`) and closes the connection, and offers
//! no way to give that response a body. So the connection's socket recognizes those heads as
//! they are written and writes the response with the standard body (`error::Refusal`) instead.
//!
//! A head is hyper's refusal when it is written alone, with one of those statuses, a zero
//! length and no `content-type`: the API's own error responses always have a type. Any other
//! write passes through after a look at its tenth byte.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::error::Refusal;

pub struct JsonRefusals<T> {
    io: T,
    /// A rewritten refusal still being written, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> JsonRefusals<T> {
    pub fn new(io: T) -> JsonRefusals<T> {
        JsonRefusals { io, pending: None }
    }
}

impl<T: AsyncWrite + Unpin> JsonRefusals<T> {
    /// Writes what is left of a rewritten refusal.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }

    /// When `buf` is one of hyper's refusals: takes it whole, to write its rewritten form.
    fn take_refusal(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<io::Result<usize>> {
        let rewritten = rewrite(buf)?;
        self.pending = Some((rewritten, 0));
        // What the socket does not take now is written on the next write, flush or shutdown.
        Some(match self.poll_pending(cx) {
            Poll::Ready(Err(err)) => Err(err),
            _ => Ok(buf.len()),
        })
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonRefusals<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonRefusals<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        if let Some(taken) = this.take_refusal(cx, buf) {
            return Poll::Ready(taken);
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        // A head is the first buffer of its write; taking it alone is a short write.
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(taken) = this.take_refusal(cx, first)
        {
            return Poll::Ready(taken);
        }
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// hyper's refusal `head` as a response with the standard body: its status line and headers
/// (`connection`, `date`), its zero length replaced by the body's type and length. `None` for
/// anything else.
fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    // "HTTP/1.1 4": the tenth byte rules out nearly every other write at once.
    if head.get(9) != Some(&b'4') || !head.starts_with(b"HTTP/1.") {
        return None;
    }
    let refusal = match head.get(9..13)? {
        b"400 " => Refusal::Malformed,
        b"414 " => Refusal::UriTooLong,
        b"431 " => Refusal::HeadTooLarge,
        _ => return None,
    };
    let mut lines = head
        .strip_suffix(b"\r\n\r\n")?
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let status_line = lines.next()?;
    let mut zero_length = false;
    let mut kept: [&[u8]; 4] = [&[]; 4];
    let mut count = 0;
    for line in lines {
        let name_end = line.iter().position(|&b| b == b':')?;
        let name = &line[..name_end];
        if name.eq_ignore_ascii_case(b"content-type") {
            return None;
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            zero_length = line[name_end + 1..].trim_ascii() == b"0";
            continue;
        }
        // hyper's refusals carry `connection` and `date` only.
        *kept.get_mut(count)? = line;
        count += 1;
    }
    if !zero_length {
        return None;
    }
    let body = refusal.json();
    let mut out = Vec::with_capacity(head.len() + body.len() + 64);
    out.extend_from_slice(status_line);
    out.extend_from_slice(b"\r\ncontent-type: application/json\r\ncontent-length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    for line in &kept[..count] {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    fn text(bytes: Option<Vec<u8>>) -> Option<String> {
        bytes.map(|b| String::from_utf8(b).expect("utf-8"))
    }

    #[test]
    fn hyper_refusals_get_the_standard_body() {
        let date = "date: Sun, 06 Dec 2026 08:37:41 GMT";
        let head = format!(
            "HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n{date}\r\n\r\n"
        );
        let body = r#"{"data":{},"message":"Request URI too long.","status":414}"#;
        assert_eq!(
            text(rewrite(head.as_bytes())).as_deref(),
            Some(
                format!(
                    "HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{date}\r\n\r\n{body}",
                    body.len()
                )
                .as_str()
            )
        );
        let head = format!("HTTP/1.0 400 Bad Request\r\ncontent-length: 0\r\n{date}\r\n\r\n");
        let rewritten = text(rewrite(head.as_bytes())).expect("rewritten");
        assert!(
            rewritten.starts_with("HTTP/1.0 400 Bad Request\r\ncontent-type: application/json\r\n")
        );
        assert!(rewritten.ends_with(r#"{"data":{},"message":"Something went wrong while processing your request.","status":400}"#));
        let head = "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert!(
            text(rewrite(head.as_bytes()))
                .expect("rewritten")
                .ends_with(
                    r#"{"data":{},"message":"Request header fields too large.","status":431}"#
                )
        );
    }

    #[test]
    fn every_other_write_passes_through() {
        for write in [
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            // The API's own errors have a type.
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            // A head with its body, or a head not alone in the write.
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 7\r\n\r\n",
            // Body bytes.
            "{\"items\": [4]}",
            "HTTP/1.1 4",
            "",
        ] {
            assert_eq!(text(rewrite(write.as_bytes())), None, "{write:?}");
        }
    }
}
