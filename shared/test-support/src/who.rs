//! Someone calling the API, as the Identity Service describes them in a token.

use serde_json::{json, Value};

/// The publishing tool users call through (the token's `client_id`).
pub const APP: &str = "publisher-app";

/// The user id of test user `n`: a UUID, as the Identity Service's `iatiRegistryId`.
pub fn uid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Someone calling the API: a user (with an id, roles and a name) or a machine client.
#[derive(Clone, Debug)]
pub struct Who {
    /// Our id for them (the token's `iatiRegistryId`; `""` for a machine client).
    pub uid: String,
    /// Their subject at the Identity Service.
    pub sub: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The roles claim.
    pub roles: Vec<String>,
    /// The scopes, space-separated.
    pub scopes: String,
    /// Their name.
    pub name: String,
}

impl Who {
    /// User `n` ([`uid`]), through [`APP`], with the role that opens the API and every scope.
    pub fn user(n: u32, name: &str) -> Self {
        Who {
            uid: uid(n),
            sub: format!("sub-{n}"),
            client_id: APP.into(),
            roles: vec![ryd_authz::principal::REQUIRED_ROLE.into()],
            scopes: ryd_authz::every_scope().join(" "),
            name: name.into(),
        }
    }

    /// User `n` as a superadmin, with the role as IATI's Identity Server names it.
    pub fn superadmin(n: u32) -> Self {
        let mut w = Self::user(n, "Super");
        w.roles.push(format!("Internal/{}", ryd_authz::principal::SUPERADMIN_ROLE));
        w
    }

    /// A machine client (client credentials): no user, every scope.
    pub fn machine(client_id: &str) -> Self {
        Who {
            uid: String::new(),
            sub: client_id.into(),
            client_id: client_id.into(),
            roles: vec![],
            scopes: ryd_authz::every_scope().join(" "),
            name: String::new(),
        }
    }

    /// The same person through another client.
    pub fn via(mut self, client_id: &str) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// The same person with only `scopes` (space-separated).
    pub fn scopes(mut self, scopes: &str) -> Self {
        self.scopes = scopes.into();
        self
    }

    /// An access token's claims for this caller from issuer `iss` for audience `aud`,
    /// issued at `now` (seconds) and valid for ten minutes.
    pub fn claims_from(&self, iss: &str, aud: &str, now: i64) -> Value {
        let mut c = json!({
            "iss": iss, "aud": aud, "sub": self.sub, "client_id": self.client_id,
            "scope": self.scopes, "iat": now - 1, "exp": now + 600, "jti": format!("{}-{now}", self.sub)
        });
        if !self.uid.is_empty() {
            c["iatiRegistryId"] = json!(self.uid);
            c["roles"] = json!(self.roles);
            c["name"] = json!(self.name);
            c["email"] = json!(format!("{}@example.org", self.name.to_lowercase()));
        }
        c
    }
}
