//! Outgoing mail: the sender and SMTP server come from the settings (`meta.senderName`,
//! `meta.senderAddress`, `smtp.*`), read at each send so a settings change applies at once.
//! With SMTP disabled, mail is logged instead (the local fallback), never lost silently.
//!
//! Mail sent in the background (the auth flows' verification, password reset, email change,
//! OTP and alerts) goes through the durable job queue (`jobs`, kind `mail`): the message is
//! stored, then sent by the queue's worker, retried with backoff while the SMTP server fails,
//! and kept as a dead job once out of attempts (retried as the `mail` settings say:
//! `maxAttempts`, `backoffMs`). Superusers list, view and replay the dead ones
//! (`/api/mail/dead-letters`), which show who a message was for and what it was about, never
//! its body (it carries tokens and codes). The test email and application code's
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
use crate::jobs::{DeadLetters, JobRow, Jobs, NewJob, Retry};
use crate::settings::Settings;

/// The queue's kind for outgoing mail.
pub const KIND: &str = "mail";

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
    /// Where background mail waits for its turn.
    queue: Jobs,
    /// `/api/mail/dead-letters`: messages out of attempts.
    dead: DeadLetters<DeadMail>,
}

impl Mailer {
    /// A mailer whose background mail goes through `jobs`, whose worker it registers with
    /// (the handler holds the settings and the SMTP pool, not the queue: no cycle).
    pub fn queued(settings: Settings, jobs: Jobs) -> Mailer {
        let mailer = Mailer {
            settings,
            smtp: smtp::Pool::default(),
            hook: Default::default(),
            dead: DeadLetters::new(jobs.clone(), KIND),
            queue: jobs,
        };
        let (settings, pool) = (mailer.settings.clone(), mailer.smtp.clone());
        let policy_of = settings.clone();
        mailer.queue.handle(
            KIND,
            Arc::new(move || {
                let mail = policy_of.mail();
                Retry {
                    max_attempts: mail.max_attempts,
                    base: Duration::from_millis(mail.backoff_ms),
                }
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
        mailer
    }

    /// `/api/mail/dead-letters` (superusers only): list, view, replay (queued again, with
    /// fresh attempts, to be sent as the settings say then).
    pub fn dead_letters(&self) -> &DeadLetters<DeadMail> {
        &self.dead
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
    /// fails).
    async fn send_queued(&self, message: Message) -> Result<()> {
        let Some(message) = self.through_hook(message).await? else {
            return Ok(());
        };
        let payload = serde_json::to_string(&message)
            .map_err(|e| crate::error::Error::internal(e.to_string()))?;
        self.queue
            .add(NewJob {
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

/// A dead mail job as the API shows it: who it was for and what it was about, never its body
/// (a password reset link, a verification token, an OTP code).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    /// The auth flow's template (`resetPasswordTemplate`, `verificationTemplate`,
    /// `confirmEmailChangeTemplate`, `otp`, `authAlert`), or `""`.
    pub template: String,
    /// The collection and id of the auth record it is about, or `""`.
    pub collection_name: String,
    pub record_id: String,
    pub attempts: i64,
    pub last_error: String,
    /// When it was queued (RFC 3339).
    pub created: String,
}

impl From<JobRow> for DeadMail {
    fn from(job: JobRow) -> DeadMail {
        let message: Message = serde_json::from_str(&job.payload).unwrap_or_default();
        let about = message.about.as_ref();
        let text = |f: fn(&About) -> String| about.map(f).unwrap_or_default();
        DeadMail {
            template: text(|a| a.template.clone()),
            collection_name: text(|a| a.collection_name.clone()),
            record_id: text(|a| {
                a.record
                    .get("id")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            }),
            to: message.to,
            subject: message.subject,
            created: crate::dates::rfc3339_micros(job.created),
            id: job.id,
            attempts: job.attempts,
            last_error: job.last_error,
        }
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
