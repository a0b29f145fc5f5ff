//! A real SMTP server for the tests, on `127.0.0.1:0`: it speaks enough SMTP for `lettre`
//! (EHLO, MAIL, RCPT, DATA, QUIT) and keeps every message it receives, so tests read the mail
//! oxbase sends exactly as a mail server would get it. `SmtpSink::start` speaks plain SMTP (no
//! STARTTLS offered); `SmtpSink::start_tls` offers STARTTLS or speaks TLS from the first byte
//! (implicit TLS), with a self-signed certificate made at start, and requires `AUTH` (PLAIN or
//! LOGIN) before it takes a message.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::helpers::{TestApp, base64_decode};

/// One received message.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message (headers and MIME body) as sent in DATA.
    pub raw: String,
    /// Whether the session was encrypted when the message came.
    pub tls: bool,
    /// The user the session authenticated as, if any.
    pub user: Option<String>,
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

/// How a TLS sink speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TlsMode {
    /// Plain at first; `STARTTLS` (offered in the EHLO reply) upgrades the session.
    StartTls,
    /// TLS from the first byte (port 465 style).
    Implicit,
}

/// What a TLS sink requires.
struct Secure {
    mode: TlsMode,
    acceptor: TlsAcceptor,
    /// `(user, password)` that `AUTH` must present before `MAIL`.
    login: (String, String),
}

/// The server; dropped with the test.
pub struct SmtpSink {
    pub port: u16,
    /// The self-signed certificate (DER) of a TLS sink, for the client to trust.
    pub certificate: Option<Vec<u8>>,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::serve(None).await
    }

    /// A sink that speaks TLS as `mode` says, with a certificate for `127.0.0.1` made here, and
    /// takes messages only from a session authenticated as `user`/`password`.
    pub async fn start_tls(mode: TlsMode, user: &str, password: &str) -> SmtpSink {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
            .expect("a self-signed certificate");
        let der = cert.cert.der().to_vec();
        let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der())
            .expect("the key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![der.clone().into()], key)
        .expect("the server config");
        let secure = Secure {
            mode,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            login: (user.to_owned(), password.to_owned()),
        };
        let mut sink = Self::serve(Some(Arc::new(secure))).await;
        sink.certificate = Some(der);
        sink
    }

    async fn serve(secure: Option<Arc<Secure>>) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let arrived = Arc::new(Notify::new());
        let (m, a) = (mails.clone(), arrived.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (m, a, secure) = (m.clone(), a.clone(), secure.clone());
                tokio::spawn(async move {
                    let _ = session(stream, secure, m, a).await;
                });
            }
        });
        SmtpSink {
            port,
            certificate: None,
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

/// A plain or encrypted connection.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn session(
    stream: tokio::net::TcpStream,
    secure: Option<Arc<Secure>>,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
) -> std::io::Result<()> {
    let mut tls = false;
    let io: Box<dyn Io> = match secure.as_deref() {
        Some(s) if s.mode == TlsMode::Implicit => {
            tls = true;
            Box::new(s.acceptor.accept(stream).await?)
        }
        _ => Box::new(stream),
    };
    let mut conn = BufReader::new(io);
    conn.write_all(b"220 sink ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut user: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let reply: Vec<u8> = if upper.starts_with("EHLO") {
            let mut caps = String::from("250-sink\r\n");
            match secure.as_deref() {
                Some(s) if !tls && s.mode == TlsMode::StartTls => caps.push_str("250-STARTTLS\r\n"),
                Some(_) => caps.push_str("250-AUTH PLAIN LOGIN\r\n"),
                None => {}
            }
            caps.push_str("250 8BITMIME\r\n");
            caps.into_bytes()
        } else if upper.starts_with("STARTTLS") {
            let Some(s) = secure
                .as_deref()
                .filter(|s| !tls && s.mode == TlsMode::StartTls)
            else {
                conn.write_all(b"502 not implemented\r\n").await?;
                continue;
            };
            conn.write_all(b"220 go ahead\r\n").await?;
            // Nothing may be buffered past the command: the handshake starts on the socket.
            assert!(conn.buffer().is_empty(), "data pipelined after STARTTLS");
            let plain = conn.into_inner();
            conn = BufReader::new(Box::new(s.acceptor.accept(plain).await?) as Box<dyn Io>);
            tls = true;
            // The session starts over (RFC 3207): a new EHLO, no identity.
            user = None;
            continue;
        } else if upper.starts_with("AUTH ") {
            let Some(s) = secure.as_deref().filter(|_| tls) else {
                conn.write_all(b"503 no AUTH here\r\n").await?;
                continue;
            };
            let given = match auth(&mut conn, &line).await? {
                Some(given) => given,
                None => return Ok(()),
            };
            if given == s.login {
                user = Some(given.0);
                b"235 2.7.0 Authentication successful\r\n".to_vec()
            } else {
                b"535 5.7.8 Authentication credentials invalid\r\n".to_vec()
            }
        } else if upper.starts_with("HELO")
            || upper.starts_with("RSET")
            || upper.starts_with("NOOP")
        {
            b"250 OK\r\n".to_vec()
        } else if upper.starts_with("MAIL FROM:") {
            if secure.is_some() && user.is_none() {
                b"530 5.7.0 Authentication required\r\n".to_vec()
            } else {
                from = address(&line);
                to.clear();
                b"250 OK\r\n".to_vec()
            }
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&line));
            b"250 OK\r\n".to_vec()
        } else if upper.starts_with("DATA") {
            conn.write_all(b"354 go on\r\n").await?;
            let mut raw = String::new();
            loop {
                line.clear();
                if conn.read_line(&mut line).await? == 0 {
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
                tls,
                user: user.clone(),
            });
            arrived.notify_waiters();
            b"250 queued\r\n".to_vec()
        } else if upper.starts_with("QUIT") {
            conn.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n".to_vec()
        };
        conn.write_all(&reply).await?;
    }
}

/// The `(user, password)` an `AUTH PLAIN` or `AUTH LOGIN` exchange presents (`None` when the
/// client hung up).
async fn auth(
    conn: &mut BufReader<Box<dyn Io>>,
    command: &str,
) -> std::io::Result<Option<(String, String)>> {
    async fn answer(
        conn: &mut BufReader<Box<dyn Io>>,
        challenge: &[u8],
    ) -> std::io::Result<Option<String>> {
        conn.write_all(challenge).await?;
        let mut line = String::new();
        if conn.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        Ok(Some(
            String::from_utf8_lossy(&base64_decode(line.trim())).into_owned(),
        ))
    }
    let mut words = command.split_whitespace().skip(1);
    let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
    if mechanism == "LOGIN" {
        let Some(user) = answer(conn, b"334 VXNlcm5hbWU6\r\n").await? else {
            return Ok(None);
        };
        let Some(password) = answer(conn, b"334 UGFzc3dvcmQ6\r\n").await? else {
            return Ok(None);
        };
        return Ok(Some((user, password)));
    }
    // PLAIN: "authzid\0user\0password", inline or after an empty challenge.
    let plain = match words.next() {
        Some(inline) => String::from_utf8_lossy(&base64_decode(inline)).into_owned(),
        None => match answer(conn, b"334 \r\n").await? {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    let mut parts = plain.split('\0').skip(1);
    Ok(Some((
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    )))
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
