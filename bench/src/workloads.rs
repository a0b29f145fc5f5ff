//! The workloads: what each worker sends, built once before a run from the seeded fixture.

use hyper::Method;
use serde_json::json;

use crate::client::{Req, encode};
use crate::seed::{Fixture, USER_PASSWORD};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    Floor,
    View,
    List,
    ListTotal,
    Expand,
    Update,
    Insert,
    Auth,
    /// A custom JSON route of a hook file (`--hooks bench/hooks`); run only when named.
    Route,
}

/// In running order: reads first, so that the rows the write workloads add (more on the faster
/// server) do not change what the reads see.
pub const ALL: [Workload; 8] = [
    Workload::Floor,
    Workload::View,
    Workload::List,
    Workload::ListTotal,
    Workload::Expand,
    Workload::Update,
    Workload::Insert,
    Workload::Auth,
];

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Floor => "floor",
            Workload::View => "view",
            Workload::List => "list",
            Workload::ListTotal => "list_total",
            Workload::Expand => "expand",
            Workload::Update => "update",
            Workload::Insert => "insert",
            Workload::Auth => "auth",
            Workload::Route => "route",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Workload::Floor => {
                "`GET /api/health`: fixed small JSON, no database (the cost of HTTP alone)"
            }
            Workload::View => {
                "`GET /messages/records/:id` as a user, viewRule `@request.auth.id != ''`"
            }
            Workload::List => {
                "50 messages of one room (indexed `room`), `sort=-created`, `skipTotal=1`"
            }
            Workload::ListTotal => "the same list without `skipTotal` (adds the COUNT)",
            Workload::Expand => "the same list (`skipTotal=1`) with `expand=room,author`",
            Workload::Update => {
                "`PATCH` the text of one of the caller's messages, updateRule `author = @request.auth.id`"
            }
            Workload::Insert => {
                "`POST` a message, createRule: author is the caller and a member of the room (join on `members`)"
            }
            Workload::Auth => {
                "`POST /users/auth-with-password` (password hashing dominates; hashing not weakened)"
            }
            Workload::Route => {
                "`GET /bench/hello/:name`, a JSON route of a JS hook file (`routerAdd`, needs `--hooks bench/hooks`)"
            }
        }
    }

    pub fn parse(s: &str) -> Option<Workload> {
        ALL.into_iter()
            .chain([Workload::Route])
            .find(|w| w.name() == s)
    }

    /// One request list per worker.
    pub fn plan(self, f: &Fixture, concurrency: usize) -> Vec<Vec<Req>> {
        (0..concurrency).map(|w| self.worker(f, w)).collect()
    }

    fn worker(self, f: &Fixture, w: usize) -> Vec<Req> {
        let user = &f.users[w % f.users.len()];
        let token = Some(user.token.as_str());
        let list_path = |room: &str, extra: &str| {
            let filter = encode(&format!("room = '{room}'"));
            format!(
                "/api/collections/messages/records?page=1&perPage=50&sort=-created{extra}&filter={filter}"
            )
        };
        let rooms = || (0..f.rooms.len()).map(move |k| &f.rooms[(w + k) % f.rooms.len()]);
        match self {
            Workload::Floor => vec![Req::get("/api/health", None)],
            Workload::View => (0..200)
                .map(|k| {
                    let id = &f.messages[(w * 157 + k * 37) % f.messages.len()];
                    Req::get(format!("/api/collections/messages/records/{id}"), token)
                })
                .collect(),
            Workload::List => rooms().map(|r| Req::get(list_path(r, "&skipTotal=1"), token)).collect(),
            Workload::ListTotal => rooms().map(|r| Req::get(list_path(r, ""), token)).collect(),
            Workload::Expand => rooms().map(|r| Req::get(list_path(r, "&skipTotal=1&expand=room%2Cauthor"), token)).collect(),
            Workload::Update => user
                .messages
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    let body = json!({"text": format!("edited by worker {w}, edit {k}")});
                    Req::json(Method::PATCH, format!("/api/collections/messages/records/{id}"), token, &body)
                })
                .collect(),
            Workload::Insert => user
                .rooms
                .iter()
                .map(|room| {
                    let body = json!({"room": room, "author": user.id, "text": format!("hello from worker {w}")});
                    Req::json(Method::POST, "/api/collections/messages/records", token, &body)
                })
                .collect(),
            Workload::Auth => {
                let body = json!({"identity": user.email, "password": USER_PASSWORD});
                vec![Req::json(Method::POST, "/api/collections/users/auth-with-password", None, &body)]
            }
            Workload::Route => (0..50).map(|k| Req::get(format!("/bench/hello/w{w}k{k}"), None)).collect(),
        }
    }
}
