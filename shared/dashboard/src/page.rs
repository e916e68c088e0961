//! Django REST Framework's page-number pagination: `page` (a number, or `last`) and
//! `page_size`, and the `{"count", "next", "previous", "results"}` envelope with absolute
//! links built as DRF builds them (the request's URL with `page` replaced or removed, the
//! query re-encoded in key order).

use crate::Error;
use ryd_http::{percent_encode, Request};

/// DRF's `PAGE_SIZE` on the Dashboard.
pub(crate) const DEFAULT_SIZE: i64 = 50;
/// The largest page served (DRF's `max_page_size`: larger sizes are cut to it). Clients
/// ask 5,000 to get the organisations in one page; this leaves room for the datasets too.
pub(crate) const MAX_SIZE: i64 = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Number {
    At(i64),
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Wanted {
    pub number: Number,
    pub size: i64,
}

/// The page asked for. A `page_size` that is not a positive number is ignored (DRF falls
/// back to the default); a `page` that is not a positive number is an invalid page.
pub(crate) fn wanted(req: &Request) -> Result<Wanted, Error> {
    let pairs = req.query_pairs();
    let last = |name: &str| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string());
    let size = last("page_size")
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_SIZE, |n| n.min(MAX_SIZE));
    let number = match last("page").as_deref() {
        None => Number::At(1),
        Some("last") => Number::Last,
        Some(n) => Number::At(n.parse::<i64>().ok().filter(|n| *n >= 1).ok_or(Error::InvalidPage)?),
    };
    Ok(Wanted { number, size })
}

impl Wanted {
    /// The offset of a numbered page (`None` for `last`, which needs the count first).
    pub(crate) fn offset(&self) -> Result<Option<i64>, Error> {
        match self.number {
            Number::At(n) => (n - 1).checked_mul(self.size).map(Some).ok_or(Error::InvalidPage),
            Number::Last => Ok(None),
        }
    }

    /// The last page's number for `count` results (an empty list has one, empty, page).
    pub(crate) fn pages(&self, count: i64) -> i64 {
        ((count + self.size - 1) / self.size).max(1)
    }

    /// The page number served, once the count is known; past the end is invalid.
    pub(crate) fn number(&self, count: i64) -> Result<i64, Error> {
        let pages = self.pages(count);
        match self.number {
            Number::Last => Ok(pages),
            Number::At(n) if n <= pages => Ok(n),
            Number::At(_) => Err(Error::InvalidPage),
        }
    }
}

/// The envelope around one page of `results` (each a record's JSON text), as JSON text.
pub(crate) fn envelope(req: &Request, wanted: &Wanted, number: i64, count: i64, results: &[String]) -> String {
    let next = (number < wanted.pages(count)).then(|| link(req, Some(number + 1)));
    let previous = (number > 1).then(|| link(req, if number == 2 { None } else { Some(number - 1) }));
    let text = |link: Option<String>| serde_json::to_string(&link).unwrap_or_else(|_| "null".into());
    format!(
        "{{\"count\":{count},\"next\":{},\"previous\":{},\"results\":[{}]}}",
        text(next),
        text(previous),
        results.join(",")
    )
}

/// The request's absolute URL with `page` set to `number`, or removed.
fn link(req: &Request, number: Option<i64>) -> String {
    // Python's parse_qs + urlencode(sorted(...), doseq=True): values grouped by key, in the
    // order given, keys sorted.
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in req.query_pairs() {
        if k == "page" {
            continue;
        }
        match grouped.iter_mut().find(|(key, _)| *key == k) {
            Some((_, values)) => values.push(v),
            None => grouped.push((k, vec![v])),
        }
    }
    if let Some(n) = number {
        grouped.push(("page".into(), vec![n.to_string()]));
    }
    grouped.sort_by(|a, b| a.0.cmp(&b.0));
    let query: Vec<String> = grouped
        .iter()
        .flat_map(|(k, values)| values.iter().map(move |v| format!("{}={}", quote_plus(k), quote_plus(v))))
        .collect();
    let mut url = format!("{}{}", req.base_url, req.path);
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query.join("&"));
    }
    url
}

/// Python's `quote_plus`.
fn quote_plus(s: &str) -> String {
    percent_encode(s).replace("%20", "+")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn req(q: &str) -> Request {
        let mut r = Request::new("GET", &format!("/api/datasets/?{q}"));
        r.base_url = "https://dash.example.org".into();
        r
    }

    #[test]
    fn links_replace_or_remove_page_and_sort_the_query_as_drf() {
        let r = req("reporting_org__short_name=a+b&page=2&page_size=10&format=json");
        let w = wanted(&r).unwrap();
        assert_eq!(w, Wanted { number: Number::At(2), size: 10 });
        let body: Value = serde_json::from_str(&envelope(&r, &w, 2, 35, &[])).unwrap();
        assert_eq!(
            body["next"],
            "https://dash.example.org/api/datasets/?format=json&page=3&page_size=10&reporting_org__short_name=a+b"
        );
        assert_eq!(
            body["previous"],
            "https://dash.example.org/api/datasets/?format=json&page_size=10&reporting_org__short_name=a+b"
        );
        let last: Value = serde_json::from_str(&envelope(&r, &w, 4, 35, &["{\"id\":1}".to_string()])).unwrap();
        assert_eq!(last["results"][0]["id"], 1);
        assert_eq!(last["next"], Value::Null);
        assert_eq!(
            last["previous"],
            "https://dash.example.org/api/datasets/?format=json&page=3&page_size=10&reporting_org__short_name=a+b"
        );
    }

    #[test]
    fn page_numbers_and_sizes_as_drf_reads_them() {
        assert_eq!(wanted(&req("")).unwrap(), Wanted { number: Number::At(1), size: DEFAULT_SIZE });
        assert_eq!(wanted(&req("page=last&page_size=0")).unwrap(), Wanted { number: Number::Last, size: DEFAULT_SIZE });
        assert_eq!(wanted(&req("page_size=x")).unwrap().size, DEFAULT_SIZE);
        assert_eq!(wanted(&req("page_size=5000")).unwrap().size, 5000);
        assert_eq!(wanted(&req("page_size=999999")).unwrap().size, MAX_SIZE);
        for bad in ["page=0", "page=-1", "page=x", "page=1.5"] {
            assert_eq!(wanted(&req(bad)), Err(Error::InvalidPage), "{bad}");
        }
        let w = wanted(&req("page=3&page_size=10")).unwrap();
        assert_eq!(w.number(21), Ok(3));
        assert_eq!(w.number(20), Err(Error::InvalidPage));
        assert_eq!(wanted(&req("")).unwrap().number(0), Ok(1), "an empty list has one empty page");
        assert_eq!(wanted(&req("page=last&page_size=10")).unwrap().number(21), Ok(3));
    }
}
