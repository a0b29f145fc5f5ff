//! SQLite and PostgreSQL answer every filter alike (issue #17): a seeded generator writes
//! filters over a fixture with fields of every type (text, number, bool, JSON documents and
//! paths holding numbers, strings, booleans, null, objects and arrays, selects, relations,
//! dates, modifiers), every operator and literals of every kind (numbers, numeric strings,
//! `'true'`/`'false'`, empty, null, other fields), joined with `&&` and `||`. Each filter runs
//! on the same records on SQLite and on PostgreSQL, and both must return the same ids (or
//! both refuse it); sorts must return the same order. SQLite is the reference: it is what
//! PocketBase runs on.
//!
//! It starts its own app on each database, so it needs PostgreSQL in both passes of the test
//! command (`spawn_postgres_app`). `OXBASE_PARITY_SEED` replays another corpus,
//! `OXBASE_PARITY_CASES` sets its size.

use std::collections::BTreeSet;
use std::time::Instant;

use serde_json::json;

use crate::helpers::*;

const DEFAULT_SEED: u64 = 0x0b5e_17d1_a1ec;
const DEFAULT_CASES: usize = 1000;
/// Records in the fixture's `pp`.
const ROWS: usize = 18;

/// SplitMix64: small, seeded, the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// Operands naming fields: every type, JSON paths to every kind of JSON value, relations,
/// multi-value fields and modifiers.
const FIELDS: &[&str] = &[
    "title",
    "body",
    "n",
    "m",
    "flag",
    "meta",
    "meta.lvl",
    "meta.s",
    "meta.a.b",
    "meta.list.0",
    "meta.missing",
    "meta:each",
    "meta.lvl:lower",
    "tags",
    "tags:each",
    "tags:length",
    "kind",
    "owner",
    "owner.name",
    "owner.score",
    "owner.flag",
    "owners",
    "owners.name",
    "owners.score",
    "owners:length",
    "when",
    "title:lower",
    "owner.name:lower",
    "id",
    "pc_via_post.votes",
    "pc_via_post.text",
    "@collection.pu.score",
    "@collection.pu.name",
    "@todayStart",
    "strftime('%Y', when)",
    "strftime('%Y-%m-%d %H:%M:%S', stamp)",
    "strftime('%Y-%m', when)",
    "stamp",
    "geoDistance(n, m, 1, 2)",
    "loc.lon",
    "loc.lat",
    "geoDistance(loc.lon, loc.lat, 1, 2)",
    "author",
    "author.email",
    "author.name",
    "author.verified",
];

/// Literals: numbers, numeric strings, booleans and their names, empty, null, patterns.
const LITERALS: &[&str] = &[
    "0", "1", "2", "5", "-1", "2.5", "10", "0.5", "''", "'5'", "'2'", "'2.5'", "' 5'", "'10'",
    "'1'", "'0'", "'x'", "'abc'", "'ABC'", "'a'", "'true'", "'false'", "true", "false", "null",
    "'a_b'", "'%'", "'-1'", "'1e1'", "'é'", "'É'", "'SS'", "'ß'",
];

const OPERATORS: &[&str] = &[
    "=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~",
];

/// Fields a sort may name: single-valued, or through a multiple relation or a back-relation
/// (the first related value); JSON documents and geoPoints sort by their text, written alike
/// on both.
const SORTS: &[&str] = &[
    "meta",
    "loc",
    "owners.name",
    "owners.score",
    "pc_via_post.votes",
    "pc_via_post.text",
    "title",
    "n",
    "flag",
    "meta.lvl",
    "meta.s",
    "meta.a.b",
    "kind",
    "owner.name",
    "owner.score",
    "when",
    "tags",
];

fn operand(rng: &mut Rng, literal_percent: usize) -> String {
    if rng.chance(literal_percent) {
        rng.pick(LITERALS).to_owned()
    } else {
        rng.pick(FIELDS).to_owned()
    }
}

fn comparison(rng: &mut Rng) -> String {
    // mostly a field against a literal or another field; sometimes a literal first, or two
    let left = operand(rng, 8);
    let right = operand(rng, 65);
    format!("{left} {} {right}", rng.pick(OPERATORS))
}

/// Paths through a multiple relation or a back-relation, for several `?`-conditions on one.
const MULTI_PATHS: &[&[&str]] = &[
    &["owners.name", "owners.score", "owners.flag"],
    &["pc_via_post.text", "pc_via_post.votes"],
];

