//! SMTP delivery with `lettre`. `smtp.tls = true` is implicit TLS (port 465 style); otherwise
//! STARTTLS is used when the server offers it (port 587 style). The server's certificate must
//! chain to a public root (`webpki-roots`) or to a root added by `Mailer::trust_root` (tests
//! only: their SMTP server's self-signed certificate). A transport is kept and reused while
//! the SMTP settings stay the same.

use std::sync::Arc;

use parking_lot::Mutex;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::Value as Json;

use super::Message;
use super::template::plain_text;
use crate::error::{Error, Result};

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The transport built for the current SMTP settings.
#[derive(Clone, Default)]
pub struct Pool {
    current: Arc<Mutex<Option<(Json, Transport)>>>,
    /// Roots trusted besides the public ones (DER).
    extra_roots: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Pool {
    pub async fn send(
        &self,
        smtp: &Json,
        (name, address): &(String, String),
        message: &Message,
    ) -> Result<()> {
        let transport = self.transport(smtp)?;
        let address = address
            .parse()
            .map_err(|e| Error::internal(format!("invalid sender address: {e}")))?;
        let from = Mailbox::new(Some(name.clone()).filter(|n| !n.is_empty()), address);
        let to: Mailbox = message
            .to
            .parse()
            .map_err(|e| Error::internal(format!("invalid recipient address: {e}")))?;
        let email = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(message.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                plain_text(&message.html),
                message.html.clone(),
            ))
            .map_err(Error::internal)?;
        transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| Error::internal(format!("smtp: {e}")))
    }

    /// Trusts `der` as a root for the SMTP server's certificate, from the next send on.
    pub fn trust_root(&self, der: Vec<u8>) {
        self.extra_roots.lock().push(der);
        *self.current.lock() = None;
    }

    fn transport(&self, smtp: &Json) -> Result<Transport> {
        let mut current = self.current.lock();
        if let Some((settings, transport)) = current.as_ref()
            && settings == smtp
        {
            return Ok(transport.clone());
        }
        let roots = self.extra_roots.lock().clone();
        let transport = build(smtp, roots)?;
        *current = Some((smtp.clone(), transport.clone()));
        Ok(transport)
    }
}

fn build(smtp: &Json, extra_roots: Vec<Vec<u8>>) -> Result<Transport> {
    let s = |k: &str| smtp.get(k).and_then(Json::as_str).unwrap_or("").to_owned();
    let host = s("host");
    let port = smtp
        .get("port")
        .and_then(Json::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(587);
    let tls_error = |e: lettre::transport::smtp::Error| Error::internal(format!("smtp tls: {e}"));
    let mut tls = TlsParameters::builder(host.clone());
    for der in extra_roots {
        tls = tls.add_root_certificate(Certificate::from_der(der).map_err(tls_error)?);
    }
    let tls = tls.build().map_err(tls_error)?;
    let implicit = smtp.get("tls").and_then(Json::as_bool).unwrap_or(false);
    let mut builder = Transport::builder_dangerous(&host)
        .port(port)
        .tls(if implicit {
            Tls::Wrapper(tls)
        } else {
            Tls::Opportunistic(tls)
        })
        .timeout(Some(Duration::from_secs(15)));
    if !s("username").is_empty() {
        builder = builder.credentials(Credentials::new(s("username"), s("password")));
        let mechanism = if s("authMethod").eq_ignore_ascii_case("LOGIN") {
            Mechanism::Login
        } else {
            Mechanism::Plain
        };
        builder = builder.authentication(vec![mechanism]);
    }
    if !s("localName").is_empty() {
        builder = builder.hello_name(ClientId::Domain(s("localName")));
    }
    Ok(builder.build())
}
