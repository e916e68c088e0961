//! Every token rejection of shared/authz/README.md §1, with real keys of each allowed algorithm.

use base64ct::{Base64UrlUnpadded, Encoding};
use ryd_authz::{
    check_claims, decode_verified, jwks_document, verify_payload, AuthConfig, KeySet, Principal, SigningKey,
    TokenError, LOGOUT_TOKEN_TYPES,
};
use serde_json::{json, Value};
use std::sync::OnceLock;

const ISS: &str = "https://id.example.org/oauth2/token";
const AUD: &str = "https://registry.example.org/api/v1";
const NOW: i64 = 1_800_000_000;

fn keys() -> &'static [(&'static str, SigningKey)] {
    static KEYS: OnceLock<Vec<(&'static str, SigningKey)>> = OnceLock::new();
    KEYS.get_or_init(|| {
        ["RS256", "PS256", "ES256", "EdDSA"].iter().map(|alg| (*alg, SigningKey::generate(alg).unwrap())).collect()
    })
}

fn key(alg: &str) -> &'static SigningKey {
    &keys().iter().find(|(a, _)| *a == alg).unwrap().1
}

fn keyset() -> KeySet {
    let pairs: Vec<(&str, &SigningKey)> = keys().iter().map(|(a, k)| (*a, k)).collect();
    KeySet::parse(&jwks_document(&pairs).to_string()).unwrap()
}

fn config() -> AuthConfig {
    AuthConfig::from_lookup(|name| match name {
        "oidc_issuer" => Some(ISS.into()),
        "oidc_audience" => Some(AUD.into()),
        "user_id_claim" => Some("iatiRegistryId".into()),
        _ => None,
    })
    .unwrap()
}

fn claims() -> Value {
    json!({
        "iss": ISS, "aud": [AUD, "other"], "sub": "user-sub", "client_id": "tool-client",
        "iatiRegistryId": "6423b556-73de-4969-a2f1-91a38bca92b3",
        "scope": "ryd ryd:reporting_org", "roles": ["Internal/iati_register_your_data"],
        "iat": NOW - 10, "exp": NOW + 600, "jti": "t-1", "name": "Ada", "email": "ada@example.org"
    })
}

fn with(mut c: Value, key: &str, v: Value) -> Value {
    c[key] = v;
    c
}

fn without(mut c: Value, key: &str) -> Value {
    c.as_object_mut().unwrap().remove(key);
    c
}

fn sign(alg: &str, c: &Value) -> String {
    key(alg).sign(Some(alg), Some("at+jwt"), c).unwrap()
}

fn verify(token: &str) -> Result<(), TokenError> {
    let cfg = config();
    let claims = decode_verified(token, &keyset(), &cfg)?;
    check_claims(&claims, &cfg, NOW)?;
    Principal::from_claims(&claims).map(|_| ())
}

fn b64(v: &Value) -> String {
    Base64UrlUnpadded::encode_string(v.to_string().as_bytes())
}

#[test]
fn each_allowed_algorithm_verifies_into_a_principal() {
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        let token = sign(alg, &claims());
        let cfg = config();
        let verified = decode_verified(&token, &keyset(), &cfg).unwrap_or_else(|e| panic!("{alg}: {e}"));
        check_claims(&verified, &cfg, NOW).unwrap();
        let p = Principal::from_claims(&verified).unwrap();
        assert_eq!(p.user_id.as_deref(), Some("6423b556-73de-4969-a2f1-91a38bca92b3"));
        assert_eq!(p.scopes, vec!["ryd", "ryd:reporting_org"]);
        assert!(!p.is_machine && p.may_use_api() && !p.has_superadmin_role());
        assert_eq!(p.name.as_deref(), Some("Ada"));
    }
}

#[test]
fn alg_none_is_refused() {
    let header = json!({"alg": "none", "kid": "RS256"});
    let token = format!("{}.{}.", b64(&header), b64(&claims()));
    assert_eq!(verify(&token), Err(TokenError::AlgorithmNotAllowed("none".into())));
}

#[test]
fn hs256_signed_with_the_public_key_bytes_is_refused() {
    use hmac::{Hmac, Mac};
    let public = key("RS256").public_jwk("RS256").to_string();
    let header = json!({"alg": "HS256", "kid": "RS256"});
    let signing_input = format!("{}.{}", b64(&header), b64(&claims()));
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(public.as_bytes()).unwrap();
    mac.update(signing_input.as_bytes());
    let sig = Base64UrlUnpadded::encode_string(&mac.finalize().into_bytes());
    assert_eq!(verify(&format!("{signing_input}.{sig}")), Err(TokenError::AlgorithmNotAllowed("HS256".into())));
}

