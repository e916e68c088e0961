//! Spin's HTTP routing: exact routes, `:name` segments, a trailing `/...` wildcard; the
//! most specific route wins; nothing matching is a 404.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Exact(String),
    Param(String),
}

#[derive(Debug, Clone)]
pub struct RoutePattern {
    pub raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

/// A match: the route, its `:name` values, and the path after the route's fixed part
/// (Spin's `spin-path-info`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub index: usize,
    pub params: Vec<(String, String)>,
    pub path_info: String,
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

impl RoutePattern {
    pub fn parse(raw: &str) -> Self {
        let (base, wildcard) = match raw.strip_suffix("/...") {
            Some(b) => (b, true),
            None if raw == "..." => ("", true),
            None => (raw, false),
        };
        let segments = segments(base)
            .into_iter()
            .map(|s| match s.strip_prefix(':') {
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Exact(s.to_string()),
            })
            .collect();
        RoutePattern { raw: raw.to_string(), segments, wildcard }
    }

    fn matches(&self, path: &str) -> Option<(Vec<(String, String)>, String)> {
        let parts = segments(path);
        if parts.len() < self.segments.len() || (!self.wildcard && parts.len() != self.segments.len()) {
            return None;
        }
        let mut params = Vec::new();
        for (seg, part) in self.segments.iter().zip(&parts) {
            match seg {
                Segment::Exact(e) if e == part => {}
                Segment::Exact(_) => return None,
                Segment::Param(name) => params.push((name.clone(), part.to_string())),
            }
        }
        let rest = &parts[self.segments.len()..];
        let mut info = if rest.is_empty() { String::new() } else { format!("/{}", rest.join("/")) };
        if self.wildcard && path.ends_with('/') && !rest.is_empty() {
            info.push('/');
        }
        Some((params, info))
    }

    /// Higher is more specific: exact routes beat wildcards; then more fixed segments;
    /// then more segments of any kind.
    fn specificity(&self) -> (bool, usize, usize) {
        let exact = self.segments.iter().filter(|s| matches!(s, Segment::Exact(_))).count();
        (!self.wildcard, exact, self.segments.len())
    }
}

#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<RoutePattern>,
}

impl Router {
    pub fn new<'a>(routes: impl IntoIterator<Item = &'a str>) -> Self {
        Router { routes: routes.into_iter().map(RoutePattern::parse).collect() }
    }

    pub fn pattern(&self, index: usize) -> &RoutePattern {
        &self.routes[index]
    }

    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        self.routes
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.matches(path).map(|(params, info)| (i, r.specificity(), params, info)))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(index, _, params, path_info)| RouteMatch { index, params, path_info })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_specific_wins() {
        let r =
            Router::new(["/api/v1/reporting-orgs/...", "/api/v1/reporting-orgs/:oid/datasets/...", "/health", "/..."]);
        let m = r.route("/api/v1/reporting-orgs/abc/datasets").unwrap();
        assert_eq!((m.index, m.params.clone()), (1, vec![("oid".to_string(), "abc".to_string())]));
        assert_eq!(r.route("/api/v1/reporting-orgs/abc").unwrap().index, 0);
        assert_eq!(r.route("/api/v1/reporting-orgs").unwrap().index, 0);
        assert_eq!(r.route("/api/v1/reporting-orgs/").unwrap().index, 0);
        assert_eq!(r.route("/health").unwrap().index, 2);
        let m = r.route("/other/thing").unwrap();
        assert_eq!((m.index, m.path_info.as_str()), (3, "/other/thing"));
        assert_eq!(Router::new(["/health"]).route("/nope"), None);
        assert_eq!(Router::new(["/health"]).route("/health/x"), None);
    }
}
