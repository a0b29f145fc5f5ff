//! The message bus between instances: PostgreSQL LISTEN/NOTIFY by default, or Redis pub/sub
//! (`--pubsub redis://...`) or NATS (`--pubsub nats://...`), to take that traffic off the
//! database.

use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::store::Db;
use crate::store::postgres::PgDb;

#[derive(Clone)]
pub enum Bus {
    Postgres(PgDb),
    Redis {
        client: redis::Client,
        publisher: redis::aio::MultiplexedConnection,
    },
    /// The client reconnects by itself; `reconnected` is told each time it does.
    Nats {
        client: async_nats::Client,
        reconnected: ReconnectListeners,
    },
}

/// Who is told when the NATS client has reconnected.
type ReconnectListeners =
    std::sync::Arc<parking_lot::Mutex<Vec<mpsc::UnboundedSender<(String, String)>>>>;

impl Bus {
    /// The bus of a deployment: the one `pubsub` names, else PostgreSQL's own; `None` on
    /// SQLite (one file, one instance).
    pub async fn connect(pubsub: Option<&str>, db: &Db) -> Result<Option<Bus>> {
        let pg = match db {
            Db::Postgres(pg) => pg,
            Db::Sqlite(_) if pubsub.is_some() => {
                return Err(Error::internal(
                    "--pubsub relays between instances on one PostgreSQL database: it needs --db",
                ));
            }
            Db::Sqlite(_) => return Ok(None),
        };
        match pubsub {
            None => Ok(Some(Bus::Postgres(pg.clone()))),
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                let client = redis::Client::open(url)
                    .map_err(|e| Error::internal(format!("invalid --pubsub URL: {e}")))?;
                let publisher = client
                    .get_multiplexed_async_connection()
                    .await
                    .map_err(|e| Error::internal(format!("cannot connect to Redis: {e}")))?;
                Ok(Some(Bus::Redis { client, publisher }))
            }
            Some(url) if url.starts_with("nats://") || url.starts_with("tls://") => {
                let reconnected = ReconnectListeners::default();
                let listeners = reconnected.clone();
                let first = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
                let options = async_nats::ConnectOptions::new().event_callback(move |event| {
                    let (listeners, first) = (listeners.clone(), first.clone());
                    async move {
                        // A connection after the first is a reconnect: what was sent meanwhile is lost.
                        if matches!(event, async_nats::Event::Connected)
                            && !first.swap(false, std::sync::atomic::Ordering::SeqCst)
                        {
                            for tx in listeners.lock().iter() {
                                let _ = tx.send((String::new(), String::new()));
                            }
                        }
                    }
                });
                let client = options
                    .connect(url)
                    .await
                    .map_err(|e| Error::internal(format!("cannot connect to NATS: {e}")))?;
                Ok(Some(Bus::Nats {
                    client,
                    reconnected,
                }))
            }
            Some(other) => Err(Error::internal(format!(
                "unsupported --pubsub {other:?}: use redis:// or nats://"
            ))),
        }
    }

    /// The largest payload sent as it is; larger ones travel through `_events`.
    pub fn inline_max(&self) -> usize {
        match self {
            // NOTIFY stops at 8000 bytes.
            Bus::Postgres(_) => 7000,
            Bus::Redis { .. } => 1 << 20,
            // NATS servers refuse messages over 1 MiB by default.
            Bus::Nats { .. } => 512 << 10,
        }
    }

    /// Whether the bus can carry a message now (readiness).
    pub async fn ping(&self) -> Result<()> {
        match self {
            Bus::Postgres(_) => Ok(()), // the database's own readiness covers it
            Bus::Redis { publisher, .. } => {
                let mut conn = publisher.clone();
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| Error::internal(format!("redis: {e}")))
            }
            Bus::Nats { client, .. } => match client.connection_state() {
                async_nats::connection::State::Connected => Ok(()),
                state => Err(Error::internal(format!("nats: {state:?}"))),
            },
        }
    }

    pub async fn publish(&self, channel: &str, payload: &str) -> Result<()> {
        match self {
            Bus::Postgres(pg) => pg.notify(channel, payload).await,
            Bus::Redis { publisher, .. } => {
                let mut conn = publisher.clone();
                redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(payload)
                    .query_async::<i64>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(|e| Error::internal(format!("redis publish: {e}")))
            }
            Bus::Nats { client, .. } => {
                client
                    .publish(channel.to_owned(), payload.to_owned().into())
                    .await
                    .map_err(|e| Error::internal(format!("nats publish: {e}")))?;
                client
                    .flush()
                    .await
                    .map_err(|e| Error::internal(format!("nats flush: {e}")))
            }
        }
    }

    /// Messages on `channels` as (channel, payload); `("", "")` after a reconnect (messages
    /// sent meanwhile are lost: refresh caches).
    pub async fn subscribe(&self, channels: &[&str]) -> mpsc::UnboundedReceiver<(String, String)> {
        match self {
            Bus::Postgres(pg) => {
                let (pg, channels) = (pg.clone(), owned(channels));
                reconnecting("PostgreSQL LISTEN", move |tx, first| {
                    let (pg, channels) = (pg.clone(), channels.clone());
                    async move { pg.listen_once(&channels, &tx, first).await }
                })
            }
            Bus::Redis { client, .. } => {
                let (client, channels) = (client.clone(), owned(channels));
                reconnecting("Redis subscription", move |tx, first| {
                    let (client, channels) = (client.clone(), channels.clone());
                    async move { redis_listen(&client, &channels, &tx, first).await }
                })
            }
            Bus::Nats {
                client,
                reconnected,
            } => {
                let (tx, rx) = mpsc::unbounded_channel();
                reconnected.lock().push(tx.clone());
                for channel in channels {
                    // Subscribed before this returns, so nothing published after is missed.
                    let mut subscriber = match client.subscribe(channel.to_string()).await {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::error!(error = %e, channel, "NATS subscription failed");
                            continue;
                        }
                    };
                    let (tx, channel) = (tx.clone(), (*channel).to_owned());
                    tokio::spawn(async move {
                        use futures_util::StreamExt;
                        while let Some(message) = subscriber.next().await {
                            let payload = String::from_utf8_lossy(&message.payload).into_owned();
                            if tx.send((channel.clone(), payload)).is_err() {
                                break;
                            }
                        }
                    });
                }
                if let Err(e) = client.flush().await {
                    tracing::warn!(error = %e, "NATS flush after subscribing");
                }
                rx
            }
        }
    }
}