#[test]
fn an_algorithm_outside_the_allow_list_is_refused() {
    let mut cfg = config();
    cfg.allowed_algs = vec!["RS256".into()];
    let token = sign("ES256", &claims());
    assert_eq!(decode_verified(&token, &keyset(), &cfg), Err(TokenError::AlgorithmNotAllowed("ES256".into())));
}

#[test]
fn unknown_kid_is_refused_as_unknown_key() {
    let token = key("RS256").sign(Some("rotated-away"), None, &claims()).unwrap();
    assert_eq!(verify(&token), Err(TokenError::UnknownKey("rotated-away".into())));
}

#[test]
fn a_key_of_another_family_under_the_right_kid_is_not_used() {
    // Header says ES256 with the RSA key's kid: algorithm confusion must not verify.
    let token = key("ES256").sign(Some("RS256"), None, &claims()).unwrap();
    assert_eq!(verify(&token), Err(TokenError::UnknownKey("RS256".into())));
}

#[test]
fn a_signature_by_another_key_is_refused() {
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        let other = SigningKey::generate(alg).unwrap();
        let token = other.sign(Some(alg), None, &claims()).unwrap();
        assert_eq!(verify(&token), Err(TokenError::BadSignature), "{alg}");
    }
}

#[test]
fn tampered_claims_are_refused() {
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        let token = sign(alg, &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let forged = b64(&with(claims(), "scope", json!("ryd ryd:reporting_org:delete")));
        assert_eq!(verify(&format!("{}.{}.{}", parts[0], forged, parts[2])), Err(TokenError::BadSignature), "{alg}");
    }
}

#[test]
fn signatures_of_the_wrong_shape_are_bad_signatures_not_errors() {
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        let token = sign(alg, &claims());
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let bytes = Base64UrlUnpadded::decode_vec(signature).unwrap();
        let shapes = [
            Vec::new(),
            bytes[..bytes.len() - 1].to_vec(),
            [bytes.as_slice(), &[0]].concat(),
            vec![0xff; bytes.len()],
            vec![0; bytes.len()],
        ];
        for shape in shapes {
            let forged = format!("{signed}.{}", Base64UrlUnpadded::encode_string(&shape));
            assert_eq!(verify(&forged), Err(TokenError::BadSignature), "{alg}, {} bytes", shape.len());
        }
    }
}

#[test]
fn time_checks_use_the_leeway() {
    let expired = with(claims(), "exp", json!(NOW - 61));
    assert_eq!(verify(&sign("EdDSA", &expired)), Err(TokenError::Expired));
    let within_leeway = with(claims(), "exp", json!(NOW - 30));
    assert_eq!(verify(&sign("EdDSA", &within_leeway)), Ok(()));
    let future_nbf = with(claims(), "nbf", json!(NOW + 120));
    assert_eq!(verify(&sign("EdDSA", &future_nbf)), Err(TokenError::NotYetValid));
    let future_iat = with(with(claims(), "iat", json!(NOW + 120)), "exp", json!(NOW + 600));
    assert_eq!(verify(&sign("EdDSA", &future_iat)), Err(TokenError::IssuedInFuture));
}

#[test]
fn issuer_audience_and_lifetime_are_checked() {
    assert_eq!(verify(&sign("ES256", &with(claims(), "iss", json!("https://evil")))), Err(TokenError::WrongIssuer));
    assert_eq!(verify(&sign("ES256", &with(claims(), "aud", json!("other")))), Err(TokenError::WrongAudience));
    let long = with(with(claims(), "iat", json!(NOW - 10)), "exp", json!(NOW + 86_400));
    assert_eq!(verify(&sign("ES256", &long)), Err(TokenError::LifetimeTooLong));
}

#[test]
fn required_claims_are_required() {
    for (claim, name) in [
        ("exp", "exp"),
        ("iat", "iat"),
        ("scope", "scope"),
        ("aud", "aud"),
        ("client_id", "client_id"),
        ("iatiRegistryId", "user id"),
    ] {
        assert_eq!(verify(&sign("EdDSA", &without(claims(), claim))), Err(TokenError::MissingClaim(name)), "{claim}");
    }
    // `azp` stands in for `client_id`; `scp` for `scope`.
    let azp = with(without(claims(), "client_id"), "azp", json!("tool-client"));
    assert_eq!(verify(&sign("EdDSA", &azp)), Ok(()));
    let scp = with(without(claims(), "scope"), "scp", json!(["ryd"]));
    assert_eq!(verify(&sign("EdDSA", &scp)), Ok(()));
}

