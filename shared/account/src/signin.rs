//! The authorization code flow's two requests, as IATI Account makes them as a
//! confidential client (OIDC Core §3.1.2.1 and §3.1.3.1, RFC 7636 for PKCE, RFC 6749
//! §2.3.1 for the client's credentials), and the token endpoint's answer read back. The
//! caller sends them; nothing here does I/O.

use crate::secret::s256;
use base64ct::{Base64, Encoding};
use serde_json::Value;

/// What a sign-in sends the browser to the provider with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorize<'a> {
    /// The provider's authorization endpoint.
    pub authorization_endpoint: &'a str,
    /// Our client id.
    pub client_id: &'a str,
    /// Where the provider sends the browser back (`/account/callback`).
    pub redirect_uri: &'a str,
    /// Space-separated; `openid` is added when missing.
    pub scope: &'a str,
    /// The random value binding the answer to this browser's sign-in.
    pub state: &'a str,
    /// The random value the ID token must carry back.
    pub nonce: &'a str,
    /// The PKCE verifier kept on the server; only its S256 challenge is sent.
    pub verifier: &'a str,
}

impl Authorize<'_> {
    /// The URL to redirect the browser to.
    pub fn url(&self) -> String {
        let scope = if self.scope.split(' ').any(|s| s == "openid") {
            self.scope.to_string()
        } else {
            format!("openid {}", self.scope).trim_end().to_string()
        };
        let challenge = s256(self.verifier);
        let params = [
            ("response_type", "code"),
            ("client_id", self.client_id),
            ("redirect_uri", self.redirect_uri),
            ("scope", scope.as_str()),
            ("state", self.state),
            ("nonce", self.nonce),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let sep = if self.authorization_endpoint.contains('?') { '&' } else { '?' };
        format!("{}{sep}{}", self.authorization_endpoint, form(&params))
    }
}

/// RP-Initiated Logout 1.0 §2: where to send the browser after signing out here, so the
/// provider ends its session too and sends the browser back to `post_logout_redirect_uri`
/// (registered with the provider). `id_token_hint` tells the provider who is leaving, so it
/// need not ask.
pub fn end_session_url(
    end_session_endpoint: &str,
    id_token_hint: Option<&str>,
    post_logout_redirect_uri: &str,
    client_id: &str,
) -> String {
    let mut params = vec![("client_id", client_id), ("post_logout_redirect_uri", post_logout_redirect_uri)];
    if let Some(hint) = id_token_hint {
        params.push(("id_token_hint", hint));
    }
    let sep = if end_session_endpoint.contains('?') { '&' } else { '?' };
    format!("{end_session_endpoint}{sep}{}", form(&params))
}

/// The code exchange: a form body, and the `Authorization` header that authenticates the
/// client (`client_secret_basic`: id and secret form-encoded, then Base64, as §2.3.1 says).
pub fn token_request(
    client_id: &str,
    client_secret: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> (String, String) {
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ]);
    let credentials = format!("{}:{}", ryd_http::percent_encode(client_id), ryd_http::percent_encode(client_secret));
    (body, format!("Basic {}", Base64::encode_string(credentials.as_bytes())))
}

/// The token endpoint's answer, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The ID token, still to be checked.
    pub id_token: String,
    /// The access token, if the provider gave one.
    pub access_token: Option<String>,
    /// The refresh token, if the provider gave one.
    pub refresh_token: Option<String>,
}

/// Reads the token endpoint's JSON: the tokens, or the provider's `error` (and its
/// description) as the refusal.
pub fn read_token_response(status: u16, body: &[u8]) -> Result<Tokens, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|_| format!("the token endpoint answered {status} without JSON"))?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    if status != 200 {
        let error = text("error").unwrap_or_else(|| format!("status {status}"));
        return Err(match text("error_description") {
            Some(d) => format!("{error}: {d}"),
            None => error,
        });
    }
    Ok(Tokens {
        id_token: text("id_token").ok_or("the token endpoint sent no id_token")?,
        access_token: text("access_token"),
        refresh_token: text("refresh_token"),
    })
}

use ryd_http::form_encode as form;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_session_url_names_the_client_the_return_and_the_hint() {
        let url =
            end_session_url("https://id.example/logout?x=1", Some("a.b.c"), "https://acct.example/account", "c 1");
        assert_eq!(
            url,
            "https://id.example/logout?x=1&client_id=c%201&post_logout_redirect_uri=https%3A%2F%2Facct.example%2Faccount&id_token_hint=a.b.c"
        );
        assert!(!end_session_url("https://id.example/end", None, "/", "c").contains("id_token_hint"));
    }

    #[test]
    fn the_authorization_url_carries_pkce_state_and_nonce_and_never_the_verifier() {
        let a = Authorize {
            authorization_endpoint: "https://idp.example/auth",
            client_id: "iati-account",
            redirect_uri: "https://registry.example/account/callback",
            scope: "profile email",
            state: "st",
            nonce: "no",
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        };
        let url = a.url();
        assert_eq!(
            url,
            "https://idp.example/auth?response_type=code&client_id=iati-account\
             &redirect_uri=https%3A%2F%2Fregistry.example%2Faccount%2Fcallback&scope=openid%20profile%20email\
             &state=st&nonce=no&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        );
        assert!(!url.contains(a.verifier));
        let with_query =
            Authorize { authorization_endpoint: "https://idp.example/auth?tenant=x", scope: "openid", ..a };
        assert!(with_query.url().starts_with("https://idp.example/auth?tenant=x&response_type=code"));
        assert!(with_query.url().contains("&scope=openid&"));
    }

    #[test]
    fn the_code_exchange_authenticates_the_client_with_basic() {
        let (body, auth) = token_request("iati account", "s3:cr/t", "the code", "https://r.example/cb", "ver");
        assert_eq!(
            body,
            "grant_type=authorization_code&code=the%20code&redirect_uri=https%3A%2F%2Fr.example%2Fcb&code_verifier=ver"
        );
        // RFC 6749 §2.3.1: form-encode, then Base64 ("iati%20account:s3%3Acr%2Ft").
        assert_eq!(auth, format!("Basic {}", Base64::encode_string(b"iati%20account:s3%3Acr%2Ft")));
    }

    #[test]
    fn token_answers_are_read_or_refused_with_the_providers_reason() {
        let ok =
            read_token_response(200, br#"{"id_token":"a.b.c","access_token":"at","token_type":"Bearer"}"#).unwrap();
        assert_eq!(ok, Tokens { id_token: "a.b.c".into(), access_token: Some("at".into()), refresh_token: None });
        assert_eq!(
            read_token_response(400, br#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#),
            Err("invalid_grant: grant request is invalid".into())
        );
        assert_eq!(
            read_token_response(200, br#"{"access_token":"at"}"#),
            Err("the token endpoint sent no id_token".into())
        );
        assert!(read_token_response(502, b"<html>").unwrap_err().contains("502"));
    }
}
