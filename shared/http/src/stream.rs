//! Answers written as they are read: a head (status, headers, the first bytes) and the
//! parts still to come, so a long list leaves in pieces and is never held whole.

use crate::{Request, Response};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

/// The parts of a body still to be written, each read when the last has left. An `Err`
/// ends the body unfinished: the client sees it cut, never a short answer passed as whole.
pub type Parts<'a> = Box<dyn Iterator<Item = Result<Vec<u8>, String>> + 'a>;

/// An answer whose body may continue past its head.
pub struct Answer<'a> {
    /// Status, headers and the body's first bytes.
    pub head: Response,
    /// What follows `head.body`, if anything.
    pub rest: Option<Parts<'a>>,
}

impl<'a> Answer<'a> {
    /// An answer held whole.
    pub fn whole(head: Response) -> Self {
        Answer { head, rest: None }
    }

    /// The answer with its body read to the end (tests and callers that must hold it);
    /// the error of the part that failed.
    pub fn collect(self) -> Result<Response, String> {
        let mut r = self.head;
        for part in self.rest.into_iter().flatten() {
            r.body.extend(part?);
        }
        Ok(r)
    }

    /// The same answer gzip-encoded when `req` accepts gzip (the parts compressed as they
    /// come), with `Vary: Accept-Encoding` either way.
    pub fn gzip_for(self, req: &Request) -> Self {
        let Answer { mut head, rest } = self;
        head.set_header("vary", "Accept-Encoding");
        if !accepts_gzip(req) || head.status != 200 {
            return Answer { head, rest };
        }
        head.set_header("content-encoding", "gzip");
        let first = std::mem::take(&mut head.body);
        let parts = std::iter::once(Ok(first)).chain(rest.into_iter().flatten());
        Answer { head, rest: Some(Box::new(Gzip { parts: Box::new(parts), encoder: Some(gz()) })) }
    }
}

fn gz() -> GzEncoder<Vec<u8>> {
    // Level 1: a long answer is compressed on the request's path, once per freshness when
    // a cache keeps it; on the registry dump, 5× faster than zlib's default level 6 for
    // 1.7× its bytes (still a thirteenth of the plain text; infra/README.md, "Benchmarks").
    GzEncoder::new(Vec::new(), Compression::fast())
}

/// Whether `Accept-Encoding` names gzip with a weight above zero (RFC 9110 §12.5.3).
pub fn accepts_gzip(req: &Request) -> bool {
    req.header("accept-encoding").is_some_and(|h| {
        h.split(',').any(|coding| {
            let mut it = coding.split(';');
            let name = it.next().unwrap_or("").trim();
            let q = it
                .find_map(|p| p.trim().strip_prefix("q=").map(|v| v.trim().parse::<f32>().unwrap_or(0.0)))
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip")) && q > 0.0
        })
    })
}

/// Compresses parts as they come: each yields what the encoder has ready, the last its
/// trailer.
struct Gzip<'a> {
    parts: Parts<'a>,
    encoder: Option<GzEncoder<Vec<u8>>>,
}

impl Iterator for Gzip<'_> {
    type Item = Result<Vec<u8>, String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let encoder = self.encoder.as_mut()?;
            match self.parts.next() {
                Some(Ok(part)) => {
                    if let Err(e) = encoder.write_all(&part) {
                        self.encoder = None;
                        return Some(Err(format!("compressing: {e}")));
                    }
                    let ready = std::mem::take(encoder.get_mut());
                    if !ready.is_empty() {
                        return Some(Ok(ready));
                    }
                }
                Some(Err(e)) => {
                    self.encoder = None;
                    return Some(Err(e));
                }
                None => {
                    let encoder = self.encoder.take()?;
                    return Some(encoder.finish().map_err(|e| format!("compressing: {e}")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use std::io::Read;

    fn req(accept: &str) -> Request {
        Request { headers: vec![("accept-encoding".into(), accept.into())], ..Request::default() }
    }

    fn answer(parts: Vec<Result<Vec<u8>, String>>) -> Answer<'static> {
        let head = Response { status: 200, headers: vec![], body: b"[".to_vec() };
        Answer { head, rest: Some(Box::new(parts.into_iter())) }
    }

    #[test]
    fn gzip_only_where_accepted() {
        assert!(accepts_gzip(&req("gzip, deflate, br")));
        assert!(accepts_gzip(&req("br;q=1.0, GZIP;q=0.5")));
        assert!(!accepts_gzip(&req("gzip;q=0")));
        assert!(!accepts_gzip(&req("identity")));
        assert!(!accepts_gzip(&Request::default()));
    }

    #[test]
    fn compressed_parts_decode_to_the_plain_body() {
        let parts = || (0..50).map(|i| Ok(format!("\"name-{i}\",").into_bytes())).collect::<Vec<_>>();
        let plain = answer(parts()).collect().unwrap();
        let zipped = answer(parts()).gzip_for(&req("gzip")).collect().unwrap();
        assert_eq!(zipped.header("content-encoding"), Some("gzip"));
        assert_eq!(zipped.header("vary"), Some("Accept-Encoding"));
        let mut out = Vec::new();
        GzDecoder::new(&zipped.body[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, plain.body);
        let not = answer(parts()).gzip_for(&req("identity")).collect().unwrap();
        assert_eq!((not.header("content-encoding"), &not.body), (None, &plain.body));
    }

    #[test]
    fn a_failed_part_ends_the_body_with_its_error() {
        let a = answer(vec![Ok(b"1".to_vec()), Err("the database went away".into()), Ok(b"2".to_vec())]);
        assert_eq!(a.collect().unwrap_err(), "the database went away");
        let a = answer(vec![Ok(b"1".to_vec()), Err("the database went away".into())]).gzip_for(&req("gzip"));
        let parts: Vec<_> = a.rest.unwrap().collect();
        assert!(matches!(parts.last(), Some(Err(e)) if e == "the database went away"), "no trailer after it");
    }
}
