//! Log entries in a compact binary form. The log writer encodes each entry once, with no JSON
//! and no date formatting; SQLite keeps a batch of them as one row of `_logs_pending` until the
//! logs are read, and PostgreSQL's rows are written from the same form. An entry's `data`
//! object is a list of fields, made JSON text when the entry becomes a row.
//!
//! An entry, little-endian: the length of the rest (u32); the id (u8 length, bytes); the level
//! (i64); `created` (i64, µs since the Unix epoch); the message (u32 length, bytes); then fields
//! to the end, each a key (a byte: the place in [`KEYS`] with the high bit set, or the length
//! of the key's bytes that follow), a tag and a value.

use chrono::DateTime;

/// The keys of a request's `data`, written as one byte each (every entry has them).
const KEYS: [&str; 13] = [
    "type",
    "execTime",
    "url",
    "method",
    "status",
    "referer",
    "userAgent",
    "auth",
    "authId",
    "userIP",
    "remoteIP",
    "error",
    "details",
];
const KNOWN_KEY: u8 = 0x80;

const STR: u8 = 1;
const FLOAT: u8 = 2;
const INT: u8 = 3;
/// JSON text, written into the object as it is.
const JSON: u8 = 4;
/// The whole object as JSON text (an app event's attributes); no other field follows.
const OBJECT: u8 = 5;

/// Entries on their way to the database, in insertion order. Its buffers are kept across
/// batches (`clear`).
#[derive(Debug, Default)]
pub struct Batch {
    body: Vec<u8>,
    count: usize,
}

impl Batch {
    pub fn clear(&mut self) {
        self.body.clear();
        self.count = 0;
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries, encoded one after the other.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Starts an entry; its `data` fields follow through the returned writer.
    pub fn push(&mut self, id: &str, level: i64, created: i64, message: &str) -> Fields<'_> {
        self.count += 1;
        let start = self.body.len();
        self.body.extend_from_slice(&[0; 4]);
        push_short(&mut self.body, id);
        self.body.extend_from_slice(&level.to_le_bytes());
        self.body.extend_from_slice(&created.to_le_bytes());
        push_long(&mut self.body, message);
        Fields {
            out: &mut self.body,
            start,
        }
    }
}

/// The `data` fields of the entry being written; its length is set when this is dropped.
pub struct Fields<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
}

impl Fields<'_> {
    fn key(&mut self, key: &str, tag: u8) {
        if let Some(known) = KEYS.iter().position(|k| *k == key) {
            self.out.push(KNOWN_KEY | known as u8);
        } else {
            // Other keys are short (an app event's attributes go as one object).
            let mut end = key.len().min(usize::from(KNOWN_KEY - 1));
            while !key.is_char_boundary(end) {
                end -= 1;
            }
            self.out.push(end as u8);
            self.out.extend_from_slice(&key.as_bytes()[..end]);
        }
        self.out.push(tag);
    }

    pub fn text(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key, STR);
        push_long(self.out, value);
        self
    }

    pub fn float(&mut self, key: &str, value: f64) -> &mut Self {
        self.key(key, FLOAT);
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn int(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key, INT);
        self.out.extend_from_slice(&value.to_le_bytes());
        self
    }

    /// `json` must be valid JSON text.
    pub fn json(&mut self, key: &str, json: &str) -> &mut Self {
        self.key(key, JSON);
        push_long(self.out, json);
        self
    }

    /// The whole `data` object as JSON text, instead of fields.
    pub fn object(&mut self, json: &str) {
        self.key("", OBJECT);
        push_long(self.out, json);
    }
}

impl Drop for Fields<'_> {
    fn drop(&mut self) {
        let len = (self.out.len() - self.start - 4) as u32;
        self.out[self.start..self.start + 4].copy_from_slice(&len.to_le_bytes());
    }
}

fn push_short(out: &mut Vec<u8>, text: &str) {
    // Ids are 15 characters; a longer one is cut at a character boundary.
    let mut end = text.len().min(usize::from(u8::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.push(end as u8);
    out.extend_from_slice(&text.as_bytes()[..end]);
}

fn push_long(out: &mut Vec<u8>, text: &str) {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&text.as_bytes()[..len as usize]);
}

/// One entry read from a batch's body, borrowing it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub id: &'a str,
    pub level: i64,
    /// µs since the Unix epoch.
    pub created: i64,
    pub message: &'a str,
    fields: &'a [u8],
}

/// Reads bytes off the front of a slice; `None` past its end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.bytes(N)?.try_into().ok()
    }
    fn i64(&mut self) -> Option<i64> {
        self.array().map(i64::from_le_bytes)
    }
    fn len32(&mut self) -> Option<usize> {
        self.array().map(|b| u32::from_le_bytes(b) as usize)
    }
    fn short_text(&mut self) -> Option<&'a str> {
        let len = usize::from(self.bytes(1)?[0]);
        std::str::from_utf8(self.bytes(len)?).ok()
    }
    fn key(&mut self) -> Option<&'a str> {
        let first = self.bytes(1)?[0];
        if first & KNOWN_KEY != 0 {
            return KEYS.get(usize::from(first & !KNOWN_KEY)).copied();
        }
        std::str::from_utf8(self.bytes(usize::from(first))?).ok()
    }
    fn long_text(&mut self) -> Option<&'a str> {
        let len = self.len32()?;
        std::str::from_utf8(self.bytes(len)?).ok()
    }
}

