//! The workloads: what each worker sends, built once before a run from the seeded fixture.

use hyper::Method;
use serde_json::json;

use crate::check::{Check, Page};
use crate::client::{Req, encode};
use crate::seed::{Fixture, USER_PASSWORD};
use crate::server::Kind;

/// The `graphql` workload's query: what REST's `expand=room` list answers (the message's fields,
/// its room's), selected by name.
const GRAPHQL_LIST: &str = "query($filter: String) { messagesList(filter: $filter, sort: \"-created\", page: 1, perPage: 50) \
     { page perPage totalItems totalPages items { id room author text created updated room_rel { id name } } } }";

/// The page size of the list workloads.
pub const PER_PAGE: usize = 50;

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
    /// GraphQL (oxbase only): the list of 50 with each message's room nested.
    Graphql,
    /// The same list over REST: `expand=room`, with the total (GraphQL's list always counts).
    GraphqlRest,
    /// A custom JSON route of a hook file (`--hooks bench/hooks`); run only when named.
    Route,
}

/// In running order: reads first, so that the rows the write workloads add (more on the faster
/// server) do not change what the reads see.
pub const ALL: [Workload; 10] = [
    Workload::Floor,
    Workload::View,
    Workload::List,
    Workload::ListTotal,
    Workload::Expand,
    Workload::Graphql,
    Workload::GraphqlRest,
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
            Workload::Graphql => "graphql",
            Workload::GraphqlRest => "graphql_rest",
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
            Workload::Graphql => {
                "`POST /api/graphql`: the 50 newest messages of one room with each one's room nested (`room_rel`), total included (oxbase only)"
            }
            Workload::GraphqlRest => {
                "the same list over REST: `expand=room`, with the total (GraphQL's list always counts)"
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

    /// Whether `kind` can answer it (GraphQL is oxbase's own).
    pub fn runs_on(self, kind: Kind) -> bool {
        match self {
            Workload::Graphql => matches!(kind, Kind::Oxbase | Kind::Baseline),
            Workload::Floor => true,
            _ => kind != Kind::Nginx,
        }
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
                "/api/collections/messages/records?page=1&perPage={PER_PAGE}&sort=-created{extra}&filter={filter}"
            )
        };
        let rooms = || (0..f.rooms.len()).map(move |k| &f.rooms[(w + k) % f.rooms.len()]);
        let page = |r: &str, total: bool, expand: bool| {
            let n = f.room_messages(r);
            Page::rest(r, n.min(PER_PAGE), total.then_some(n), expand)
        };
        match self {
            Workload::Floor => vec![Req::get("/api/health", None).expect(Check::Object)],
            Workload::View => (0..200)
                .map(|k| {
                    let id = &f.messages[(w * 157 + k * 37) % f.messages.len()];
                    Req::get(format!("/api/collections/messages/records/{id}"), token).expect(Check::record(id))
                })
                .collect(),
            Workload::List => rooms()
                .map(|r| Req::get(list_path(r, "&skipTotal=1"), token).expect(Check::Page(page(r, false, false))))
                .collect(),
            Workload::ListTotal => rooms()
                .map(|r| Req::get(list_path(r, ""), token).expect(Check::Page(page(r, true, false))))
                .collect(),
            Workload::Expand => rooms()
                .map(|r| {
                    Req::get(list_path(r, "&skipTotal=1&expand=room%2Cauthor"), token)
                        .expect(Check::Page(page(r, false, true)))
                })
                .collect(),
            Workload::Graphql => rooms()
                .map(|r| {
                    let n = f.room_messages(r);
                    let body = json!({"query": GRAPHQL_LIST, "variables": {"filter": format!("room = '{r}'")}});
                    Req::json(Method::POST, "/api/graphql", token, &body).expect(Check::Graphql {
                        field: "messagesList".into(),
                        page: Page::graphql(r, n.min(PER_PAGE), Some(n)),
                    })
                })
                .collect(),
            Workload::GraphqlRest => rooms()
                .map(|r| Req::get(list_path(r, "&expand=room"), token).expect(Check::Page(page(r, true, true))))
                .collect(),
            Workload::Update => user
                .messages
                .iter()
                .enumerate()
                .map(|(k, id)| {
                    let text = format!("edited by worker {w}, edit {k}");
                    Req::json(Method::PATCH, format!("/api/collections/messages/records/{id}"), token, &json!({"text": text}))
                        .expect(Check::written(&[("id", id), ("text", &text)]))
                })
                .collect(),
            Workload::Insert => user
                .rooms
                .iter()
                .map(|room| {
                    let text = format!("hello from worker {w}");
                    let body = json!({"room": room, "author": user.id, "text": text});
                    Req::json(Method::POST, "/api/collections/messages/records", token, &body)
                        .expect(Check::written(&[("room", room), ("author", &user.id), ("text", &text)]))
                })
                .collect(),
            Workload::Auth => {
                let body = json!({"identity": user.email, "password": USER_PASSWORD});
                vec![Req::json(Method::POST, "/api/collections/users/auth-with-password", None, &body).expect(Check::token(&user.id))]
            }
            Workload::Route => (0..50)
                .map(|k| {
                    let name = format!("w{w}k{k}");
                    Req::get(format!("/bench/hello/{name}"), None).expect(Check::Contains(format!("\"Hello {name}\"")))
                })
                .collect(),
        }
    }
}
