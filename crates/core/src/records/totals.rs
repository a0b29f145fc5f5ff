//! A cache of list totals (`totalItems`): the count of a list is the same until a write ends,
//! and counting scans every row the filter and the rule let through, while the page reads at
//! most `perPage` of them. An answer is kept with the number of writes the database had ended
//! before it was counted (`Db::writes`), and served only while that number is unchanged: every
//! write, of any table, ends its entries before the writer learns it committed, so a total is
//! never older than a write already acknowledged.
//!
//! Only where one process writes (SQLite): on PostgreSQL another instance's commit is heard of
//! after the relay's latency, so its totals are always counted.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};

use oxbase_sql::{Sql, Value};
use parking_lot::Mutex;

/// Entries kept at most; past it, the entries of older writes go, and then all.
const CAPACITY: usize = 4096;

#[derive(Default)]
pub struct Totals {
    entries: Mutex<HashMap<u64, Entry>>,
    hasher: std::hash::RandomState,
}

struct Entry {
    count: Sql,
    writes: u64,
    total: i64,
}

impl Totals {
    /// The total `count` gave when the database had ended `writes` writes, if kept.
    pub fn get(&self, count: &Sql, writes: u64) -> Option<i64> {
        let key = self.key(count);
        let entries = self.entries.lock();
        entries
            .get(&key)
            .filter(|e| e.writes == writes && e.count == *count)
            .map(|e| e.total)
    }

    /// Keeps `total`, counted by `count` after the database had ended `writes` writes (read
    /// before the count began).
    pub fn put(&self, count: Sql, writes: u64, total: i64) {
        let key = self.key(&count);
        let mut entries = self.entries.lock();
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.retain(|_, e| e.writes == writes);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                count,
                writes,
                total,
            },
        );
    }

    fn key(&self, count: &Sql) -> u64 {
        let mut h = self.hasher.build_hasher();
        count.text().hash(&mut h);
        for param in count.params() {
            match param {
                Value::Null => 0u8.hash(&mut h),
                Value::Bool(b) => (1u8, b).hash(&mut h),
                Value::Int(i) => (2u8, i).hash(&mut h),
                Value::Float(f) => (3u8, f.to_bits()).hash(&mut h),
                Value::Text(t) => (4u8, t).hash(&mut h),
                Value::Blob(b) => (5u8, b).hash(&mut h),
            }
        }
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(owner: &str) -> Sql {
        let mut sql = Sql::raw("SELECT COUNT(*) FROM \"posts\" WHERE \"owner\" = ");
        sql.push_param(Value::Text(owner.into()));
        sql
    }

    #[test]
    fn a_total_is_served_only_while_no_write_has_ended_since_it_was_counted() {
        let totals = Totals::default();
        totals.put(count("a"), 7, 3);
        assert_eq!(totals.get(&count("a"), 7), Some(3));
        assert_eq!(totals.get(&count("a"), 8), None, "a write ended since");
        assert_eq!(totals.get(&count("b"), 7), None, "other parameters");
    }

    #[test]
    fn a_full_cache_drops_the_entries_of_older_writes_first() {
        let totals = Totals::default();
        for i in 0..CAPACITY {
            totals.put(count(&i.to_string()), 1, 1);
        }
        totals.put(count("new"), 2, 5);
        assert_eq!(totals.get(&count("new"), 2), Some(5));
        assert!(totals.entries.lock().len() == 1);
    }
}
