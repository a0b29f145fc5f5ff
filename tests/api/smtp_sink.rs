//! A real SMTP server for the tests, on `127.0.0.1:0`: it speaks enough SMTP for `lettre`
//! (EHLO, MAIL, RCPT, DATA, QUIT; no STARTTLS offered) and keeps every message it receives,
//! so tests read the mail oxbase sends exactly as a mail server would get it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::helpers::{TestApp, base64_decode};

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message (headers and MIME body) as sent in DATA.
    pub raw: String,
}

impl Mail {
    /// The decoded `Subject` header.
    pub fn subject(&self) -> String {
        self.raw
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or("")
            .to_owned()
    }
    /// Every MIME part's body, decoded (quoted-printable or base64), joined.
    pub fn text(&self) -> String {
        decode_parts(&self.raw)
    }
    /// The token in the first link ending in `/{path}/{TOKEN}`.
    pub fn token_after(&self, path: &str) -> String {
        let text = self.text();
        let marker = format!("/{path}/");
        let start = text
            .find(&marker)
            .unwrap_or_else(|| panic!("no {marker} link in: {text}"))
            + marker.len();
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .collect()
    }
}

/// The server; dropped with the test.
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let arrived = Arc::new(Notify::new());
        let (m, a) = (mails.clone(), arrived.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (m, a) = (m.clone(), a.clone());
                tokio::spawn(async move {
                    let _ = session(stream, m, a).await;
                });
            }
        });
        SmtpSink {
            port,
            mails,
            arrived,
        }
    }

    /// Points the app's SMTP settings at this server.
    pub async fn configure(&self, app: &TestApp) {
        let body = serde_json::json!({"smtp": {"enabled": true, "host": "127.0.0.1", "port": self.port, "tls": false}});
        app.update_settings(body, &app.superuser_token)
            .await
            .expect(200);
    }

    /// Waits (at most 10 s) for the next message to `to`, and removes it.
    pub async fn mail_to(&self, to: &str) -> Mail {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            if let Some(mail) = self.take(to) {
                return mail;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("no mail to {to} within 10 s");
            }
        }
    }

    /// Asserts that no message to `to` arrives within `wait`.
    pub async fn assert_no_mail_to(&self, to: &str, wait: Duration) {
        tokio::time::sleep(wait).await;
        assert!(self.take(to).is_none(), "unexpected mail to {to}");
    }

    fn take(&self, to: &str) -> Option<Mail> {
        let mut mails = self.mails.lock().expect("mails");
        let i = mails
            .iter()
            .position(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))?;
        Some(mails.remove(i))
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO")
            || upper.starts_with("RSET")
            || upper.starts_with("NOOP")
        {
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line);
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&line));
            b"250 OK\r\n"
        } else if upper.starts_with("DATA") {
            write.write_all(b"354 go on\r\n").await?;
            let mut raw = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                raw.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            mails.lock().expect("mails").push(Mail {
                from: from.clone(),
                to: to.clone(),
                raw,
            });
            arrived.notify_waiters();
            b"250 queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

fn address(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}

/// The bodies of a MIME message's leaf parts, decoded.
fn decode_parts(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let mut out = String::new();
    for part in raw.split("\n--") {
        let Some((headers, body)) = part.split_once("\n\n") else {
            continue;
        };
        let lower = headers.to_ascii_lowercase();
        if lower.contains("multipart/") {
            continue;
        }
        if lower.contains("content-transfer-encoding: quoted-printable") {
            out.push_str(&quoted_printable(body));
        } else if lower.contains("content-transfer-encoding: base64") {
            out.push_str(&base64(body));
        } else {
            out.push_str(body);
        }
        out.push('\n');
    }
    out
}

fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(b) = std::str::from_utf8(bytes.get(i + 1..i + 3).unwrap_or(b""))
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64(s: &str) -> String {
    String::from_utf8_lossy(&base64_decode(s)).into_owned()
}
