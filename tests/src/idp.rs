//! The test OpenID Provider (`oidc-provider`, certified; `tests/oidc/provider.mjs`) as the
//! end-to-end tests start and ask it.

use crate::{data_dir, node_packages, root, serve_in, Answer, Client, Server, AUD};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Every scope an endpoint needs, as the provider grants them to the API's audience.
pub fn api_scopes() -> String {
    ryd_authz::every_scope().join(" ")
}

/// The provider, on an ephemeral loopback port, stopped on drop.
pub struct Idp {
    child: Child,
    pub issuer: String,
}

impl Idp {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// With more of provider.mjs's settings: `PORT` (an issuer known before the provider
    /// starts) and `ACCOUNT_REDIRECT_URI` (IATI Account's console registered as a client).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        node_packages();
        let mut child = Command::new("node")
            .arg(root().join("tests/oidc/provider.mjs"))
            .env("AUDIENCE", AUD)
            .env("SCOPES", api_scopes())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs (install Node.js)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the provider starts");
        let first: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("provider said {line:?}: {e}"));
        Idp { child, issuer: first["issuer"].as_str().expect("an issuer").to_string() }
    }

    /// A user's access token through the authorization code flow with PKCE.
    pub fn user_token(&self, client_id: &str, login: &str) -> String {
        let out = Command::new("node")
            .arg(root().join("tests/oidc/login.mjs"))
            .args([&self.issuer, client_id, login, &format!("openid profile email {}", api_scopes()), AUD])
            .output()
            .expect("node runs");
        assert!(out.status.success(), "login failed: {}", String::from_utf8_lossy(&out.stderr));
        let body: Value = serde_json::from_slice(&out.stdout).expect("a token response");
        body["access_token"].as_str().expect("an access token").to_string()
    }

    /// A machine token through client credentials.
    pub fn machine_token(&self, client_id: &str) -> String {
        let body = format!(
            "grant_type=client_credentials&resource={}&scope={}",
            AUD.replace(':', "%3A").replace('/', "%2F"),
            api_scopes().replace(' ', "+").replace(':', "%3A")
        );
        let a = Client::at(&self.issuer).send(
            "POST",
            "/token",
            None,
            &[
                ("authorization", &format!("Basic {}", basic(client_id, "secret"))),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            Some(&body),
        );
        a.expect(200)["access_token"].as_str().expect("an access token").to_string()
    }

    pub fn control(&self, path: &str) -> Answer {
        Client::at(&self.issuer).send("POST", path, None, &[], Some(""))
    }

    pub fn count(&self, endpoint: &str) -> i64 {
        Client::at(&self.issuer).send("GET", "/__stats", None, &[], None).json()[endpoint].as_i64().unwrap_or(0)
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn basic(user: &str, password: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { T[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// The application with IATI Account's console registered at a fresh provider, which
/// knows the console's redirect URI and back-channel logout URI: the provider starts first
/// on a port the system gives it, the host (for `module`, as `serve!`) is configured with
/// that issuer, and the console is registered once the host has its own port. (Choosing
/// the provider's port first and starting it after the host left that port free, and
/// takeable by any server another test started meanwhile, while Spin started.) `extra`:
/// more variables.
pub fn serve_console(module: &str, name: &str, extra: &[(&str, &str)]) -> (Server, Idp) {
    let idp = Idp::start();
    let issuer = idp.issuer.clone();
    let mut env: std::collections::BTreeMap<String, String> = [
        ("SPIN_VARIABLE_OIDC_ISSUER", issuer.as_str()),
        ("SPIN_VARIABLE_OIDC_AUDIENCE", AUD),
        ("SPIN_VARIABLE_OIDC_HOST", issuer.as_str()),
        ("SPIN_VARIABLE_USER_ID_CLAIM", "iatiRegistryId"),
        ("SPIN_VARIABLE_ACCOUNT_CLIENT_ID", "iati-account"),
        ("SPIN_VARIABLE_ACCOUNT_CLIENT_SECRET", "account-secret"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let host = serve_in(module, &data_dir(name), env);
    let callback = format!("{}/account/callback", host.url());
    let registered = idp.control(&format!("/__account?redirect_uri={}", ryd_api::http::percent_encode(&callback)));
    assert_eq!(registered.status, 204, "the provider registers the console: {}", registered.text);
    (host, idp)
}
