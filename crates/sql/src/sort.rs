//! The `sort` query parameter: `-created,title`, `+title`, `@random`, `@rowid`, relation paths
//! (`author.name`). Parsing only; [`crate::compile_sort`] turns items into ORDER BY terms.
//!
//! Items are comma-separated; a `-` prefix sorts descending, `+` (or nothing) ascending;
//! surrounding whitespace is ignored. Each name follows the filter identifier rules, but may
//! start with a digit. At most [`MAX_SORT_ITEMS`] items (PocketBase's `DefaultSortExprLimit`)
//! of at most [`MAX_SORT_FIELD_LEN`] bytes (`MaxSortFieldLength`).

use crate::ParseError;
use crate::filter::lexer::validate_ident;

/// The identifier that sorts randomly.
pub const RANDOM: &str = "@random";
/// The identifier of the insertion order.
pub const ROWID: &str = "@rowid";
/// At most this many sort items.
pub const MAX_SORT_ITEMS: usize = 8;
/// At most this many bytes per sort item.
pub const MAX_SORT_FIELD_LEN: usize = 255;

/// One `ORDER BY` term as written by the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortItem {
    /// The identifier, without the direction prefix.
    pub ident: String,
    pub desc: bool,
}

/// Parses a sort expression. Empty or whitespace-only input gives no items.
pub fn parse_sort(input: &str) -> Result<Vec<SortItem>, ParseError> {
    let mut items = Vec::new();
    if input.trim().is_empty() {
        return Ok(items);
    }
    let mut offset = 0;
    for part in input.split(',') {
        let part_start = offset;
        offset += part.len() + 1;
        let lead = part.len() - part.trim_start().len();
        let trimmed = part.trim();
        let start = part_start + lead;
        if trimmed.is_empty() {
            return Err(ParseError::new(
                "empty sort field",
                part_start..part_start + part.len(),
            ));
        }
        if items.len() == MAX_SORT_ITEMS {
            return Err(ParseError::new(
                format!("too many sort fields (max {MAX_SORT_ITEMS})"),
                start..start + trimmed.len(),
            ));
        }
        if trimmed.len() > MAX_SORT_FIELD_LEN {
            return Err(ParseError::new(
                format!("sort field too long (max {MAX_SORT_FIELD_LEN} bytes)"),
                start..start + trimmed.len(),
            ));
        }
        let (desc, name, name_start) = match trimmed.as_bytes()[0] {
            b'-' => (true, &trimmed[1..], start + 1),
            b'+' => (false, &trimmed[1..], start + 1),
            _ => (false, trimmed, start),
        };
        // PB-COMPAT: PocketBase hands sort names straight to its field resolver, so one may
        // start with a digit (`9f`, `3rel.title`) or be `_`, which no filter identifier can.
        match name.as_bytes().first() {
            Some(d) if d.is_ascii_digit() || *d == b'_' => {
                validate_ident(&format!("a{}", &name[1..]), name_start)?
            }
            _ => validate_ident(name, name_start)?,
        }
        items.push(SortItem {
            ident: name.to_owned(),
            desc,
        });
    }
    Ok(items)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn item(ident: &str, desc: bool) -> SortItem {
        SortItem {
            ident: ident.into(),
            desc,
        }
    }

    #[test]
    fn directions_and_paths() {
        assert_eq!(
            parse_sort("-created, +title,author.name,@random").unwrap(),
            vec![
                item("created", true),
                item("title", false),
                item("author.name", false),
                item("@random", false),
            ]
        );
        assert_eq!(parse_sort("  ").unwrap(), vec![]);
        assert_eq!(
            parse_sort("-9f,3rel.9f,9,_").unwrap(),
            vec![
                item("9f", true),
                item("3rel.9f", false),
                item("9", false),
                item("_", false)
            ]
        );
        assert!(parse_sort("9-f").is_err());
    }

    #[test]
    fn errors_carry_spans() {
        assert_eq!(parse_sort("title,,id").unwrap_err().span, 6..6);
        assert_eq!(parse_sort("title, -").unwrap_err().span, 8..8);
        assert_eq!(parse_sort("a, -b c").unwrap_err().span, 4..7);
        assert_eq!(
            parse_sort("title,").unwrap_err().message,
            "empty sort field"
        );
        let nine = ["a"; 9].join(",");
        assert_eq!(parse_sort(&nine).unwrap_err().span, 16..17);
        assert!(parse_sort(&"a".repeat(256)).is_err());
    }
}
