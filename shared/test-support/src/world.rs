//! A native world for the API: real SQLite (rusqlite), real signed tokens, in-memory
//! key-value store and variables, a controllable clock and scripted outbound HTTP.

use crate::{dataset_body, org_body, Who};
use ryd_api::{handle, Fetched, Ports, Request, Response};
use ryd_authz::{jwks_document, SigningKey};
use ryd_store::native::NativeSql;
use ryd_store::Sql;
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// The issuer of the world's tokens.
pub const ISS: &str = "https://id.example.org/oauth2/token";
/// The audience of the world's tokens.
pub const AUD: &str = "https://registry.example.org/api/v1";

/// The world's signing key (EdDSA, made once per test process), published as `k1`.
pub fn signing_key() -> &'static SigningKey {
    static K: OnceLock<SigningKey> = OnceLock::new();
    K.get_or_init(|| SigningKey::generate("EdDSA").unwrap())
}

/// The host's ports on real SQLite in memory, with a clock, variables and outbound answers the test sets.
pub struct TestPorts {
    /// The database (SQLite in memory).
    pub sql: NativeSql,
    /// The variables.
    pub vars: RefCell<HashMap<String, String>>,
    /// The component's environment.
    pub env: RefCell<HashMap<String, String>>,
    /// The key-value store.
    pub kv: RefCell<HashMap<String, Vec<u8>>>,
    /// The clock (Unix milliseconds).
    pub now_ms: Cell<i64>,
    /// How often each counted event happened.
    pub counts: RefCell<BTreeMap<&'static str, u32>>,
    /// Answers to GETs by URL (status, body).
    pub http: RefCell<HashMap<String, (u16, String)>>,
    /// Answers to POSTs by URL, and the POSTs made (url, body, authorization).
    pub posts: RefCell<HashMap<String, (u16, String)>>,
    /// See `posts`.
    pub posted: RefCell<Vec<(String, String, Option<String>)>>,
    /// What was logged.
    pub logs: RefCell<Vec<String>>,
}

impl Ports for TestPorts {
    fn sql(&self) -> &dyn Sql {
        &self.sql
    }
    fn variable(&self, name: &str) -> Option<String> {
        self.count("variable_read");
        self.vars.borrow().get(name).cloned().filter(|v| !v.is_empty())
    }
    fn environment(&self, name: &str) -> Option<String> {
        self.env.borrow().get(name).cloned()
    }
    fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        self.count("kv_open");
        self.kv.borrow().get(key).cloned()
    }
    fn kv_set(&self, key: &str, value: &[u8]) {
        self.count("kv_open");
        self.kv.borrow_mut().insert(key.into(), value.to_vec());
    }
    fn http_get(&self, url: &str, _bearer: Option<&str>) -> Result<Fetched, String> {
        self.count("http_get");
        match self.http.borrow().get(url) {
            Some((status, body)) => Ok(Fetched { status: *status, body: body.clone().into_bytes() }),
            None => Err(format!("connection refused: {url}")),
        }
    }
    fn http_post_form(&self, url: &str, body: &str, authorization: Option<&str>) -> Result<Fetched, String> {
        self.count("http_post");
        self.posted.borrow_mut().push((url.into(), body.into(), authorization.map(str::to_string)));
        match self.posts.borrow().get(url) {
            Some((status, body)) => Ok(Fetched { status: *status, body: body.clone().into_bytes() }),
            None => Err(format!("connection refused: {url}")),
        }
    }
    fn http_post(&self, url: &str, headers: &[(String, String)], body: &[u8]) -> Result<Fetched, String> {
        self.count("http_post");
        let authorization = headers.iter().find(|(n, _)| n == "authorization").map(|(_, v)| v.clone());
        self.posted.borrow_mut().push((url.into(), String::from_utf8_lossy(body).into_owned(), authorization));
        match self.posts.borrow().get(url) {
            Some((status, body)) => Ok(Fetched { status: *status, body: body.clone().into_bytes() }),
            None => Err(format!("connection refused: {url}")),
        }
    }
    fn now_millis(&self) -> i64 {
        self.now_ms.get()
    }
    fn log(&self, message: &str) {
        self.logs.borrow_mut().push(message.into());
    }
    fn count(&self, event: &'static str) {
        *self.counts.borrow_mut().entry(event).or_default() += 1;
    }
}

