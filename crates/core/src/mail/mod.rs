//! Outgoing mail: the sender and SMTP server come from the settings (`meta.senderName`,
//! `meta.senderAddress`, `smtp.*`), read at each send so a settings change applies at once.
//! With SMTP disabled, mail is logged instead (the local fallback), never lost silently.
//!
//! - `template`: the `{APP_NAME}`-style placeholders of the email templates.
//! - `smtp`: delivery through `lettre` (implicit TLS or STARTTLS).

mod smtp;
pub mod template;

use crate::error::Result;
use crate::settings::Settings;

/// One message to one recipient, as the auth flows send them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    pub to: String,
    pub subject: String,
    /// The HTML body; a plain-text alternative is derived from it.
    pub html: String,
    /// What an auth flow's message is about, for the hooks that see it.
    pub about: Option<About>,
}

/// The record an auth flow mails about, and the collection template it used
/// (`resetPasswordTemplate`, `verificationTemplate`, `confirmEmailChangeTemplate`, `otp`,
/// `authAlert`).
#[derive(Debug, Clone, PartialEq)]
pub struct About {
    pub template: String,
    pub collection_id: String,
    pub collection_name: String,
    pub record: serde_json::Map<String, serde_json::Value>,
}

/// Application code that sees each message before it goes (JS `onMailerSend`): it may change
/// it, or answer `false` to keep it from being sent. It blocks (it runs on a blocking thread).
pub type SendHook =
    std::sync::Arc<dyn Fn(&mut Message, &(String, String)) -> Result<bool> + Send + Sync>;

/// Sends mail as the settings say.
#[derive(Clone)]
pub struct Mailer {
    settings: Settings,
    smtp: smtp::Pool,
    hook: std::sync::Arc<parking_lot::RwLock<Option<SendHook>>>,
}

impl Mailer {
    pub fn new(settings: Settings) -> Mailer {
        Mailer {
            settings,
            smtp: smtp::Pool::default(),
            hook: Default::default(),
        }
    }

    /// Sets the hook every message passes before it is sent.
    pub fn on_send(&self, hook: SendHook) {
        *self.hook.write() = Some(hook);
    }

    /// Delivers `message` through SMTP, or logs it when SMTP is disabled. An error carries
    /// the SMTP failure (for the test-email endpoint and the logs).
    pub async fn send(&self, mut message: Message) -> Result<()> {
        let from = sender(&self.settings);
        let hook = self.hook.read().clone();
        if let Some(hook) = hook {
            let sender = from.clone();
            let (send, changed) = tokio::task::spawn_blocking(move || {
                hook(&mut message, &sender).map(|send| (send, message))
            })
            .await
            .map_err(|e| crate::error::Error::internal(format!("the mail hook stopped: {e}")))??;
            if !send {
                return Ok(());
            }
            message = changed;
        }
        let smtp = self.settings.smtp();
        if smtp.get("enabled").and_then(serde_json::Value::as_bool) != Some(true) {
            tracing::info!(target: "oxbase::mail", from = %from.1, to = %message.to, subject = %message.subject, body = %message.html, "SMTP is disabled: mail logged, not sent");
            return Ok(());
        }
        self.smtp.send(&smtp, &from, &message).await
    }

    /// Trusts the certificate `der` (DER) as a root for the SMTP server's, besides the public
    /// roots. No setting reaches it: it is for tests, whose SMTP server has a self-signed
    /// certificate made at run time.
    pub fn trust_root(&self, der: Vec<u8>) {
        self.smtp.trust_root(der);
    }

    /// Sends in the background (the request does not wait, so its timing does not tell
    /// whether an account exists); failures are logged.
    pub fn send_later(&self, message: Message) {
        let mailer = self.clone();
        tokio::spawn(async move {
            let to = message.to.clone();
            if let Err(e) = mailer.send(message).await {
                tracing::error!(target: "oxbase::mail", %to, error = %e, "mail not sent");
            }
        });
    }
}

/// The sender from the settings: `(name, address)`.
fn sender(settings: &Settings) -> (String, String) {
    let meta = settings.meta();
    (
        meta.sender_name.trim().to_owned(),
        meta.sender_address.trim().to_owned(),
    )
}
