//! The claim checks of the two tokens the provider sends IATI Account, after the caller has
//! verified the signature with the issuer's keys (`ryd_authz::verify_signature`: allowed
//! algorithms only, `typ` as expected). One function per token; each refusal names the
//! rule it failed, for the log and the `400`.

use serde_json::{Map, Value};

/// Who we are to the provider, and how much clock skew we forgive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// The issuer's identifier (`iss`).
    pub issuer: String,
    /// Our client id at the provider (`aud`, `azp`).
    pub client_id: String,
    /// Clock skew forgiven on `exp` and `iat`, in seconds.
    pub leeway_s: i64,
    /// How old an `iat` may be: the token answers a request we have just made (ID token)
    /// or reports a logout that has just happened (logout token).
    pub max_age_s: i64,
}

/// Why an ID token's or logout token's claims were refused (OIDC Core §3.1.3.7, Back-Channel Logout §2.6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// `iss` is another issuer's.
    #[error("`iss` is not the configured issuer")]
    WrongIssuer,
    /// `aud` lacks our client id.
    #[error("`aud` does not name this client")]
    WrongAudience,
    /// `azp` is wrong.
    #[error("`azp` names another client, or is missing with several audiences")]
    WrongAuthorisedParty,
    /// Past `exp`.
    #[error("`exp` has passed")]
    Expired,
    /// `iat` out of bounds.
    #[error("`iat` is missing, in the future or too old")]
    BadIssuedAt,
    /// Not our nonce.
    #[error("`nonce` is not the one this sign-in sent")]
    WrongNonce,
    /// A required claim is absent.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// No logout event in `events`.
    #[error("`events` has no back-channel logout event")]
    NotALogoutEvent,
    /// A logout token carried a `nonce`.
    #[error("a logout token must not have a `nonce`")]
    NonceInLogoutToken,
}

/// A checked ID token: who signed in, and under which provider session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdToken {
    /// The user's subject at the provider.
    pub sub: String,
    /// The provider's session (`sid`), which its back-channel logout will name.
    pub sid: Option<String>,
    /// The user's name, when the provider gave it.
    pub name: Option<String>,
    /// The user's email, when the provider gave it.
    pub email: Option<String>,
}

/// What a checked logout token ends: the sessions with that `sid`, or all of the user's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutTarget {
    /// The sessions under this provider session id (`sid`).
    Session(String),
    /// Every session of this subject (`sub`).
    User(String),
}

/// A checked Back-Channel Logout token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutToken {
    /// Which sessions it ends.
    pub target: LogoutTarget,
    /// The subject too, when both were given (the store ends the `sid` only if it is theirs).
    pub sub: Option<String>,
    /// For the replay check: a `jti` is accepted once.
    pub jti: String,
    /// The last second this token is accepted (`exp` plus the leeway): its `jti` must be
    /// remembered at least that long, or a replay after `exp` would pass.
    pub accepted_until: i64,
}

const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

fn text<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// `iss`, `aud` (a string or a list), `exp` and `iat`: the rules both tokens share.
fn check_common(claims: &Map<String, Value>, rp: &RelyingParty, now: i64) -> Result<i64, ClaimError> {
    if text(claims, "iss") != Some(rp.issuer.as_str()) {
        return Err(ClaimError::WrongIssuer);
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&rp.client_id.as_str()) {
        return Err(ClaimError::WrongAudience);
    }
    match text(claims, "azp") {
        Some(azp) if azp != rp.client_id => return Err(ClaimError::WrongAuthorisedParty),
        None if audiences.len() > 1 => return Err(ClaimError::WrongAuthorisedParty),
        _ => {}
    }
    let exp = claims.get("exp").and_then(Value::as_i64).ok_or(ClaimError::Missing("exp"))?;
    if exp + rp.leeway_s <= now {
        return Err(ClaimError::Expired);
    }
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or(ClaimError::BadIssuedAt)?;
    if iat - rp.leeway_s > now || iat + rp.max_age_s + rp.leeway_s < now {
        return Err(ClaimError::BadIssuedAt);
    }
    Ok(exp)
}

/// OIDC Core §3.1.3.7 on a verified ID token's claims, with the `nonce` this sign-in sent.
pub fn check_id_token(
    claims: &Map<String, Value>,
    rp: &RelyingParty,
    nonce: &str,
    now: i64,
) -> Result<IdToken, ClaimError> {
    check_common(claims, rp, now)?;
    match text(claims, "nonce") {
        Some(n) if crate::secret::constant_time_eq(n, nonce) => {}
        _ => return Err(ClaimError::WrongNonce),
    }
    let sub = text(claims, "sub").ok_or(ClaimError::Missing("sub"))?;
    Ok(IdToken {
        sub: sub.to_string(),
        sid: text(claims, "sid").map(str::to_string),
        name: text(claims, "name").map(str::to_string),
        email: text(claims, "email").map(str::to_string),
    })
}