fn filter(rng: &mut Rng) -> String {
    if rng.chance(8) {
        // two `?`-conditions on one path (PocketBase: on the same related record)
        let fields = MULTI_PATHS[rng.below(MULTI_PATHS.len())];
        let any = |rng: &mut Rng| {
            let ops: Vec<&str> = OPERATORS
                .iter()
                .copied()
                .filter(|o| o.starts_with('?'))
                .collect();
            let op = rng.pick(&ops);
            format!("{} {op} {}", rng.pick(fields), rng.pick(LITERALS))
        };
        let (a, b) = (any(rng), any(rng));
        let join = if rng.chance(70) { "&&" } else { "||" };
        return format!("{a} {join} {b}");
    }
    let terms = match rng.below(20) {
        0..10 => 1,
        10..17 => 2,
        _ => 3,
    };
    let mut out = comparison(rng);
    for i in 1..terms {
        let join = if rng.chance(50) { "&&" } else { "||" };
        let next = comparison(rng);
        out = if i == 1 && terms == 3 && rng.chance(50) {
            format!("({out} {join} {next})")
        } else {
            format!("{out} {join} {next}")
        };
    }
    out
}

/// The fixture, identical on both apps: ids are chosen, so results compare as they are.
async fn fixture(app: &TestApp) {
    let users = app
        .must_create_collection(json!({
            "name": "pu", "listRule": "", "viewRule": "",
            "fields": [
                {"name": "name", "type": "text"},
                {"name": "score", "type": "number"},
                {"name": "flag", "type": "bool"},
            ],
        }))
        .await;
    let authors = app
        .must_create_collection(json!({
            "name": "pa", "type": "auth", "listRule": "", "viewRule": "",
            "fields": [{"name": "name", "type": "text"}],
        }))
        .await;
    let posts = app.must_create_collection(json!({
        "name": "pp", "listRule": "", "viewRule": "",
        "fields": [
            {"name": "title", "type": "text"},
            {"name": "body", "type": "text"},
            {"name": "n", "type": "number"},
            {"name": "m", "type": "number"},
            {"name": "flag", "type": "bool"},
            {"name": "meta", "type": "json"},
            {"name": "tags", "type": "select", "values": ["a", "b", "c", "1", "2"], "maxSelect": 5},
            {"name": "kind", "type": "select", "values": ["a", "b", "1", "10", "2.5"], "maxSelect": 1},
            {"name": "owner", "type": "relation", "collectionId": users["id"], "maxSelect": 1},
            {"name": "owners", "type": "relation", "collectionId": users["id"], "maxSelect": 5},
            {"name": "when", "type": "date"},
            {"name": "stamp", "type": "text"},
            {"name": "loc", "type": "geoPoint"},
            {"name": "author", "type": "relation", "collectionId": authors["id"], "maxSelect": 1},
        ],
    }))
    .await;
    for (id, name, score, flag) in [
        ("u00000000000001", "ann", json!(5), true),
        ("u00000000000002", "5", json!(0), false),
        ("u00000000000003", "", json!(-1.5), true),
    ] {
        app.must_create_record(
            "pu",
            json!({"id": id, "name": name, "score": score, "flag": flag}),
        )
        .await;
    }
    let (u1, u2, u3) = ("u00000000000001", "u00000000000002", "u00000000000003");
    // authors whose email only some callers may see (a guest sees the visible ones)
    for (id, email, visible, verified, name) in [
        ("a00000000000001", "ann@example.com", true, true, "5"),
        ("a00000000000002", "bob@example.com", false, false, "bob"),
        ("a00000000000003", "5@example.com", false, true, ""),
    ] {
        app.must_create_record(
            "pa",
            json!({"id": id, "email": email, "emailVisibility": visible, "verified": verified,
                   "name": name, "password": "pass12345", "passwordConfirm": "pass12345"}),
        )
        .await;
    }
    let (a1, a2, a3) = ("a00000000000001", "a00000000000002", "a00000000000003");
    app.must_create_collection(json!({
        "name": "pc", "listRule": "", "viewRule": "",
        "fields": [
            {"name": "text", "type": "text"},
            {"name": "votes", "type": "number"},
            {"name": "post", "type": "relation", "collectionId": posts["id"], "maxSelect": 1},
        ],
    }))
    .await;
    let rows = [
        json!({"title": "", "body": "5", "n": 0, "m": 5, "flag": false}),
        json!({"title": "5", "body": "abc", "n": 5, "m": 5, "flag": true,
               "meta": {"lvl": 2, "s": "2", "a": {"b": 1}, "list": [1, "2", true]},
               "tags": ["a"], "kind": "a", "owner": u1, "owners": [u1], "when": "2024-01-02 10:00:00.000Z"}),
        json!({"title": "abc", "body": "", "n": -1, "m": 0, "flag": true,
               "meta": {"lvl": "2", "s": "x", "a": {"b": "1"}, "list": ["a"]},
               "tags": ["a", "b"], "kind": "1", "owner": u2, "owners": [u1, u2]}),
        json!({"title": "ABC", "body": "10", "n": 2.5, "m": -1, "flag": false,
               "meta": {"lvl": 2.5, "s": ""}, "tags": ["1"], "kind": "10", "owner": u3, "owners": [u3],
               "when": "2023-12-31 23:59:59.000Z"}),
        json!({"title": "10", "body": "2.5", "n": 10, "m": 2, "flag": true,
               "meta": {"lvl": true, "s": null, "list": []}, "tags": ["b", "c", "2"], "kind": "2.5"}),
        json!({"title": "2.5", "body": " 5", "n": 1, "m": 1, "flag": false,
               "meta": {"lvl": false, "a": {"b": true}}, "owner": u1, "owners": [u2, u3]}),
        json!({"title": " 5", "body": "true", "n": 2, "m": 10, "flag": true,
               "meta": {"lvl": null, "list": [null, 2.5]}, "tags": ["2"], "kind": "b"}),
        json!({"title": "true", "body": "false", "n": 100, "m": 0.5, "flag": false,
               "meta": {"lvl": {"a": 1}}, "when": "2024-06-01 00:00:00.000Z"}),
        json!({"title": "false", "body": "1", "n": 0.5, "m": 100, "flag": true,
               "meta": {"lvl": [1, 2], "s": "abc"}, "owner": u2}),
        json!({"title": "1", "body": "0", "n": -1, "m": -1, "flag": false,
               "meta": {"lvl": "abc", "a": {"b": null}}, "tags": ["c"]}),
        json!({"title": "0", "body": "a_b", "n": 5, "m": 2.5, "flag": true,
               "meta": {"lvl": ""}, "kind": "a", "owners": [u1]}),
        json!({"title": "a_b", "body": "x%y", "n": 0, "m": 0, "flag": false,
               "meta": {"lvl": 0, "s": "10"}, "owner": u3}),
        json!({"title": "x%y", "body": "2", "n": 10, "m": 10, "flag": true,
               "meta": {"lvl": "10", "s": "-1"}, "tags": ["a", "2"]}),
        json!({"title": "2", "body": "ABC", "n": 2, "m": 0, "flag": false, "meta": 5}),
        json!({"title": "-1", "body": "abc", "n": 0, "m": 1, "flag": true, "meta": "x"}),
        json!({"title": "1e1", "body": "", "n": 10, "m": 0, "flag": false, "meta": true}),
        json!({"title": "a", "body": "Éa", "n": 1, "m": 2, "flag": true, "meta": [1, "2", null]}),
        json!({"title": "É", "body": "STRASSE straße", "n": 3, "m": 3, "flag": false,
               "meta": {"lvl": "é", "s": "É"}}),
    ];
    assert_eq!(rows.len(), ROWS);
    // date texts as SQLite's date functions read them (or not), for strftime
    let stamps = [
        "2024-01-02 10:00:00.000Z",
        "2024-02-30",
        "2024-01-02T23:30:00+02:00",
        "abc",
        "2024-13-01",
        "2024-1-2",
        "2024-01-02 10:00 -01:30",
        "2024-01-02 10:00:00.123z",
        "2024-01-02Z",
        "2024-01-02 ",
        "2023-12-31 23:59:59",
    ];
    let locs = [
        json!({"lon": 1, "lat": 2}),
        json!({"lon": -1.5, "lat": 0.25}),
        json!({"lon": 10, "lat": 5}),
    ];
    let authors = [a1, a2, a3, ""];
    for (i, row) in rows.into_iter().enumerate() {
        let mut row = row;
        row["id"] = json!(format!("p{i:014}"));
        row["stamp"] = json!(stamps.get(i).copied().unwrap_or(""));
        if let Some(loc) = locs.get(i % 5) {
            row["loc"] = loc.clone();
        }
        row["author"] = json!(authors[i % authors.len()]);
        app.must_create_record("pp", row).await;
    }
    // comments on some posts (back-relations): none, one, several
    for (post, text, votes) in [
        (1, "5", 5),
        (1, "abc", 0),
        (2, "", -1),
        (3, "10", 10),
        (3, "x", 2),
        (3, "2", 2),
        (7, "true", 1),
        (13, "abc", 100),
    ] {
        app.must_create_record(
            "pc",
            json!({"post": format!("p{post:014}"), "text": text, "votes": votes}),
        )
        .await;
    }
}

