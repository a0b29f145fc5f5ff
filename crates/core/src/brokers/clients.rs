//! The connections to the brokers, one per target, and a publish on each that returns only
//! once the broker confirmed the message: NATS JetStream (the PubAck; `Nats-Msg-Id` set to the
//! event id, so JetStream drops a retry it already stored), RabbitMQ (a publisher confirm, the
//! message persistent and mandatory: an unroutable one is a failure), Redis Streams (the entry
//! id `XADD` answers; `MAXLEN ~`).
//!
//! A connection is opened at a target's first publish and again after a failure (a connection
//! that failed once is dropped whole: reconnecting is the next attempt's business, under the
//! queue's backoff). A target whose kind or URL changed gets a new one.

use std::collections::HashMap;
use std::sync::Arc;

use crate::settings::BrokerTarget;

/// CloudEvents' media type for the structured mode.
const CONTENT_TYPE: &str = "application/cloudevents+json";

/// What one attempt publishes.
pub(super) struct Message<'a> {
    /// The event id (the broker's message id, for deduplication).
    pub id: &'a str,
    /// The CloudEvents `type`.
    pub kind: &'a str,
    /// The subject, routing key or stream key.
    pub subject: &'a str,
    /// The CloudEvent, JSON.
    pub body: &'a str,
}

/// Whether `url` has a scheme `kind`'s client speaks.
pub(super) fn url_fits(kind: &str, url: &str) -> bool {
    let schemes: &[&str] = match kind {
        "nats" => &["nats://", "tls://"],
        "rabbitmq" => &["amqp://", "amqps://"],
        "redis" => &["redis://", "rediss://"],
        _ => &[],
    };
    schemes
        .iter()
        .any(|s| url.starts_with(s) && url.len() > s.len())
}

#[derive(Default)]
pub(super) struct Clients {
    slots: parking_lot::Mutex<HashMap<String, Arc<Slot>>>,
}

/// One target's connection. The async lock is held while connecting, so the attempts of a
/// round that find no connection open one, not one each.
struct Slot {
    kind: String,
    url: String,
    client: tokio::sync::Mutex<Option<Client>>,
}

#[derive(Clone)]
enum Client {
    Nats(async_nats::jetstream::Context),
    Rabbit(Arc<lapin::Connection>, lapin::Channel),
    Redis(redis::aio::MultiplexedConnection),
}

impl Clients {
    /// Publishes `message` to `target`; `Ok` once the broker confirmed it.
    pub(super) async fn publish(
        &self,
        target: &BrokerTarget,
        message: &Message<'_>,
    ) -> Result<(), String> {
        let slot = self.slot(target);
        let client = {
            let mut held = slot.client.lock().await;
            match held.as_ref() {
                Some(Client::Rabbit(_, channel)) if !channel.status().connected() => {
                    *held = None;
                }
                _ => {}
            }
            if held.is_none() {
                *held = Some(connect(&slot.kind, &slot.url).await?);
            }
            held.clone().ok_or("not connected")?
        };
        let outcome = match &client {
            Client::Nats(js) => nats(js, message).await,
            Client::Rabbit(_, channel) => rabbit(channel, target, message).await,
            Client::Redis(conn) => self::redis(conn.clone(), target, message).await,
        };
        if outcome.is_err() {
            drop(client);
            self.forget(&target.name);
        }
        outcome
    }

    /// Drops `name`'s connection (after a failure or a timeout): the next attempt opens one.
    pub(super) fn forget(&self, name: &str) {
        let Some(slot) = self.slots.lock().remove(name) else {
            return;
        };
        // A connection being opened keeps its slot until done; then nobody holds it.
        tokio::spawn(async move {
            if let Some(Client::Rabbit(conn, _)) = slot.client.lock().await.take() {
                // lapin keeps a connection's I/O running until it is closed.
                let closing = conn.close(0, "oxbase: reconnecting".into());
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), closing).await;
            }
        });
    }

    /// Closes the connections of targets no longer configured.
    pub(super) fn keep_only<'a>(&self, names: impl Iterator<Item = &'a str>) {
        let names: std::collections::HashSet<&str> = names.collect();
        let gone: Vec<String> = self
            .slots
            .lock()
            .keys()
            .filter(|k| !names.contains(k.as_str()))
            .cloned()
            .collect();
        for name in gone {
            self.forget(&name);
        }
    }

    fn slot(&self, target: &BrokerTarget) -> Arc<Slot> {
        let mut slots = self.slots.lock();
        if let Some(slot) = slots.get(&target.name)
            && slot.kind == target.kind
            && slot.url == target.url
        {
            return slot.clone();
        }
        let slot = Arc::new(Slot {
            kind: target.kind.clone(),
            url: target.url.clone(),
            client: tokio::sync::Mutex::new(None),
        });
        slots.insert(target.name.clone(), slot.clone());
        slot
    }
}

