//! Long answers read a page at a time while they are written: each page one statement,
//! starting after the last key of the page before (a keyset, never an offset, so a page
//! deep in the registry costs what the first does).

use ryd_store::SqlError;

/// One page's items: each item's key (where the next page starts) and its bytes.
pub(crate) type Page = Result<Vec<(String, Vec<u8>)>, SqlError>;

/// The bytes of page after page: `read(after, n)` reads up to `n` items after the key
/// `after`, at most `size` a page, until a page comes back short or `limit` items have
/// been read (`None`: every item). The first error ends them, said with `what`.
pub(crate) fn pages<'a>(
    what: &'static str,
    size: i64,
    mut limit: Option<i64>,
    mut after: Option<String>,
    mut read: impl FnMut(Option<&str>, i64) -> Page + 'a,
) -> impl Iterator<Item = Result<Vec<u8>, String>> + 'a {
    let mut done = limit == Some(0);
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let n = limit.map_or(size, |l| l.min(size));
        let page = match read(after.as_deref(), n) {
            Ok(page) => page,
            Err(e) => {
                done = true;
                return Some(Err(format!("{what} after {after:?}: {}", e.message)));
            }
        };
        limit = limit.map(|l| l - page.len() as i64);
        done = (page.len() as i64) < n || limit == Some(0);
        let mut bytes = Vec::new();
        for (key, item) in page {
            bytes.extend_from_slice(&item);
            after = Some(key);
        }
        (!bytes.is_empty()).then_some(Ok(bytes))
    })
    .fuse()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read's start (the key it reads after) and size.
    type Read = (Option<String>, i64);

    /// Keys "k00", "k01", … in order.
    fn items(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("k{i:02}")).collect()
    }

    /// The pages of `n` items and each read's start and size; the read numbered `fail_at`
    /// (from 1) fails.
    fn run(
        n: usize,
        size: i64,
        limit: Option<i64>,
        fail_at: Option<usize>,
    ) -> (Vec<Result<String, String>>, Vec<Read>) {
        let all = items(n);
        let mut reads = Vec::new();
        let out: Vec<_> = pages("test list", size, limit, None, |after, k| {
            reads.push((after.map(str::to_owned), k));
            if fail_at == Some(reads.len()) {
                return Err(SqlError::other("disk I/O error"));
            }
            let start = after.map_or(0, |a| all.iter().position(|x| x.as_str() > a).unwrap_or(all.len()));
            Ok(all[start..].iter().take(k as usize).map(|x| (x.clone(), format!("{x};").into_bytes())).collect())
        })
        .map(|page| page.map(|b| String::from_utf8_lossy(&b).into_owned()))
        .collect();
        (out, reads)
    }

    #[test]
    fn every_item_in_pages_each_after_the_last_key() {
        let (out, reads) = run(7, 3, None, None);
        assert_eq!(out, vec![Ok("k00;k01;k02;".into()), Ok("k03;k04;k05;".into()), Ok("k06;".into())]);
        assert_eq!(reads, vec![(None, 3), (Some("k02".into()), 3), (Some("k05".into()), 3)]);
    }

    #[test]
    fn a_full_last_page_costs_one_read_that_finds_nothing() {
        let (out, reads) = run(6, 3, None, None);
        assert_eq!(out.len(), 2);
        assert_eq!(reads.len(), 3);
    }

    #[test]
    fn a_limit_reads_no_more_than_it_asks_for() {
        let (out, reads) = run(10, 3, Some(4), None);
        assert_eq!(out, vec![Ok("k00;k01;k02;".into()), Ok("k03;".into())]);
        assert_eq!(reads, vec![(None, 3), (Some("k02".into()), 1)]);
        let (out, reads) = run(10, 3, Some(0), None);
        assert!(out.is_empty() && reads.is_empty());
    }

    #[test]
    fn the_first_error_ends_them_with_where_it_stopped() {
        let (out, reads) = run(10, 3, None, Some(2));
        assert_eq!(out, vec![Ok("k00;k01;k02;".into()), Err("test list after Some(\"k02\"): disk I/O error".into())]);
        assert_eq!(reads.len(), 2);
    }
}