/// The API natively: requests in, responses out, on [`TestPorts`].
pub struct World {
    /// Its ports.
    pub ports: TestPorts,
}

/// The world's clock at the start (Unix seconds).
pub const T0: i64 = 1_800_000_000;

impl World {
    /// A world with the issuer configured and an empty database.
    pub fn new() -> Self {
        let vars: HashMap<String, String> = [
            ("oidc_issuer", ISS.to_string()),
            ("oidc_audience", AUD.to_string()),
            ("oidc_jwks", jwks_document(&[("k1", signing_key())]).to_string()),
            ("user_id_claim", "iatiRegistryId".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        World {
            ports: TestPorts {
                sql: NativeSql::in_memory(),
                vars: RefCell::new(vars),
                env: RefCell::default(),
                kv: RefCell::default(),
                now_ms: Cell::new(T0 * 1000),
                counts: RefCell::default(),
                http: RefCell::default(),
                posts: RefCell::default(),
                posted: RefCell::default(),
                logs: RefCell::default(),
            },
        }
    }

    /// Sets a variable.
    pub fn set_var(&self, k: &str, v: &str) {
        self.ports.vars.borrow_mut().insert(k.into(), v.into());
    }

    /// How often `event` was counted.
    pub fn count(&self, event: &str) -> u32 {
        self.ports.counts.borrow().get(event).copied().unwrap_or(0)
    }

    /// `who`'s access token claims at the world's clock.
    pub fn claims(&self, who: &Who) -> Value {
        who.claims_from(ISS, AUD, self.ports.now_ms.get() / 1000)
    }

    /// A signed access token for `who`.
    pub fn token(&self, who: &Who) -> String {
        signing_key().sign(Some("k1"), Some("at+jwt"), &self.claims(who)).unwrap()
    }

    /// Serves a request, as spin.toml routes it.
    pub fn raw(&self, req: Request) -> Response {
        let mut req = req;
        req.base_url = "https://registry.example.org".into();
        // As spin.toml routes it: IATI Account's paths to its component, the rest to the API's.
        if ryd_iati_account::serves(&req.path) {
            ryd_iati_account::serve(&req, &self.ports)
        } else {
            handle(&req, &self.ports)
        }
    }

    /// Calls the API as `who` (no token when `None`), with an optional JSON body.
    pub fn call(&self, who: Option<&Who>, method: &str, path: &str, body: Option<Value>) -> Response {
        let mut req = Request::new(method, path).with_header("content-type", "application/json");
        if let Some(who) = who {
            req = req.with_header("authorization", &format!("Bearer {}", self.token(who)));
        }
        if let Some(b) = body {
            req = req.with_body(b.to_string());
        }
        self.raw(req)
    }

    /// Every row of every table, for "a refused write changed nothing".
    pub fn snapshot(&self) -> String {
        let tables = [
            "organisations",
            "datasets",
            "users",
            "roles",
            "superadmins",
            "tools",
            "tool_admins",
            "tool_grants",
            "audit_events",
            "revocations",
            "idempotency",
            "api_keys",
            "groups",
            "group_members",
            "group_datasets",
            "group_metadata",
            "outbox",
        ];
        let mut out = String::new();
        for t in tables {
            let rows = self.ports.sql.execute(&format!("SELECT * FROM {t} ORDER BY 1, 2"), &[]).unwrap();
            out.push_str(&format!("{t}: {:?}\n", rows.rows));
        }
        out
    }
}

/// Asserts status and returns the body.
#[track_caller]
pub fn expect(r: &Response, status: u16) -> Value {
    let body = r.json_body();
    assert_eq!(r.status, status, "body: {body}");
    body
}

/// The usual cast: an organisation with an admin, an editor, a contributor, a pending
/// user, an outsider, a superadmin, a tool granted there with its admin, and a dataset.
pub struct Cast {
    /// The world they are in.
    pub world: World,
    /// The organisation's admin.
    pub admin: Who,
    /// Its editor.
    pub editor: Who,
    /// Its contributor.
    pub contributor: Who,
    /// Someone who asked to join.
    pub pending: Who,
    /// Someone with no role there.
    pub outsider: Who,
    /// A superadmin.
    pub superadmin: Who,
    /// The granted tool's admin (no role of their own there).
    pub tool_admin: Who,
    /// The granted tool's client id.
    pub tool_client: String,
    /// The granted tool's id.
    pub tool_id: String,
    /// The organisation.
    pub oid: String,
    /// Another organisation, where none of them has a role.
    pub other_oid: String,
    /// The organisation's dataset.
    pub did: String,
}

impl Cast {
    /// The cast, set up through the API.
    pub fn new() -> Self {
        let world = World::new();
        let admin = Who::user(1, "Admin");
        let editor = Who::user(2, "Editor");
        let contributor = Who::user(3, "Contributor");
        let pending = Who::user(4, "Pending");
        let outsider = Who::user(5, "Outsider");
        let superadmin = Who::superadmin(6);
        let tool_client = "aid-tool-client".to_string();
        let tool_admin = Who::user(7, "ToolStaff").via(&tool_client);
        let oid = expect(&world.call(Some(&admin), "POST", "/api/v1/reporting-orgs", Some(org_body("aidorg"))), 201)
            ["data"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let other_oid =
            expect(&world.call(Some(&outsider), "POST", "/api/v1/reporting-orgs", Some(org_body("otherorg"))), 201)
                ["data"]["id"]
                .as_str()
                .unwrap()
                .to_string();
        for w in [&editor, &contributor, &pending, &tool_admin, &superadmin] {
            expect(&world.call(Some(w), "GET", "/api/v1/access-check", None), 200);
        }
        for (w, role) in [(&editor, "editor"), (&contributor, "contributor")] {
            expect(
                &world.call(
                    Some(w),
                    "POST",
                    &format!("/api/v1/users/{}/reporting-org", w.uid),
                    Some(json!({"oid": oid})),
                ),
                200,
            );
            expect(
                &world.call(
                    Some(&admin),
                    "PUT",
                    &format!("/api/v1/users/{}/reporting-org/{oid}", w.uid),
                    Some(json!({"role": role})),
                ),
                200,
            );
        }
        expect(
            &world.call(
                Some(&pending),
                "POST",
                &format!("/api/v1/users/{}/reporting-org", pending.uid),
                Some(json!({"oid": oid})),
            ),
            200,
        );
        let tool = expect(
            &world.call(
                Some(&superadmin),
                "POST",
                "/api/v1/tools",
                Some(json!({"name": "Aid Tool", "provider": "Aid Co", "client_id": tool_client})),
            ),
            201,
        );
        let tool_id = tool["data"]["id"].as_str().unwrap().to_string();
        expect(
            &world.call(Some(&superadmin), "PUT", &format!("/api/v1/tools/{tool_id}/admins/{}", tool_admin.uid), None),
            200,
        );
        expect(
            &world.call(
                Some(&admin),
                "POST",
                &format!("/api/v1/reporting-orgs/{oid}/tools"),
                Some(json!({"tid": tool_id})),
            ),
            201,
        );
        let did = expect(
            &world.call(Some(&admin), "POST", "/api/v1/datasets", Some(dataset_body(&oid, "aid-activities", "public"))),
            201,
        )["data"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        Cast {
            world,
            admin,
            editor,
            contributor,
            pending,
            outsider,
            superadmin,
            tool_admin,
            tool_client,
            tool_id,
            oid,
            other_oid,
            did,
        }
    }
}

impl Default for World {
    fn default() -> Self {
        World::new()
    }
}

impl Default for Cast {
    fn default() -> Self {
        Cast::new()
    }
}
