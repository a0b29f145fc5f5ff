//! Outgoing mail: the sender and SMTP server come from the settings (`meta.senderName`,
//! `meta.senderAddress`, `smtp.*`), read at each send so a settings change applies at once.
//! With SMTP disabled, mail is logged instead (the local fallback), never lost silently.
//!
//! Mail sent in the background (the auth flows' verification, password reset, email change,
//! OTP and alerts) goes through the durable job queue (`jobs`, kind `mail`): the message is
//! stored, then sent by the queue's worker, retried with backoff while the SMTP server fails,
//! and kept as a dead job once out of attempts. The test email and application code's
//! `$app.newMailClient().send()` send at once and answer the SMTP error.
//!
//! - `template`: the `{APP_NAME}`-style placeholders of the email templates.
//! - `smtp`: delivery through `lettre` (implicit TLS or STARTTLS).

mod smtp;
pub mod template;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::jobs::{Jobs, NewJob, Retry};
use crate::settings::Settings;

/// The queue's kind for outgoing mail.
pub const KIND: &str = "mail";
/// Attempts per message before it is kept as dead (about 17 minutes of retries).
const MAX_ATTEMPTS: i64 = 10;
/// The wait after the first failure (doubling after each, with jitter).
const BACKOFF: Duration = Duration::from_secs(2);

/// One message to one recipient, as the auth flows send them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Where background mail waits for its turn (none: sent by a task of its own).
    queue: Option<Jobs>,
}

impl Mailer {
    pub fn new(settings: Settings) -> Mailer {
        Mailer {
            settings,
            smtp: smtp::Pool::default(),
            hook: Default::default(),
            queue: None,
        }
    }

    /// A mailer whose background mail goes through `jobs`, whose worker it registers with
    /// (the handler holds the settings and the SMTP pool, not the queue: no cycle).
    pub fn queued(settings: Settings, jobs: Jobs) -> Mailer {
        let mut mailer = Mailer::new(settings);
        let (settings, pool) = (mailer.settings.clone(), mailer.smtp.clone());
        jobs.handle(
            KIND,
            Arc::new(|| Retry {
                max_attempts: MAX_ATTEMPTS,
                base: BACKOFF,
            }),
            move |job| {
                let (settings, pool) = (settings.clone(), pool.clone());
                async move {
                    let message: Message = serde_json::from_str(&job.payload)
                        .map_err(|e| format!("an unreadable message: {e}"))?;
                    let to = message.to.clone();
                    let sent = deliver(&settings, &pool, message).await;
                    if let Err(e) = &sent {
                        tracing::warn!(target: "oxbase::mail", %to, attempt = job.attempts + 1, error = %e, "mail not sent (will retry)");
                    }
                    sent.map_err(|e| e.to_string())
                }
            },
        );
        mailer.queue = Some(jobs);
        mailer
    }

    /// Sets the hook every message passes before it is sent.
    pub fn on_send(&self, hook: SendHook) {
        *self.hook.write() = Some(hook);
    }

    /// Delivers `message` through SMTP, or logs it when SMTP is disabled. An error carries
    /// the SMTP failure (for the test-email endpoint and the logs).
    pub async fn send(&self, message: Message) -> Result<()> {
        match self.through_hook(message).await? {
            Some(message) => deliver(&self.settings, &self.smtp, message).await,
            None => Ok(()),
        }
    }

    /// `message` as the send hook left it, or `None` when the hook keeps it from being sent.
    async fn through_hook(&self, mut message: Message) -> Result<Option<Message>> {
        let hook = self.hook.read().clone();
        let Some(hook) = hook else {
            return Ok(Some(message));
        };
        let sender = sender(&self.settings);
        let (send, changed) = tokio::task::spawn_blocking(move || {
            hook(&mut message, &sender).map(|send| (send, message))
        })
        .await
        .map_err(|e| crate::error::Error::internal(format!("the mail hook stopped: {e}")))??;
        Ok(send.then_some(changed))
    }

    /// Through the send hook, then into the queue (sent by its worker, retried while SMTP
    /// fails), or sent at once without one.
    async fn send_queued(&self, message: Message) -> Result<()> {
        let Some(jobs) = &self.queue else {
            return self.send(message).await;
        };
        let Some(message) = self.through_hook(message).await? else {
            return Ok(());
        };
        let payload = serde_json::to_string(&message)
            .map_err(|e| crate::error::Error::internal(e.to_string()))?;
        jobs.add(NewJob {
            id: format!("mail_{}", crate::ids::random_string(24)),
            kind: KIND.to_owned(),
            target: "smtp".to_owned(),
            // One recipient's mail goes in order.
            key: format!("mail/{}", message.to.to_lowercase()),
            payload,
        })
        .await
    }

    /// Trusts the certificate `der` (DER) as a root for the SMTP server's, besides the public
    /// roots. No setting reaches it: it is for tests, whose SMTP server has a self-signed
    /// certificate made at run time.
    pub fn trust_root(&self, der: Vec<u8>) {
        self.smtp.trust_root(der);
    }

    /// Sends in the background (the request does not wait, so its timing does not tell
    /// whether an account exists): queued, then sent by the queue's worker with retries.
    pub fn send_later(&self, message: Message) {
        let mailer = self.clone();
        tokio::spawn(async move {
            let to = message.to.clone();
            if let Err(e) = mailer.send_queued(message).await {
                tracing::error!(target: "oxbase::mail", %to, error = %e, "mail not sent");
            }
        });
    }
}

/// Delivers `message` through SMTP as the settings say now, or logs it when SMTP is disabled.
async fn deliver(settings: &Settings, pool: &smtp::Pool, message: Message) -> Result<()> {
    let from = sender(settings);
    let smtp = settings.smtp();
    if smtp.get("enabled").and_then(serde_json::Value::as_bool) != Some(true) {
        tracing::info!(target: "oxbase::mail", from = %from.1, to = %message.to, subject = %message.subject, body = %message.html, "SMTP is disabled: mail logged, not sent");
        return Ok(());
    }
    pool.send(&smtp, &from, &message).await
}

/// The sender from the settings: `(name, address)`.
fn sender(settings: &Settings) -> (String, String) {
    let meta = settings.meta();
    (
        meta.sender_name.trim().to_owned(),
        meta.sender_address.trim().to_owned(),
    )
}
