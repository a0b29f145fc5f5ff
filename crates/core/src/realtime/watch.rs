//! The hub's side of deletes: inside the delete's transaction, before any row goes, each
//! question subscribers ask of the deleted records is answered, so a rule reading a related
//! row that the same delete removes (a cascade's parent) judges the state before the delete.
//! The messages themselves are made and sent after commit (`dispatch`).

use std::collections::HashMap;

use super::client::Clients;
use super::index::{Index, Subscriber};
use crate::error::Result;
use crate::events::{DeleteWatcher, Foreseen};
use crate::records::visibility::{self, Check};
use crate::schema::Record;
use crate::schema::{Collection, Schema};
use crate::store::Conn;

pub(super) struct Watch {
    pub clients: Clients,
    pub schema: Schema,
}

impl DeleteWatcher for Watch {
    fn watches(&self, collection: &Collection) -> bool {
        let clients = self.clients.read();
        clients.values().any(|client| {
            let subscriptions = client.subscriptions.read();
            subscriptions.iter().any(|s| {
                s.topic.collection == collection.name || s.topic.collection == collection.id
            })
        })
    }

    fn foresee(&self, conn: &mut dyn Conn, doomed: &[Record]) -> Result<Foreseen> {
        let index = Index::snapshot(&self.clients);
        // Per question, the records it is asked of (each once).
        let mut questions: HashMap<&str, (&Subscriber, Vec<&Record>)> = HashMap::new();
        for record in doomed {
            for subscriber in index.matching(record) {
                let (_, asked) = questions
                    .entry(subscriber.1.key.as_str())
                    .or_insert((subscriber, Vec::new()));
                if !asked.last().is_some_and(|last| std::ptr::eq(*last, record)) {
                    asked.push(record);
                }
            }
        }
        let mut foreseen = Foreseen::default();
        for (key, ((_, sub), records)) in questions {
            let req = sub.request();
            let answer = visibility::verdict(
                &self.schema,
                &req,
                &records[0].collection,
                sub.kind,
                sub.topic.option("filter"),
            )
            .and_then(|verdict| Check::new(self.schema.db().dialect(), &verdict, &records))
            .and_then(|check| crate::store::guarded(conn, |conn| check.run(conn)));
            match answer {
                Ok(passed) => {
                    let decided = records
                        .iter()
                        .map(|r| r.id().to_owned())
                        .zip(passed)
                        .collect();
                    foreseen.0.insert(key.to_owned(), decided);
                }
                // A check that cannot run must not fail the delete: the question stays open
                // and is asked again after commit.
                Err(e) => {
                    tracing::debug!(error = %e, topic = %sub.topic.raw, "realtime delete check failed")
                }
            }
        }
        Ok(foreseen)
    }
}