/// What one database answers: the status and the ids in order.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    ids: Vec<String>,
}

async fn ask(app: &TestApp, filter: &str, sort: &str, guest: bool) -> Answer {
    let token = if guest { GUEST } else { &app.superuser_token };
    let r = app
        .list_records(
            "pp",
            &[
                ("filter", filter),
                ("sort", sort),
                ("perPage", "500"),
                ("fields", "id"),
                ("skipTotal", "1"),
            ],
            token,
        )
        .await;
    Answer {
        status: r.status,
        ids: if r.status == 200 { r.ids() } else { Vec::new() },
    }
}

/// Ids as a set (a filter's answer has no order of its own).
fn set(a: &Answer) -> (u16, BTreeSet<&str>) {
    (a.status, a.ids.iter().map(String::as_str).collect())
}

#[tokio::test]
async fn sqlite_and_postgres_return_the_same_records_for_generated_filters() {
    let seed = std::env::var("OXBASE_PARITY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let cases = std::env::var("OXBASE_PARITY_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let dir = tempfile::tempdir().expect("temp dir");
    let lite = spawn_sqlite_app_at(dir.path()).await;
    let pg = spawn_postgres_app().await;
    tokio::join!(fixture(&lite), fixture(&pg));

    let started = Instant::now();
    let mut rng = Rng(seed);
    // a third asked by a guest: hidden emails, the rules of the collections a filter walks into
    let filters: Vec<(String, bool)> = (0..cases)
        .map(|_| (filter(&mut rng), rng.chance(33)))
        .collect();
    let mut differences = Vec::new();
    let (mut answered, mut selective) = (0, 0);
    let (lite, pg) = (&lite, &pg);
    for chunk in filters.chunks(8) {
        let answers = futures_util::future::join_all(chunk.iter().map(|(f, guest)| async move {
            let (a, b) = tokio::join!(ask(lite, f, "id", *guest), ask(pg, f, "id", *guest));
            (f, guest, a, b)
        }))
        .await;
        for (f, guest, a, b) in answers {
            answered += usize::from(a.status == 200);
            // neither no record nor every record: the filter told records apart
            selective += usize::from(!a.ids.is_empty() && a.ids.len() < ROWS);
            if set(&a) != set(&b) {
                let who = if *guest { "guest" } else { "superuser" };
                differences.push(format!(
                    "filter {f} ({who})\n  SQLite:     {a:?}\n  PostgreSQL: {b:?}"
                ));
            }
        }
    }
    // sorts: the same order, NULLs first, numbers before text, ties broken by id
    for field in SORTS {
        for sort in [format!("{field},id"), format!("-{field},id")] {
            let (a, b) = tokio::join!(ask(lite, "", &sort, false), ask(pg, "", &sort, false));
            if a != b || a.status != 200 {
                differences.push(format!(
                    "sort {sort}\n  SQLite:     {a:?}\n  PostgreSQL: {b:?}"
                ));
            }
        }
    }
    eprintln!(
        "dialect parity: {cases} filters ({answered} answered, {selective} of them selecting \
         some records but not all; a third by a guest) and {} sorts in {:.1?}, seed {seed}",
        SORTS.len() * 2,
        started.elapsed()
    );
    assert!(
        selective * 3 > cases,
        "most generated filters should tell records apart ({selective} of {cases})"
    );
    assert!(
        differences.is_empty(),
        "{} of {cases} filters or sorts differ between SQLite and PostgreSQL (seed {seed}):\n{}",
        differences.len(),
        differences
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