#[test]
fn a_string_exp_is_malformed_not_missing() {
    let token = sign("EdDSA", &with(claims(), "exp", json!("1800000600")));
    assert!(matches!(verify(&token), Err(TokenError::Malformed(_))), "{:?}", verify(&token));
}

#[test]
fn malformed_tokens_are_refused() {
    for bad in ["", "abc", "a.b", "a.b.c.d", "!!!.???.***", "eyJhbGciOiJSUzI1NiJ9.e30"] {
        assert!(matches!(verify(bad), Err(TokenError::Malformed(_))), "{bad}: {:?}", verify(bad));
    }
}

#[test]
fn critical_headers_and_odd_types_are_refused() {
    let header = json!({"alg": "EdDSA", "kid": "EdDSA", "crit": ["exp"], "exp": 1});
    let signing_input = format!("{}.{}", b64(&header), b64(&claims()));
    let token = format!("{signing_input}.{}", Base64UrlUnpadded::encode_string(&[0u8; 64]));
    assert_eq!(verify(&token), Err(TokenError::UnsupportedCritical("exp".into())));
    let token = key("EdDSA").sign(Some("EdDSA"), Some("id_token+jwt"), &claims()).unwrap();
    assert_eq!(verify(&token), Err(TokenError::WrongType("id_token+jwt".into())));
}

#[test]
fn a_logout_token_and_an_access_token_never_pass_for_each_other() {
    let algs = vec!["EdDSA".to_string()];
    let logout = key("EdDSA").sign(Some("EdDSA"), Some("logout+jwt"), &claims()).unwrap();
    let payload = verify_payload(&logout, &keyset(), &algs, LOGOUT_TOKEN_TYPES).unwrap();
    // The whole payload, times included, for the logout token's own checks.
    assert_eq!((payload["exp"].as_i64(), payload["iat"].as_i64()), (Some(NOW + 600), Some(NOW - 10)));
    assert_eq!(payload["jti"], "t-1");
    assert_eq!(verify(&logout), Err(TokenError::WrongType("logout+jwt".into())));
    let access = key("EdDSA").sign(Some("EdDSA"), Some("at+jwt"), &claims()).unwrap();
    assert_eq!(
        verify_payload(&access, &keyset(), &algs, LOGOUT_TOKEN_TYPES),
        Err(TokenError::WrongType("at+jwt".into()))
    );
    // The signature still counts.
    let stranger = SigningKey::generate("EdDSA").unwrap().sign(Some("EdDSA"), Some("logout+jwt"), &claims()).unwrap();
    assert_eq!(verify_payload(&stranger, &keyset(), &algs, LOGOUT_TOKEN_TYPES), Err(TokenError::BadSignature));
}

#[test]
fn machine_tokens_have_no_user() {
    let machine = with(without(claims(), "iatiRegistryId"), "sub", json!("tool-client"));
    let cfg = config();
    let verified = decode_verified(&sign("RS256", &machine), &keyset(), &cfg).unwrap();
    let p = Principal::from_claims(&verified).unwrap();
    assert!(p.is_machine && p.user_id.is_none() && p.may_use_api());
}

#[test]
fn roles_come_from_a_dotted_path_and_match_by_suffix() {
    let mut cfg = config();
    cfg.roles_claim = "realm_access.roles".into();
    let c = with(without(claims(), "roles"), "realm_access", json!({"roles": ["iati_superadmin"]}));
    let verified = decode_verified(&sign("ES256", &c), &keyset(), &cfg).unwrap();
    let p = Principal::from_claims(&verified).unwrap();
    assert!(p.has_superadmin_role() && p.may_use_api());
    // No roles claim at all: `None`, so the caller knows to ask userinfo.
    let verified = decode_verified(&sign("ES256", &without(claims(), "roles")), &keyset(), &config()).unwrap();
    assert_eq!(verified.roles, None);
}

#[test]
fn a_user_token_without_the_api_role_may_not_use_the_api() {
    let c = with(claims(), "roles", json!(["somebody_else"]));
    let cfg = config();
    let p = Principal::from_claims(&decode_verified(&sign("ES256", &c), &keyset(), &cfg).unwrap()).unwrap();
    assert!(!p.may_use_api());
}

#[test]
fn weak_rsa_keys_and_encryption_keys_are_skipped_in_the_jwks() {
    let mut enc = key("ES256").public_jwk("enc");
    enc["use"] = json!("enc");
    let doc = json!({"keys": [enc, {"kty": "oct", "k": "c2VjcmV0"}, key("EdDSA").public_jwk("ok")]});
    let set = KeySet::parse(&doc.to_string()).unwrap();
    assert_eq!((set.len(), set.skipped), (1, 2));
    assert!(KeySet::parse("{}").is_err());
}
