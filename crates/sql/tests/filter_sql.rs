//! Snapshot tests of the compiler: one per grammar construct, operator, comparison form,
//! multi-value shape and function, each rendered for SQLite and PostgreSQL with its params.
//! Review changes with `INSTA_UPDATE=always cargo test -p oxbase-sql` and read the .snap diff.

#![allow(clippy::unwrap_used)]

mod support;

use oxbase_sql::sort::parse_sort;
use oxbase_sql::{Dialect, compile_sort};
use support::{Fake, both};

macro_rules! snapshots {
    ($($name:ident => $filter:expr,)*) => {
        $(
            #[test]
            fn $name() {
                insta::assert_snapshot!(both($filter));
            }
        )*
    };
}

snapshots! {
    collection_scope_every_row_with_plain_operator => "@collection.labels.name = 'rust'",
    collection_scope_shared_row_with_any_of => "@collection.labels.name ?= 'rust'",
    // operators on a text field
    eq_text_literal => "title = 'rust'",
    neq_text_literal => "title != 'rust'",
    like_wraps_and_escapes => "title ~ 'a_b'",
    like_keeps_explicit_wildcards => "title ~ 'ru%t'",
    not_like_is_plain => "title !~ 'rust'",
    like_field_pattern => "title ~ author.name",
    like_number_field => "views ~ 12",
    like_null_pattern => "title ~ null",
    ordering_operators => "views > 1 && views >= 2 && views < 3.5 && views <= -4",
    any_operator_on_single_value => "title ?= 'rust' && views ?> 3",
    double_quoted_string_with_escape => r#"title = "say \"hi\"" && title = 'it\'s'"#,
    comment_is_ignored => "title = 'a' // trailing comment\n && views > 1",

    // equality normalisation (PocketBase's resolveEqualExpr)
    eq_empty_string => "title = ''",
    eq_null => "title = null",
    neq_empty_string => "title != ''",
    neq_null_on_left => "null != title",
    eq_two_fields_coalesce => "title = author.name",
    neq_two_fields_coalesce => "title != author.name",
    both_sides_empty => "'' = null && null != ''",
    literal_vs_literal => "1 = '1' && 'a' != 2 && true = 1",
    number_field_vs_numeric_text => "views = '5'",
    number_field_vs_text => "views = 'abc'",
    number_field_vs_empty => "views = '' && views != null",
    number_field_vs_field => "views = lon && views != lat",
    bool_field_literals => "active = true && active != 0 && active = 'false'",
    bool_field_vs_other_number => "active = 2",
    bool_vs_number_field => "active = views",
    text_vs_number_field => "title = views",
    any_field => "misc = 'x' && misc = misc",

    // json
    json_eq_null => "data = null",
    json_neq_text => "data.a.b != 'x'",
    json_path_number => "data.a.b > 5 && data.items.0 = 1",
    json_path_bool => "data.a.b = true",
    json_vs_number_field => "data.a.b = views",
    json_path_text => "data.a.b = '2' && data.a.b != 'x'",
    json_path_ordering => "data.a.b > 1 && data.a.b < 'b'",
    json_path_neq_number => "data.a.b != 2",
    json_path_empty => "data.a.b = '' && data.a.b != null",
    json_path_like => "data.a.b ~ 1",
    json_doc_number => "data = 5 && data > 'x'",

    // SQLite's affinity and storage classes, followed on PostgreSQL
    text_field_vs_number => "title = 5 && title > 5.0",
    lowered_text_vs_number => "title:lower = 5",
    number_field_vs_text_ordering => "views > 'abc' && views < '10'",
    text_vs_number_field_ordering => "title > views",
    length_vs_numeric_text => "tags:length = '2'",

    // logic
    and_chain => "title = 'a' && views > 1 && active = true",
    or_chain => "title = 'a' || title = 'b'",
    and_binds_tighter_than_or => "title = 'a' || title = 'b' && views > 1",
    parentheses_group => "(title = 'a' || title = 'b') && views > 1",
    nested_groups => "((title = 'a' && (views > 1 || views < -1)) || active = false)",

    // modifiers and request data (resolved by the application)
    lower_modifier => "title:lower = 'rust'",
    length_modifier => "tags:length > 2",
    request_auth_id_is_direct => "@request.auth.id != '' && author.name = @request.auth.id",
    request_empty_value => "title = @request.auth.name",
    request_number_any => "views > @request.auth.age",
    request_missing_is_null => "title = @request.query.missing",
    request_isset_bool => "@request.body.title:isset = false",
    now_macro => "created < @now",
    relation_path => "author.name ~ 'ann'",

    // multi-value operands
    many_eq_all => "tags = 'a'",
    many_any_eq => "tags ?= 'a'",
    many_eq_empty => "tags = ''",
    many_neq_all => "tags != 'a'",
    many_any_like => "comments_via_post.text ?~ 'spam'",
    many_not_like_all => "comments_via_post.text !~ 'spam'",
    many_ordering_all => "comments_via_post.votes > 10",
    many_on_right => "'a' = tags",
    many_each_modifier => "tags:each ?~ 'x'",
    many_vs_many_all => "tags = @collection.users.name",
    many_vs_many_any => "tags ?= @collection.users.name",
    many_vs_single_field => "@collection.users.name ?= author.name",
    many_numbers_vs_number_text => "comments_via_post.votes ?= '3'",

    // functions
    geo_distance_literals => "geoDistance(lon, lat, 23.32, 42.69) < 25",
    geo_distance_eq_null => "geoDistance(lon, lat, lon, lat) = null",
    strftime_field => "strftime('%Y-%m', created) = '2024-05'",
    strftime_with_modifiers => "strftime('%Y', created, 'start of year', '+1 day') != ''",
    strftime_now => "strftime('%Y') = '2024'",
    strftime_many => "strftime('%Y', comments_via_post.created) ?= '2024'",
    strftime_number_time_value => "strftime('%Y', 1700000000, 'unixepoch') = '2023'",

    // errors
    unknown_field => "titel = 'x'",
    forbidden_field => "secret = 'x'",
    unknown_function => "lower(title) = 'x'",
    geo_distance_wrong_arity => "geoDistance(lon, lat) < 1",
    geo_distance_many_argument => "geoDistance(comments_via_post.votes, lat, 1, 2) < 1",
    geo_distance_text_argument => "geoDistance('1', lat, 1, 2) < 1",
    strftime_needs_text_format => "strftime(created) = '2024'",
    strftime_unsupported_pg_format => "strftime('%s', created) > '0'",
    parse_error_is_reported => "title = ",
}

