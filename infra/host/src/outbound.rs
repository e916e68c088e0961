//! `allowed_outbound_hosts`: which outgoing requests a component may make, as Spin reads
//! the list (`https://example.com`, `http://localhost:8080`, `https://*.example.com`,
//! `*://*:*`).

use anyhow::{bail, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    scheme: Option<String>,
    host: String,
    /// `None` = any port.
    port: Option<u16>,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl AllowedHost {
    pub fn parse(s: &str) -> Result<Self> {
        let Some((scheme, rest)) = s.split_once("://") else { bail!("`{s}` needs a scheme, e.g. https://{s}") };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            bail!("`{s}` must not have a path");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, "*")) => (h, None),
            Some((h, p)) => match p.parse::<u16>() {
                Ok(p) => (h, Some(p)),
                Err(_) => bail!("`{s}` has an invalid port"),
            },
            None => (rest, if scheme == "*" { None } else { default_port(scheme) }),
        };
        if host.is_empty() {
            bail!("`{s}` has no host");
        }
        Ok(AllowedHost { scheme: (scheme != "*").then(|| scheme.to_string()), host: host.to_ascii_lowercase(), port })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let host = host.to_ascii_lowercase();
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && (self.host == "*"
                || self.host == host
                || self.host.strip_prefix("*.").is_some_and(|suffix| host.ends_with(&format!(".{suffix}"))))
            && self.port.is_none_or(|p| p == port)
    }
}

#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    pub allowed: Vec<AllowedHost>,
}

impl OutboundPolicy {
    pub fn allows_uri(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("https");
        let Some(host) = uri.host() else { return false };
        let port = uri.port_u16().or_else(|| default_port(scheme)).unwrap_or(0);
        self.allowed.iter().any(|a| a.allows(scheme, host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(list: &[&str]) -> OutboundPolicy {
        OutboundPolicy { allowed: list.iter().map(|s| AllowedHost::parse(s).unwrap()).collect() }
    }

    #[test]
    fn spin_forms() {
        let p = policy(&["https://id.example.org", "http://127.0.0.1:*", "https://*.asgardeo.io"]);
        assert!(p.allows_uri(&"https://id.example.org/jwks".parse().unwrap()));
        assert!(!p.allows_uri(&"http://id.example.org/jwks".parse().unwrap()));
        assert!(!p.allows_uri(&"https://id.example.org:8443/".parse().unwrap()));
        assert!(p.allows_uri(&"http://127.0.0.1:4567/x".parse().unwrap()));
        assert!(p.allows_uri(&"https://api.asgardeo.io/t/iati".parse().unwrap()));
        assert!(!p.allows_uri(&"https://evil.example.com/".parse().unwrap()));
        assert!(policy(&["*://*:*"]).allows_uri(&"http://anything:1/".parse().unwrap()));
        assert!(policy(&[]).allowed.is_empty());
        assert!(AllowedHost::parse("example.com").is_err());
    }
}
