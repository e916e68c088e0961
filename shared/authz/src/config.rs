//! Verification settings, read from Spin variables by the caller (shared/authz/README.md §7).

use crate::permissions::RoleTable;

/// Algorithms accepted unless `allowed_algs` says otherwise. `none` and `HS*` can never be
/// enabled: a shared-secret token cannot come from an Identity Service we trust.
pub const DEFAULT_ALGS: &[&str] = &["RS256", "PS256", "ES256", "EdDSA"];

/// Everything the verifier needs besides the keys and the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The issuer tokens must name (`iss`).
    pub issuer: String,
    /// The audience tokens must name (`aud`).
    pub audience: String,
    /// The signature algorithms accepted (a subset of [`DEFAULT_ALGS`]).
    pub allowed_algs: Vec<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat` (seconds).
    pub leeway_seconds: i64,
    /// The longest lifetime a token may claim (`exp - iat`, seconds).
    pub max_lifetime_seconds: i64,
    /// Dotted path to the roles claim (`roles`, `realm_access.roles`).
    pub roles_claim: String,
    /// The claim holding the user's Register Your Data id (`sub`, `iatiRegistryId`).
    pub user_id_claim: String,
    /// Which permission table is in force.
    pub role_table: RoleTable,
}

/// A variable missing or invalid.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A required variable is unset.
    #[error("variable `{0}` is required but not set")]
    Missing(&'static str),
    /// A variable's value is unusable, and why.
    #[error("variable `{name}` is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

impl AuthConfig {
    /// Builds the configuration from a variable lookup (`None` = unset or empty).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let issuer = get("oidc_issuer").ok_or(ConfigError::Missing("oidc_issuer"))?;
        let audience = get("oidc_audience").ok_or(ConfigError::Missing("oidc_audience"))?;
        let allowed_algs = match get("allowed_algs") {
            None => DEFAULT_ALGS.iter().map(|s| s.to_string()).collect(),
            Some(list) => {
                let algs: Vec<String> = list.split([',', ' ']).filter(|s| !s.is_empty()).map(str::to_string).collect();
                if let Some(bad) = algs.iter().find(|a| !DEFAULT_ALGS.contains(&a.as_str())) {
                    return Err(ConfigError::Invalid {
                        name: "allowed_algs",
                        reason: format!("`{bad}` is not one of {}", DEFAULT_ALGS.join(", ")),
                    });
                }
                algs
            }
        };
        let int = |name: &'static str, default: i64| -> Result<i64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .ok_or(ConfigError::Invalid { name, reason: format!("`{v}` is not a non-negative integer") }),
            }
        };
        let role_table = match get("role_table").as_deref() {
            None | Some("documented") => RoleTable::Documented,
            Some("reference") => RoleTable::Reference,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "role_table",
                    reason: format!("`{other}` is neither `documented` nor `reference`"),
                })
            }
        };
        Ok(Self {
            issuer,
            audience,
            allowed_algs,
            leeway_seconds: int("token_leeway_seconds", 60)?,
            max_lifetime_seconds: int("max_token_lifetime_seconds", 86_400)?,
            roles_claim: get("roles_claim").unwrap_or_else(|| "roles".into()),
            user_id_claim: get("user_id_claim").unwrap_or_else(|| "sub".into()),
            role_table,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn defaults_apply_when_only_required_are_set() {
        let c = AuthConfig::from_lookup(lookup(&[("oidc_issuer", "https://i"), ("oidc_audience", "a")])).unwrap();
        assert_eq!(c.leeway_seconds, 60);
        assert_eq!(c.max_lifetime_seconds, 86_400);
        assert_eq!(c.allowed_algs, DEFAULT_ALGS);
        assert_eq!(c.user_id_claim, "sub");
        assert_eq!(c.role_table, RoleTable::Documented);
    }

    #[test]
    fn missing_and_invalid_variables_are_named() {
        assert_eq!(
            AuthConfig::from_lookup(lookup(&[("oidc_audience", "a")])),
            Err(ConfigError::Missing("oidc_issuer"))
        );
        let err = AuthConfig::from_lookup(lookup(&[
            ("oidc_issuer", "i"),
            ("oidc_audience", "a"),
            ("allowed_algs", "RS256,HS256"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("HS256"), "{err}");
        let err = AuthConfig::from_lookup(lookup(&[
            ("oidc_issuer", "i"),
            ("oidc_audience", "a"),
            ("token_leeway_seconds", "-3"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("token_leeway_seconds"));
    }
}
