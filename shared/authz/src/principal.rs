//! The verified caller (shared/authz/README.md §1, the `Principal`).

use crate::token::{TokenError, VerifiedClaims};

/// Who is calling, from a verified token. Says nothing about organisations: membership
/// lives only in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's subject.
    pub sub: String,
    /// The user's Register Your Data id (`None` for machine tokens).
    pub user_id: Option<String>,
    /// The client that presented it.
    pub client_id: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// Its roles (from the configured roles claim).
    pub roles: Vec<String>,
    /// Client credentials: no user behind it.
    pub is_machine: bool,
    /// The token's `jti`, if any.
    pub token_id: Option<String>,
    /// When the token expires (Unix seconds).
    pub expires_at: i64,
    /// When it was issued (Unix seconds).
    pub issued_at: i64,
    /// The user's name, if the token says.
    pub name: Option<String>,
    /// The user's email, if the token says.
    pub email: Option<String>,
}

/// Whether `roles` hold `role`, by name or by a suffix after `/` (`Internal/iati_superadmin`).
pub fn holds_role(roles: &[String], role: &str) -> bool {
    roles.iter().any(|r| r == role || r.rsplit_once('/').is_some_and(|(_, tail)| tail == role))
}

/// The role every user token must carry.
pub const REQUIRED_ROLE: &str = "iati_register_your_data";
/// The role that makes a user superadmin.
pub const SUPERADMIN_ROLE: &str = "iati_superadmin";

impl Principal {
    /// Builds the principal; `roles` must already hold the userinfo roles when the token
    /// carried none (the caller fetches them). Needs no configuration: it runs on every
    /// request, also when the claims come from the verified-token cache.
    pub fn from_claims(claims: &VerifiedClaims) -> Result<Self, TokenError> {
        let is_machine = claims.sub == claims.client_id;
        if !is_machine && claims.user_id.is_none() {
            return Err(TokenError::MissingClaim("user id"));
        }
        Ok(Self {
            sub: claims.sub.clone(),
            user_id: if is_machine { None } else { claims.user_id.clone() },
            client_id: claims.client_id.clone(),
            scopes: claims.scopes.clone(),
            roles: claims.roles.clone().unwrap_or_default(),
            is_machine,
            token_id: claims.jti.clone(),
            expires_at: claims.exp,
            issued_at: claims.iat,
            name: claims.name.clone(),
            email: claims.email.clone(),
        })
    }

    /// A role matches by name or by a suffix after `/` (`Internal/iati_superadmin`).
    pub fn has_role(&self, role: &str) -> bool {
        holds_role(&self.roles, role)
    }

    /// Whether a user token holds the superadmin role (a machine token never does).
    pub fn has_superadmin_role(&self) -> bool {
        !self.is_machine && self.has_role(SUPERADMIN_ROLE)
    }

    /// A machine token of one of `clients` (comma- or space-separated client ids): a
    /// service such as a gateway.
    pub fn is_listed_client(&self, clients: &str) -> bool {
        self.is_machine && clients.split([',', ' ']).any(|c| !c.is_empty() && c == self.client_id)
    }

    /// User tokens need `iati_register_your_data` (superadmins too).
    pub fn may_use_api(&self) -> bool {
        self.is_machine || self.has_role(REQUIRED_ROLE) || self.has_superadmin_role()
    }
}
