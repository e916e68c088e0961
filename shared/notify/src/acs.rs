//! One email as Azure Communication Services Email's REST API takes it (`POST
//! /emails:send`), signed as ACS authenticates an access key: HMAC-SHA256 over the method,
//! the path and query, and the `x-ms-date`, `host` and `x-ms-content-sha256` headers.
//! What Azure's own SDK (`azure-communication-email` 1.1) sends for the same message is the
//! reference (`tests/tests/acs.rs` compares them).

use base64ct::{Base64, Encoding};
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

/// The API version Azure's SDK (`azure-communication-email` 1.1) asks for.
pub const API_VERSION: &str = "2025-09-01";

/// Where a message goes and what it says.
#[derive(Debug, Clone, Copy)]
pub struct AcsEmail<'a> {
    /// The verified sender address of the ACS resource (`DoNotReply@…`).
    pub sender: &'a str,
    /// The recipient's address.
    pub to: &'a str,
    /// The recipient's name (`""`: none).
    pub to_name: &'a str,
    /// The subject.
    pub subject: &'a str,
    /// The plain-text body.
    pub text: &'a str,
    /// The HTML body.
    pub html: &'a str,
}

/// An HTTP request ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The whole URL.
    pub url: String,
    /// The headers to send (the client adds `host` from the URL, as the signature assumes).
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// The request sending `email` through the ACS resource at `endpoint`
/// (`https://<resource>.communication.azure.com`), signed with its base64 `access_key`, at
/// `now_ms`.
pub fn send_request(
    endpoint: &str,
    access_key: &str,
    email: &AcsEmail<'_>,
    now_ms: i64,
) -> Result<SignedRequest, String> {
    let endpoint = endpoint.trim_end_matches('/');
    let host = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .filter(|h| !h.is_empty() && !h.contains('/'))
        .ok_or_else(|| format!("the ACS endpoint {endpoint:?} must be scheme://host[:port]"))?;
    let key = Base64::decode_vec(access_key.trim()).map_err(|_| "the ACS access key is not base64".to_string())?;
    let mut recipient = json!({"address": email.to});
    if !email.to_name.is_empty() {
        recipient["displayName"] = json!(crate::one_line(email.to_name));
    }
    let body = json!({
        "senderAddress": email.sender,
        "recipients": {"to": [recipient]},
        "content": {"subject": crate::one_line(email.subject), "plainText": email.text, "html": email.html},
    })
    .to_string()
    .into_bytes();
    let path_and_query = format!("/emails:send?api-version={API_VERSION}");
    let date = http_date(now_ms);
    let content_hash = Base64::encode_string(&Sha256::digest(&body));
    let signature = sign(&key, "POST", &path_and_query, &date, host, &content_hash);
    Ok(SignedRequest {
        url: format!("{endpoint}{path_and_query}"),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("content-length".into(), body.len().to_string()),
            ("accept".into(), "application/json".into()),
            ("x-ms-date".into(), date),
            ("x-ms-content-sha256".into(), content_hash),
            (
                "authorization".into(),
                format!("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"),
            ),
        ],
        body,
    })
}

/// ACS's signature: HMAC-SHA256, keyed with the decoded access key, of
/// `METHOD\npath?query\ndate;host;content-hash`, in base64.
pub fn sign(key: &[u8], method: &str, path_and_query: &str, date: &str, host: &str, content_hash: &str) -> String {
    let to_sign = format!("{method}\n{path_and_query}\n{date};{host};{content_hash}");
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(to_sign.as_bytes());
    Base64::encode_string(&mac.finalize().into_bytes())
}

/// An HTTP date (RFC 7231 IMF-fixdate), as `x-ms-date` takes it.
pub fn http_date(now_ms: i64) -> String {
    chrono::DateTime::from_timestamp(now_ms.div_euclid(1000), 0)
        .map(|t| t.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

/// Whether a failed send may succeed if tried again: throttling, timeouts, the service's
/// own failures, and a refused key (the operator's to fix; the message is not at fault).
/// Any other refusal is the message's, and for good.
pub fn retryable(status: u16) -> bool {
    matches!(status, 401 | 403 | 408 | 429) || status >= 500
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_covers_method_path_date_host_and_body() {
        let key = Base64::encode_string(b"0123456789abcdef0123456789abcdef");
        let email = AcsEmail {
            sender: "DoNotReply@registry.test",
            to: "ada@example.org",
            to_name: "Ada\r\nBcc: x@example.org",
            subject: "Hi",
            text: "text",
            html: "<p>html</p>",
        };
        let r = send_request("https://acs.example.org/", &key, &email, 1_800_000_000_000).unwrap();
        assert_eq!(r.url, "https://acs.example.org/emails:send?api-version=2025-09-01");
        let header = |n: &str| r.headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(header("x-ms-date"), "Fri, 15 Jan 2027 08:00:00 GMT");
        let hash = Base64::encode_string(&Sha256::digest(&r.body));
        assert_eq!(header("x-ms-content-sha256"), hash);
        let expected = sign(
            b"0123456789abcdef0123456789abcdef",
            "POST",
            "/emails:send?api-version=2025-09-01",
            "Fri, 15 Jan 2027 08:00:00 GMT",
            "acs.example.org",
            &hash,
        );
        assert_eq!(
            header("authorization"),
            format!("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={expected}")
        );
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["recipients"]["to"][0]["displayName"], "Ada Bcc: x@example.org");
        // Another body, another signature.
        let other =
            send_request("https://acs.example.org", &key, &AcsEmail { text: "other", ..email }, 1_800_000_000_000)
                .unwrap();
        assert_ne!(other.headers, r.headers);
    }

    #[test]
    fn a_bad_endpoint_or_key_is_refused_with_its_reason() {
        let email = AcsEmail { sender: "a@b.org", to: "c@d.org", to_name: "", subject: "", text: "", html: "" };
        assert!(send_request("acs.example.org", "a2V5", &email, 0).unwrap_err().contains("scheme://host"));
        assert!(send_request("https://acs.example.org/path", "a2V5", &email, 0).is_err());
        assert!(send_request("https://acs.example.org", "not base64!", &email, 0).unwrap_err().contains("base64"));
    }
}
