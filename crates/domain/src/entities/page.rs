//! Keyset pagination: lists page by id (UUIDv7, so by creation time).

use uuid::Uuid;

/// Items after `after` (by id; before it for lists that run newest first), at most
/// `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageRequest {
    pub after: Option<Uuid>,
    pub limit: u32,
}

impl PageRequest {
    /// The first page of at most `limit` items.
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The id to ask for the next page with; `None` on the last page.
    pub next_cursor: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only says that
    /// there is more.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, id_of: impl Fn(&T) -> Uuid) -> Self {
        let limit = limit as usize;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more { rows.last().map(&id_of) } else { None };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extra_row_only_says_there_is_more() {
        let ids: Vec<Uuid> = (1..=4u128).map(Uuid::from_u128).collect();
        let p = Page::from_overfetch(ids.clone(), 3, |u| *u);
        assert_eq!(p.items, ids[..3]);
        assert_eq!(p.next_cursor, Some(ids[2]));
        let last = Page::from_overfetch(ids[..3].to_vec(), 3, |u| *u);
        assert_eq!(last.next_cursor, None);
    }
}
