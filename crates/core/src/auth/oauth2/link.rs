//! Which record an OAuth2 login signs in to. The account-takeover guard lives here.
//!
//! PocketBase advisory GHSA-pq7p-mc74-g65w (and the older unverified-email auto-link class of
//! bugs) come from linking a provider identity to an existing record only because the email
//! addresses match. Two attacks follow:
//! - an attacker's provider account claims the victim's address without having verified it,
//!   and is linked into the victim's record;
//! - an attacker pre-registers an unverified record with the victim's address; when the
//!   victim later signs in with a provider that verified the address, the identity is linked
//!   into the attacker's record, which the attacker still controls (by password, or by an
//!   earlier provider link).
//!
//! The rule: a match by email links only when BOTH the provider says the address is verified
//! AND the existing record's address is verified (its owner proved it to us). Otherwise the
//! login is refused (the address is taken), and the user signs in first and links from
//! there (an authenticated request links explicitly). And when an unverified record becomes
//! verified (a mailed link, code or reset), links made while it was unverified are dropped.

use crate::records::Record;

use super::providers::ExternalUser;

/// What to do with an OAuth2 login.
#[derive(Debug)]
pub enum Decision {
    /// The identity is already linked to this record.
    Linked(Record),
    /// Link the identity to this record, then sign in to it.
    Link(Record),
    /// No record has the identity or its address: create one.
    Create,
    /// Refused; the message says why.
    Refuse(&'static str),
}

/// PB-COMPAT: PocketBase links by email when the record exists; oxbase requires both sides
/// to have verified the address (see the module header).
pub const EMAIL_TAKEN: &str =
    "An account with this email already exists. Sign in to it first, then link this provider.";
pub const LINKED_ELSEWHERE: &str = "The OAuth2 account is already linked to another record.";

/// `linked`: the record the identity is linked to; `current`: the caller's own record of the
/// collection, if authenticated; `by_email`: the record with the provider's address.
pub fn decide(
    linked: Option<Record>,
    current: Option<Record>,
    by_email: Option<Record>,
    user: &ExternalUser,
) -> Decision {
    match (linked, current) {
        (Some(l), Some(c)) if l.id() != c.id() => Decision::Refuse(LINKED_ELSEWHERE),
        (Some(l), _) => Decision::Linked(l),
        (None, Some(c)) => Decision::Link(c),
        (None, None) => match by_email {
            Some(r)
                if user.email_verified && r.get("verified") == &serde_json::Value::Bool(true) =>
            {
                Decision::Link(r)
            }
            Some(_) => Decision::Refuse(EMAIL_TAKEN),
            None => Decision::Create,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::schema::{Collection, CollectionKind};

    fn record(id: &str, verified: bool) -> Record {
        let mut r = Record::new(Arc::new(Collection::new("users", CollectionKind::Auth)));
        r.data.insert("id".into(), json!(id));
        r.data.insert("verified".into(), json!(verified));
        r
    }

    fn user(verified: bool) -> ExternalUser {
        ExternalUser {
            id: "ext".into(),
            email: "v@x.io".into(),
            email_verified: verified,
            ..ExternalUser::default()
        }
    }

    fn name(d: &Decision) -> String {
        match d {
            Decision::Linked(r) => format!("linked {}", r.id()),
            Decision::Link(r) => format!("link {}", r.id()),
            Decision::Create => "create".into(),
            Decision::Refuse(m) => format!("refuse {m}"),
        }
    }

    #[test]
    fn an_email_match_links_only_when_provider_and_record_both_verified_it() {
        assert_eq!(
            name(&decide(None, None, Some(record("r", true)), &user(true))),
            "link r"
        );
        assert_eq!(
            name(&decide(None, None, Some(record("r", true)), &user(false))),
            format!("refuse {EMAIL_TAKEN}")
        );
        assert_eq!(
            name(&decide(None, None, Some(record("r", false)), &user(true))),
            format!("refuse {EMAIL_TAKEN}")
        );
        assert_eq!(name(&decide(None, None, None, &user(false))), "create");
    }

    #[test]
    fn existing_links_and_the_callers_own_record_come_first() {
        assert_eq!(
            name(&decide(
                Some(record("a", false)),
                None,
                Some(record("b", true)),
                &user(true)
            )),
            "linked a"
        );
        assert_eq!(
            name(&decide(
                None,
                Some(record("me", false)),
                Some(record("b", true)),
                &user(false)
            )),
            "link me"
        );
        assert_eq!(
            name(&decide(
                Some(record("a", true)),
                Some(record("me", true)),
                None,
                &user(true)
            )),
            format!("refuse {LINKED_ELSEWHERE}")
        );
        assert_eq!(
            name(&decide(
                Some(record("me", true)),
                Some(record("me", true)),
                None,
                &user(true)
            )),
            "linked me"
        );
    }
}