/// The entry at the start of `bytes` and the length it takes; `None` if it is cut short.
pub fn read(bytes: &[u8]) -> Option<(Entry<'_>, usize)> {
    let mut head = Reader(bytes);
    let len = head.len32()?;
    let mut entry = Reader(head.bytes(len)?);
    let id = entry.short_text()?;
    let level = entry.i64()?;
    let created = entry.i64()?;
    let message = entry.long_text()?;
    Some((
        Entry {
            id,
            level,
            created,
            message,
            fields: entry.0,
        },
        4 + len,
    ))
}

/// The entries of a body, in order.
pub fn entries(body: &[u8]) -> impl Iterator<Item = Entry<'_>> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let (entry, len) = read(body.get(at..)?)?;
        at += len;
        Some(entry)
    })
}

impl Entry<'_> {
    /// `created` as PocketBase writes dates.
    pub fn push_created(&self, out: &mut String) {
        crate::dates::push_formatted(
            out,
            DateTime::from_timestamp_micros(self.created).unwrap_or_default(),
        );
    }

    /// `data` as JSON text (an object).
    pub fn push_data(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let mut fields = Reader(self.fields);
        out.push(b'{');
        let mut first = true;
        while let Some(key) = fields.key() {
            let Some(&[tag]) = fields.bytes(1) else { break };
            if tag == OBJECT {
                out.truncate(start);
                out.extend_from_slice(fields.long_text().unwrap_or("{}").as_bytes());
                return;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            let _ = serde_json::to_writer(&mut *out, key);
            out.push(b':');
            let value = match tag {
                STR => fields
                    .long_text()
                    .map(|text| serde_json::to_writer(&mut *out, text).is_ok()),
                FLOAT => fields.i64().map(|bits| {
                    serde_json::to_writer(&mut *out, &f64::from_bits(bits as u64)).is_ok()
                }),
                INT => fields
                    .i64()
                    .map(|n| serde_json::to_writer(&mut *out, &n).is_ok()),
                JSON => fields.long_text().map(|json| {
                    out.extend_from_slice(json.as_bytes());
                    true
                }),
                _ => None,
            };
            if value.is_none() {
                // A field cut short or of an unknown kind: the object ends before it.
                out.extend_from_slice(b"null");
                break;
            }
        }
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn data(entry: &Entry<'_>) -> Value {
        let mut out = Vec::new();
        entry.push_data(&mut out);
        serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"))
    }

    #[test]
    fn entries_read_back_as_written() {
        let mut batch = Batch::default();
        batch
            .push("a00000000000001", 8, 1_700_000_000_005_000, "GET /x \"y\"")
            .text("type", "request")
            .float("execTime", 1.25)
            .int("status", 404)
            .text("url", "/x?\u{1}é\"")
            .json("details", r#"{"f":{"code":"x"}}"#);
        batch
            .push("a00000000000002", 0, 1_600_000_000_000_000, "app event")
            .object(r#"{"k":[1,"v"]}"#);
        batch.push("a00000000000003", -4, 1_650_000_000_000_000, "");
        assert_eq!(batch.len(), 3);
        let read: Vec<Entry<'_>> = entries(batch.body()).collect();
        assert_eq!(read.len(), 3);
        assert_eq!(
            (read[0].id, read[0].level, read[0].message),
            ("a00000000000001", 8, "GET /x \"y\"")
        );
        assert_eq!(
            data(&read[0]),
            json!({"type": "request", "execTime": 1.25, "status": 404, "url": "/x?\u{1}é\"",
                   "details": {"f": {"code": "x"}}})
        );
        let mut created = String::new();
        read[0].push_created(&mut created);
        assert_eq!(created, "2023-11-14 22:13:20.005Z");
        assert_eq!(data(&read[1]), json!({"k": [1, "v"]}));
        assert_eq!(data(&read[2]), json!({}));
    }

    #[test]
    fn a_cut_body_reads_up_to_its_last_whole_entry() {
        let mut batch = Batch::default();
        batch.push("a", 0, 0, "one").int("n", 1);
        batch.push("b", 0, 0, "two").int("n", 2);
        let body = batch.body();
        for cut in 0..body.len() {
            assert!(entries(&body[..cut]).count() <= 1, "{cut}");
        }
        // A field of an unknown kind ends the object there, still JSON.
        let mut odd = Batch::default();
        odd.push("c", 0, 0, "").int("n", 1).key("bad", 99);
        // A key of no request is written out, cut to 127 bytes; a request's takes a byte.
        let mut keys = Batch::default();
        keys.push("d", 0, 0, "").int(&"k".repeat(300), 1);
        let long = entries(keys.body()).next();
        assert!(long.is_some_and(|e| data(&e) == json!({"k".repeat(127): 1})));
        let mut known = Batch::default();
        known.push("e", 0, 0, "").int("status", 1);
        assert_eq!(known.body().len(), keys.body().len() - 127);
        let entry = entries(odd.body()).next();
        assert!(entry.is_some_and(|e| data(&e) == json!({"n": 1, "bad": null})));
    }
}