/// Back-Channel Logout 1.0 §2.6 (steps 3–6) on a verified logout token's claims; the
/// caller checks the `jti` against those already seen (step 7) and ends the sessions.
pub fn check_logout_token(claims: &Map<String, Value>, rp: &RelyingParty, now: i64) -> Result<LogoutToken, ClaimError> {
    let exp = check_common(claims, rp, now)?;
    let event = claims.get("events").and_then(Value::as_object).and_then(|e| e.get(LOGOUT_EVENT));
    if !event.is_some_and(Value::is_object) {
        return Err(ClaimError::NotALogoutEvent);
    }
    if claims.contains_key("nonce") {
        return Err(ClaimError::NonceInLogoutToken);
    }
    let jti = text(claims, "jti").ok_or(ClaimError::Missing("jti"))?.to_string();
    let sub = text(claims, "sub").map(str::to_string);
    let target = match (text(claims, "sid"), &sub) {
        (Some(sid), _) => LogoutTarget::Session(sid.to_string()),
        (None, Some(sub)) => LogoutTarget::User(sub.clone()),
        (None, None) => return Err(ClaimError::Missing("sid or sub")),
    };
    Ok(LogoutToken { target, sub, jti, accepted_until: exp + rp.leeway_s })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn rp() -> RelyingParty {
        RelyingParty {
            issuer: "https://idp.example".into(),
            client_id: "iati-account".into(),
            leeway_s: 30,
            max_age_s: 600,
        }
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn id_token() -> Value {
        json!({"iss": "https://idp.example", "aud": "iati-account", "sub": "alice", "sid": "s-1",
               "nonce": "n-0", "iat": NOW - 5, "exp": NOW + 300, "name": "Alice"})
    }

    fn with(mut v: Value, k: &str, x: Value) -> Map<String, Value> {
        if x.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = x;
        }
        claims(v)
    }

    #[test]
    fn an_id_token_passes_only_every_rule_of_oidc_core() {
        let ok = check_id_token(&claims(id_token()), &rp(), "n-0", NOW).unwrap();
        assert_eq!((ok.sub.as_str(), ok.sid.as_deref(), ok.name.as_deref()), ("alice", Some("s-1"), Some("Alice")));
        let two = with(id_token(), "aud", json!(["other", "iati-account"]));
        assert_eq!(check_id_token(&two, &rp(), "n-0", NOW), Err(ClaimError::WrongAuthorisedParty));
        let mut two_azp = id_token();
        two_azp["aud"] = json!(["other", "iati-account"]);
        assert!(check_id_token(&with(two_azp, "azp", json!("iati-account")), &rp(), "n-0", NOW).is_ok());
        for (k, v, why) in [
            ("iss", json!("https://evil.example"), ClaimError::WrongIssuer),
            ("aud", json!("another-client"), ClaimError::WrongAudience),
            ("aud", Value::Null, ClaimError::WrongAudience),
            ("azp", json!("another-client"), ClaimError::WrongAuthorisedParty),
            ("exp", json!(NOW - 31), ClaimError::Expired),
            ("exp", Value::Null, ClaimError::Missing("exp")),
            ("iat", json!(NOW + 60), ClaimError::BadIssuedAt),
            ("iat", json!(NOW - 3600), ClaimError::BadIssuedAt),
            ("iat", Value::Null, ClaimError::BadIssuedAt),
            ("nonce", json!("n-1"), ClaimError::WrongNonce),
            ("nonce", Value::Null, ClaimError::WrongNonce),
            ("sub", Value::Null, ClaimError::Missing("sub")),
        ] {
            assert_eq!(check_id_token(&with(id_token(), k, v.clone()), &rp(), "n-0", NOW), Err(why), "{k} = {v}");
        }
    }

    fn logout_token() -> Value {
        json!({"iss": "https://idp.example", "aud": "iati-account", "sub": "alice", "sid": "s-1", "jti": "j-1",
               "iat": NOW - 2, "exp": NOW + 120, "events": {LOGOUT_EVENT: {}}})
    }

    #[test]
    fn a_logout_token_passes_only_every_rule_of_back_channel_logout() {
        let ok = check_logout_token(&claims(logout_token()), &rp(), NOW).unwrap();
        assert_eq!(ok.target, LogoutTarget::Session("s-1".into()));
        assert_eq!((ok.sub.as_deref(), ok.jti.as_str()), (Some("alice"), "j-1"));
        assert_eq!(ok.accepted_until, NOW + 120 + 30, "exp plus the leeway");
        let only_sub = check_logout_token(&with(logout_token(), "sid", Value::Null), &rp(), NOW).unwrap();
        assert_eq!(only_sub.target, LogoutTarget::User("alice".into()));
        let mut neither = logout_token();
        neither.as_object_mut().unwrap().remove("sub");
        assert_eq!(
            check_logout_token(&with(neither, "sid", Value::Null), &rp(), NOW),
            Err(ClaimError::Missing("sid or sub"))
        );
        for (k, v, why) in [
            ("iss", json!("https://evil.example"), ClaimError::WrongIssuer),
            ("aud", json!("another-client"), ClaimError::WrongAudience),
            ("exp", json!(NOW - 60), ClaimError::Expired),
            ("exp", Value::Null, ClaimError::Missing("exp")),
            ("iat", Value::Null, ClaimError::BadIssuedAt),
            ("events", Value::Null, ClaimError::NotALogoutEvent),
            ("events", json!({"http://schemas.openid.net/event/other": {}}), ClaimError::NotALogoutEvent),
            ("events", json!({LOGOUT_EVENT: "yes"}), ClaimError::NotALogoutEvent),
            ("nonce", json!("n"), ClaimError::NonceInLogoutToken),
            ("jti", Value::Null, ClaimError::Missing("jti")),
        ] {
            assert_eq!(check_logout_token(&with(logout_token(), k, v.clone()), &rp(), NOW), Err(why), "{k} = {v}");
        }
    }
}