async fn connect(kind: &str, url: &str) -> Result<Client, String> {
    match kind {
        "nats" => {
            let client = async_nats::ConnectOptions::new()
                .connect(url)
                .await
                .map_err(|e| format!("NATS: cannot connect: {e}"))?;
            Ok(Client::Nats(async_nats::jetstream::new(client)))
        }
        "rabbitmq" => {
            let conn = lapin::Connection::connect(url, lapin::ConnectionProperties::default())
                .await
                .map_err(|e| format!("RabbitMQ: cannot connect: {e}"))?;
            let channel = conn
                .create_channel()
                .await
                .map_err(|e| format!("RabbitMQ: no channel: {e}"))?;
            channel
                .confirm_select(lapin::options::ConfirmSelectOptions::default())
                .await
                .map_err(|e| format!("RabbitMQ: no publisher confirms: {e}"))?;
            Ok(Client::Rabbit(Arc::new(conn), channel))
        }
        "redis" => {
            let client = redis::Client::open(url).map_err(|e| format!("Redis: a bad URL: {e}"))?;
            let conn = client
                .get_multiplexed_async_connection()
                .await
                .map_err(|e| format!("Redis: cannot connect: {e}"))?;
            Ok(Client::Redis(conn))
        }
        other => Err(format!("no broker of type {other:?}")),
    }
}

async fn nats(js: &async_nats::jetstream::Context, message: &Message<'_>) -> Result<(), String> {
    let publish = async_nats::jetstream::message::PublishMessage::build()
        .payload(bytes::Bytes::copy_from_slice(message.body.as_bytes()))
        .message_id(message.id)
        .header("content-type", CONTENT_TYPE);
    let ack = js
        .send_publish(message.subject.to_owned(), publish)
        .await
        .map_err(|e| format!("NATS: publish failed: {e}"))?;
    ack.await
        .map(|_| ())
        .map_err(|e| format!("NATS: no acknowledgement: {e}"))
}

async fn rabbit(
    channel: &lapin::Channel,
    target: &BrokerTarget,
    message: &Message<'_>,
) -> Result<(), String> {
    let properties = lapin::BasicProperties::default()
        .with_message_id(message.id.into())
        .with_content_type(CONTENT_TYPE.into())
        .with_type(message.kind.into())
        // Persistent: a durable queue keeps it through a broker restart.
        .with_delivery_mode(2);
    let confirm = channel
        .basic_publish(
            target.exchange.as_str().into(),
            message.subject.into(),
            // Mandatory: a message no queue takes comes back, and counts as not delivered.
            lapin::options::BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            message.body.as_bytes(),
            properties,
        )
        .await
        .map_err(|e| format!("RabbitMQ: publish failed: {e}"))?
        .await
        .map_err(|e| format!("RabbitMQ: no confirmation: {e}"))?;
    if confirm.is_nack() {
        return Err("RabbitMQ: the broker refused the message (nack)".to_owned());
    }
    if !confirm.is_ack() {
        return Err("RabbitMQ: the message was not confirmed".to_owned());
    }
    match confirm.take_message() {
        Some(returned) => Err(format!(
            "RabbitMQ: unroutable ({}): no queue is bound for {:?}",
            returned.reply_text, message.subject
        )),
        None => Ok(()),
    }
}

async fn redis(
    mut conn: redis::aio::MultiplexedConnection,
    target: &BrokerTarget,
    message: &Message<'_>,
) -> Result<(), String> {
    let mut xadd = redis::cmd("XADD");
    xadd.arg(message.subject);
    if target.max_len > 0 {
        xadd.arg("MAXLEN").arg("~").arg(target.max_len);
    }
    xadd.arg("*")
        .arg("id")
        .arg(message.id)
        .arg("type")
        .arg(message.kind)
        .arg("datacontenttype")
        .arg(CONTENT_TYPE)
        .arg("event")
        .arg(message.body);
    let entry: Option<String> = xadd
        .query_async(&mut conn)
        .await
        .map_err(|e| format!("Redis: XADD failed: {e}"))?;
    entry
        .map(|_| ())
        .ok_or_else(|| "Redis: XADD answered no entry id".to_owned())
}