fn owned(channels: &[&str]) -> Vec<String> {
    channels.iter().map(|c| (*c).to_owned()).collect()
}

/// Runs `listen` (one connection's life, told whether it is the first) again and again, half a
/// second apart, until the returned receiver is dropped.
fn reconnecting<F, Fut, E>(
    what: &'static str,
    mut listen: F,
) -> mpsc::UnboundedReceiver<(String, String)>
where
    F: FnMut(mpsc::UnboundedSender<(String, String)>, bool) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = std::result::Result<(), E>> + Send,
    E: std::fmt::Display,
{
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut first = true;
        while !tx.is_closed() {
            if let Err(e) = listen(tx.clone(), first).await {
                tracing::warn!(error = %e, what, "connection lost; reconnecting");
            }
            first = false;
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    });
    rx
}

async fn redis_listen(
    client: &redis::Client,
    channels: &[String],
    tx: &mpsc::UnboundedSender<(String, String)>,
    first: bool,
) -> redis::RedisResult<()> {
    use futures_util::StreamExt;
    let mut pubsub = client.get_async_pubsub().await?;
    for c in channels {
        pubsub.subscribe(c).await?;
    }
    if !first {
        let _ = tx.send((String::new(), String::new()));
    }
    let mut messages = pubsub.into_on_message();
    while let Some(msg) = messages.next().await {
        let payload: String = msg.get_payload().unwrap_or_default();
        if tx
            .send((msg.get_channel_name().to_owned(), payload))
            .is_err()
        {
            break;
        }
    }
    Ok(())
}
