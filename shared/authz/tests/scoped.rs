//! The scope syntax of ckanext-authz-service, grants from the permission table, and the
//! application's own key ring.

use ryd_authz::keyring::{public_pem, KeyRing};
use ryd_authz::scoped::{grant, Scope, ScopeError, Target};
use ryd_authz::{decide, Authorisation, OrgStanding, Role, RoleTable, SigningKey};
use serde_json::json;

#[test]
fn scopes_parse_and_print_as_authzzie_does() {
    for (text, canonical) in [
        ("org", "org"),
        ("org:*", "org"),
        ("org:*:read", "org:*:read"),
        ("org:foobar:*", "org:foobar"),
        ("ds:myorg/mydataset:update", "ds:myorg/mydataset:update"),
        ("ds:*:metadata:read,update", "ds:*:metadata:read,update"),
        ("ds:*:metadata:update,read", "ds:*:metadata:read,update"),
        ("ds:*:metadata:*", "ds:*:metadata:*"),
        ("res:o/d/r:read", "res:o/d/r:read"),
    ] {
        assert_eq!(Scope::parse(text).unwrap().to_string(), canonical, "{text}");
    }
    assert!(matches!(Scope::parse("file:x"), Err(ScopeError::UnknownType(..))));
    assert!(matches!(Scope::parse("ds:a:b:c:d"), Err(ScopeError::TooManyParts(_))));
    assert_eq!(Scope::parse(" "), Err(ScopeError::Empty));
}

#[test]
fn targets_name_what_to_look_up() {
    let t = |s: &str| Scope::parse(s).unwrap().target();
    assert_eq!(t("org:*:read"), Target::Everything);
    assert_eq!(t("ds:*/x:read"), Target::Everything);
    assert_eq!(t("org:aid:read"), Target::Org("aid".into()));
    assert_eq!(t("ds:aid/*:create"), Target::DatasetsOf("aid".into()));
    assert_eq!(t("ds:x"), Target::Dataset { org: None, dataset: "x".into() });
    assert_eq!(t("ds:aid/x:read"), Target::Dataset { org: Some("aid".into()), dataset: "x".into() });
    assert_eq!(
        t("res:aid/x/r1:read"),
        Target::Resource { org: Some("aid".into()), dataset: Some("x".into()), resource: "r1".into() }
    );
    assert_eq!(t("res:aid/x/*:read"), Target::Dataset { org: Some("aid".into()), dataset: "x".into() });
    assert_eq!(t("res:r1"), Target::Resource { org: None, dataset: None, resource: "r1".into() });
}

#[test]
fn grants_are_the_asked_actions_the_table_gives() {
    let held_by = |role: Role| {
        move |auth: Authorisation| {
            decide(RoleTable::Documented, &OrgStanding { role: Some(role), ..Default::default() }, auth).allowed
        }
    };
    let g = |s: &str, role: Role| grant(&Scope::parse(s).unwrap(), held_by(role)).map(|s| s.to_string());
    assert_eq!(g("ds:o/d:read,update,delete,fly", Role::Editor).as_deref(), Some("ds:o/d:delete,read,update"));
    assert_eq!(g("ds:o/d:update", Role::Contributor), None);
    assert_eq!(g("ds:o/d", Role::Admin).as_deref(), Some("ds:o/d"), "all asked, all held: stays all");
    assert_eq!(g("ds:o/d", Role::Contributor).as_deref(), Some("ds:o/d:create,list,read"));
    assert_eq!(g("ds:o/d:metadata:read", Role::Contributor).as_deref(), Some("ds:o/d:metadata:read"));
    assert_eq!(g("ds:o/d:secrets:read", Role::Admin), None, "unknown subscopes grant nothing");
    assert_eq!(g("org:o", Role::ContributorPending), None);
    assert_eq!(g("res:o/d/r:update,delete", Role::Editor).as_deref(), Some("res:o/d/r:delete,update"));
}

#[test]
fn the_key_ring_signs_with_the_first_private_key_and_publishes_all() {
    let old = SigningKey::generate("ES256").unwrap();
    let new = SigningKey::generate("EdDSA").unwrap();
    let mut new_jwk = new.private_jwk();
    new_jwk.as_object_mut().unwrap().remove("alg");
    let text = json!({"keys": [old.public_jwk("old"), new_jwk]}).to_string();
    let ring = KeyRing::parse(&text).unwrap();
    assert_eq!(ring.signing.1.alg(), "EdDSA", "alg inferred from kty/crv");
    assert_eq!(ring.signing.0.len(), 43, "default kid: the RFC 7638 thumbprint");
    assert_eq!(ring.public[0]["kid"], json!(ring.signing.0), "the signing key is published first");
    assert_eq!(ring.public[1]["kid"], "old");
    assert_eq!(ring.key_set().len(), 2);
    assert!(KeyRing::parse(&json!({"keys": [old.public_jwk("old")]}).to_string()).is_err(), "nothing to sign with");
    assert!(KeyRing::parse("not json").is_err());
}

#[test]
fn public_keys_have_a_pem_form() {
    let starts = [
        ("EdDSA", "MCowBQYDK2VwAyEA"),
        ("ES256", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"),
        ("RS256", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"),
    ];
    for (alg, prefix) in starts {
        let pem = public_pem(&SigningKey::generate(alg).unwrap().public_jwk("k")).unwrap();
        let body = pem.lines().nth(1).unwrap();
        assert!(body.starts_with(prefix), "{alg}: {pem}");
        assert!(pem.lines().all(|l| l.len() <= 64));
    }
}
