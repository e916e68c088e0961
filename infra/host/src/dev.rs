//! The development identity of `up --dev`: a signing key kept in `.spin/`, configured as
//! the issuer's pinned JWKS, and tokens signed with it; the issuer is the host's own
//! development Identity Service (`dev_idp`), where IATI Account signs people in. Never
//! used unless asked for.

use anyhow::{Context, Result};
use ryd_authz::{jwks_document, SigningKey};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

pub const DEV_KID: &str = "dev-key-1";
/// The port `up` listens on by default, whose issuer `token` assumes before any `up`.
pub const DEFAULT_PORT: u16 = 3000;
/// IATI Account's client at the development Identity Service.
pub const CONSOLE_CLIENT_ID: &str = "iati-account-dev";
/// Where the issuer `up --dev` last served is kept, for `token` to sign as it.
const ISSUER_FILE: &str = "dev-issuer";

/// Where the development Identity Service (`dev_idp`) is served on the host: its issuer is
/// the host's origin plus this.
pub const IDP_PATH: &str = "/dev-identity";

/// The development issuer of a host on `port`: its own development Identity Service.
pub fn issuer_at(port: u16) -> String {
    format!("http://127.0.0.1:{port}{}", IDP_PATH)
}
/// The development superadmin's user id.
pub const DEV_SUPERADMIN: &str = "00000000-0000-4000-8000-000000000001";

#[derive(Debug, Clone)]
pub struct DevIdentity {
    pub key: SigningKey,
    pub issuer: String,
    pub jwks: String,
    /// The authorisation service's own signing keys (`authz_signing_keys`).
    pub authz_keys: String,
    /// The console's client secret at the development Identity Service (new each start).
    pub console_secret: String,
}

/// The authorisation service's development key ring in `.spin/dev-authz-keys.json`, made
/// on first use (EdDSA, the service's default). Kept as written, so a developer can
/// rehearse a rotation by editing the file.
fn authz_keys(data_dir: &Path) -> Result<String> {
    let path = data_dir.join("dev-authz-keys.json");
    if path.exists() {
        let text = std::fs::read_to_string(&path)?;
        ryd_authz::KeyRing::parse(&text)
            .context("the development authz keys are unusable: delete .spin/dev-authz-keys.json")?;
        return Ok(text);
    }
    let key = SigningKey::generate("EdDSA")?;
    let text = ryd_authz::KeyRing::document(&[(&format!("dev-authz-{}", std::process::id()), &key)], &[]);
    write_private(&path, &text)?;
    Ok(text)
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).ok();
    }
    Ok(())
}

/// What a token should say.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub sub: String,
    pub roles: Vec<String>,
    pub scope: String,
    pub client_id: String,
    pub audience: String,
    pub lifetime_seconds: i64,
    pub name: Option<String>,
    pub email: Option<String>,
}

impl TokenRequest {
    pub fn superadmin(audience: &str) -> Self {
        TokenRequest {
            sub: DEV_SUPERADMIN.into(),
            roles: vec!["iati_register_your_data".into(), "iati_superadmin".into()],
            scope: ryd_authz::every_scope().join(" "),
            client_id: "dev-client".into(),
            audience: audience.into(),
            lifetime_seconds: 8 * 3600,
            name: Some("Development Superadmin".into()),
            email: Some("superadmin@dev.localhost".into()),
        }
    }
}

impl DevIdentity {
    /// The identity of a host serving on `port`: [`load_or_create`](Self::load_or_create)'s,
    /// with that port's issuer, kept in `.spin/` for `token`.
    pub fn serving_at(data_dir: &Path, port: u16) -> Result<Self> {
        let mut dev = Self::load_or_create(data_dir)?;
        dev.issuer = issuer_at(port);
        std::fs::write(data_dir.join(ISSUER_FILE), &dev.issuer).context("keeping the development issuer")?;
        Ok(dev)
    }

    /// The key in `.spin/dev-signing-key.json`, made on first use (RS256, as IATI's
    /// Identity Service signs), and the issuer `up --dev` last served from this state
    /// (else the default port's).
    pub fn load_or_create(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join("dev-signing-key.json");
        let key = if path.exists() {
            let v: Value =
                serde_json::from_str(&std::fs::read_to_string(&path)?).context("reading the development key")?;
            SigningKey::from_private_jwk(&v)
                .context("the development key is unusable: delete .spin/dev-signing-key.json")?
        } else {
            std::fs::create_dir_all(data_dir)?;
            let key = SigningKey::generate("RS256")?;
            write_private(&path, &key.private_jwk().to_string())?;
            key
        };
        let jwks = jwks_document(&[(DEV_KID, &key)]).to_string();
        let authz_keys = authz_keys(data_dir)?;
        let issuer = std::fs::read_to_string(data_dir.join(ISSUER_FILE))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| s.starts_with("http://127.0.0.1:"))
            .unwrap_or_else(|| issuer_at(DEFAULT_PORT));
        let console_secret = ryd_account::random_token().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        Ok(DevIdentity { key, issuer, jwks, authz_keys, console_secret })
    }

    /// The issuer's origin (`http://127.0.0.1:PORT`): what the console calls out to.
    pub fn origin(&self) -> &str {
        self.issuer.strip_suffix(IDP_PATH).unwrap_or(&self.issuer)
    }

    /// Defaults for the variables; explicit `SPIN_VARIABLE_*` values still win. IATI
    /// Account is registered at the development Identity Service the host serves.
    pub fn variable_defaults(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("oidc_issuer".to_string(), self.issuer.clone()),
            ("oidc_jwks".to_string(), self.jwks.clone()),
            ("oidc_host".to_string(), self.origin().to_string()),
            ("authz_signing_keys".to_string(), self.authz_keys.clone()),
            ("account_client_id".to_string(), CONSOLE_CLIENT_ID.to_string()),
            ("account_client_secret".to_string(), self.console_secret.clone()),
        ])
    }

    pub fn mint(&self, t: &TokenRequest) -> Result<String> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
        let mut claims = json!({
            "iss": self.issuer, "aud": t.audience, "sub": t.sub, "client_id": t.client_id,
            "scope": t.scope, "roles": t.roles, "iat": now, "nbf": now, "exp": now + t.lifetime_seconds,
            "jti": format!("dev-{now}-{}", std::process::id()),
        });
        if let Some(n) = &t.name {
            claims["name"] = json!(n);
        }
        if let Some(e) = &t.email {
            claims["email"] = json!(e);
        }
        Ok(self.key.sign(Some(DEV_KID), Some("at+jwt"), &claims)?)
    }
}
