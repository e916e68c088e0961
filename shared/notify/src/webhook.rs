//! Webhooks as the Standard Webhooks specification signs them: `webhook-id`,
//! `webhook-timestamp` and `webhook-signature` (`v1,` and base64 HMAC-SHA256, keyed with the
//! decoded `whsec_` secret, of `id.timestamp.body`), one signature per secret in force so
//! that a rotation never breaks a receiver; and which URLs an endpoint may have.

use base64ct::{Base64, Encoding};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";

/// A secret from random bytes (the caller's: 32 from the operating system).
pub fn secret_from(bytes: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", Base64::encode_string(bytes))
}

/// One `v1,` signature of a message with one secret.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String, String> {
    let key = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    let key = Base64::decode_vec(key).map_err(|_| "a webhook secret is not base64".to_string())?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!("v1,{}", Base64::encode_string(&mac.finalize().into_bytes())))
}

/// The headers of one delivery: its id (the same on every retry, for the receiver to
/// deduplicate), the time, and a signature with each secret in force (space-separated).
pub fn headers(id: &str, timestamp: i64, body: &[u8], secrets: &[String]) -> Result<Vec<(String, String)>, String> {
    let signatures: Result<Vec<String>, String> = secrets.iter().map(|s| signature(s, id, timestamp, body)).collect();
    Ok(vec![
        ("content-type".into(), "application/json".into()),
        ("content-length".into(), body.len().to_string()),
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), timestamp.to_string()),
        ("webhook-signature".into(), signatures?.join(" ")),
    ])
}

/// Whether an endpoint may have `url`: `https`, to a host that is neither loopback nor a
/// private, link-local or otherwise internal address (no endpoint may make the registry
/// call into its own network). `allow_loopback` (tests) admits `http` and `https` to
/// loopback only. Names are checked as written: one that resolves to an internal address
/// is the outbound network's to refuse (infra/README.md, "Webhooks").
pub fn check_url(url: &str, allow_loopback: bool) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").ok_or("must be an absolute URL (https://…)")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return Err("must name a host, without credentials".into());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    }
    .to_ascii_lowercase();
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback() || ipv4_of(&ip).is_some_and(|v4| v4.is_loopback()));
    if loopback {
        return if allow_loopback && matches!(scheme, "http" | "https") {
            Ok(())
        } else {
            Err("must not be a loopback address".into())
        };
    }
    if scheme != "https" {
        return Err("must use https".into());
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        if internal(&ip) {
            return Err("must not be a private, link-local or reserved address".into());
        }
    }
    if host.ends_with(".local") || host.ends_with(".internal") || !host.contains('.') && host.parse::<IpAddr>().is_err()
    {
        return Err("must be a public host name".into());
    }
    Ok(())
}

fn ipv4_of(ip: &IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(v4) => Some(*v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    }
}

fn internal(ip: &IpAddr) -> bool {
    if let Some(v4) = ipv4_of(ip) {
        let [a, b, ..] = v4.octets();
        return v4.is_private()
            || v4.is_loopback()
            || v4.is_link_local()
            || v4.is_unspecified()
            || v4.is_broadcast()
            || a == 0
            || (a == 100 && (64..128).contains(&b))
            || a >= 224;
    }
    let v6: Ipv6Addr = match ip {
        IpAddr::V6(v6) => *v6,
        IpAddr::V4(_) => return false,
    };
    let first = v6.segments()[0];
    v6.is_loopback() || v6.is_unspecified() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_specification() {
        // As the reference library (PyPI `standardwebhooks` 1.3, `Webhook.sign`) signs it.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52-5198-4599-803e-771906343485","type":"contact.created"}}"#;
        assert_eq!(signature(secret, id, 1674087231, body).unwrap(), "v1,dtA2Y9AMhkb1JxvEQivbfbCZ31H3C0IsWGSaKqov4u8=");
        let h = headers(id, 1674087231, body, &[secret.into(), "whsec_b2xk".into()]).unwrap();
        let sig = &h.iter().find(|(n, _)| n == "webhook-signature").unwrap().1;
        assert_eq!(sig.split(' ').count(), 2, "one per secret in force");
    }

    #[test]
    fn endpoints_are_public_https_unless_loopback_is_allowed() {
        assert!(check_url("https://tools.example.org/hooks/ryd?x=1", false).is_ok());
        for (bad, why) in [
            ("http://tools.example.org/hook", "https"),
            ("https://127.0.0.1/hook", "loopback"),
            ("https://localhost:8443/", "loopback"),
            ("https://[::1]/", "loopback"),
            ("https://10.1.2.3/", "private"),
            ("https://192.168.0.10/", "private"),
            ("https://172.20.0.1/", "private"),
            ("https://169.254.169.254/latest/meta-data", "private"),
            ("https://100.64.0.1/", "private"),
            ("https://[fd00::1]/", "private"),
            ("https://[::ffff:10.0.0.1]/", "private"),
            ("https://intranet/", "public host"),
            ("https://printer.local/", "public host"),
            ("https://user:pw@tools.example.org/", "credentials"),
            ("tools.example.org/hook", "absolute"),
        ] {
            let e = check_url(bad, false).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(check_url("http://127.0.0.1:8080/hook", true).is_ok());
        assert!(check_url("https://10.1.2.3/", true).is_err(), "only loopback is allowed for tests");
    }
}