fn sort(input: &str) -> String {
    let mut out = format!("sort: {input}\n");
    let items = parse_sort(input).unwrap();
    for d in [Dialect::Sqlite, Dialect::Postgres] {
        out.push_str(&format!("\n{d:?}:\n"));
        match compile_sort(&items, &Fake(d), d) {
            Ok(sql) => out.push_str(&format!("{}\nparams: {:?}\n", d.render(&sql), sql.params())),
            Err(e) => out.push_str(&format!("error: {e}\n")),
        }
    }
    out
}

#[test]
fn sort_fields_directions_and_random() {
    insta::assert_snapshot!(sort("-created,+title,author.name,@random,-@rowid"));
}

/// PostgreSQL gets a NULLS clause only where a NULL can be: not for the row's NOT NULL columns
/// (an index can then give the order), but for a relation's value and a masked one.
#[test]
fn sort_names_where_nulls_go_only_where_there_can_be_nulls() {
    insta::assert_snapshot!(sort("-created,views,email,-author.name,misc"));
}

#[test]
fn sort_by_json_path_orders_classes_like_sqlite() {
    insta::assert_snapshot!(sort("data.a.b,-data"));
}

#[test]
fn sort_by_many_is_an_error() {
    insta::assert_snapshot!(sort("tags"));
}

#[test]
fn sort_by_unknown_field_is_an_error() {
    insta::assert_snapshot!(sort("-nope"));
}

#[test]
fn empty_sort_is_empty() {
    assert!(
        compile_sort(&[], &Fake(Dialect::Sqlite), Dialect::Sqlite)
            .unwrap()
            .is_empty()
    );
}
