//! IATI Account in a real browser (issue 18): headless Chromium, from Debian's `chromium`
//! package, driven by `tests/browser/journey.mjs` (puppeteer-core) through the console on
//! the real `.wasm` in the local host and through the real OpenID Provider's pages, with
//! its Back-Channel Logout on. This test plays the API gateway at the journey's
//! checkpoints: `validate_cookie` with the browser's cookie and `validate_api_key` with the
//! key made in the console, asked with a service client's token from the same provider.
//! Screenshots of every page: `target/browser-journey/`.

use ryd_e2e::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

/// The gateway's question about a key, with its own token.
fn key_authorized(c: &Client, token: &str, key: &str) -> Value {
    let body = json!({"api_key": key, "api_id": "journey-activities"}).to_string();
    c.send("POST", "/api/3/action/validate_api_key", Some(token), &[], Some(&body)).expect(200)["result"].clone()
}

fn cookie_says(c: &Client, cookie: &str) -> Value {
    c.send("GET", "/api/3/action/validate_cookie", None, &[("cookie", cookie)], None).expect(200)["result"].clone()
}

#[test]
fn a_journey_through_the_console_in_chromium() {
    let chromium = chromium();
    browser_packages();
    let (host, idp) =
        serve_console(module_path!(), "browser-journey", &[("SPIN_VARIABLE_AUTHZ_SERVICE_CLIENTS", "tool-machine")]);
    let (site, issuer) = (host.url(), idp.issuer.clone());
    let c = Client::new(&host);
    let gateway = idp.machine_token("tool-machine");
    assert_eq!(key_authorized(&c, &gateway, "ryd_unknown")["authorized"], false);
    // Everyone's usage plan, so that a live key validates.
    host.sql_exec("INSERT INTO groups (id, name, title, created_at) VALUES ('00000000-0000-4000-8000-00000000b001', 'api-bronze-users', 'Bronze', '2026-01-01T00:00:00Z')");

    let shots = root().join("target/browser-journey");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).expect("a screenshot directory");
    let mut journey = Command::new("node")
        .arg(root().join("tests/browser/journey.mjs"))
        .env("SITE", &site)
        .env("ISSUER", &issuer)
        .env("SHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut to_journey = journey.stdin.take().expect("stdin");
    let mut from_journey = BufReader::new(journey.stdout.take().expect("stdout"));
    let mut next = |expected: &str| -> Value {
        let mut line = String::new();
        from_journey.read_line(&mut line).expect("the journey speaks");
        let at: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if at["checkpoint"] != expected {
            let _ = journey.kill();
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut journey.stderr.take().expect("stderr"), &mut err);
            panic!("the journey failed before {expected} (screenshots in {}):\n{line}{err}", shots.display());
        }
        at
    };

    let signed_in = next("signed-in");
    let (cookie, key) = (signed_in["cookie"].as_str().unwrap(), signed_in["key"].as_str().unwrap());
    let who = cookie_says(&c, cookie);
    assert_eq!(who["logged_in"], true, "{who}");
    assert_eq!(who["user"]["id"], signed_in["user"]);
    assert_eq!(key_authorized(&c, &gateway, key)["authorized"], true);
    writeln!(to_journey, "go").expect("the journey listens");

    next("signed-out-at-provider");
    assert_eq!(cookie_says(&c, cookie)["logged_in"], false, "the provider's back-channel call ended the session");
    let refused = key_authorized(&c, &gateway, key);
    assert_eq!(refused["authorized"], false, "{refused}");
    writeln!(to_journey, "go").expect("the journey listens");

    let done = next("done");
    writeln!(to_journey, "go").expect("the journey listens");
    drop(to_journey);
    assert!(journey.wait().expect("the journey ends").success());
    let pictures = std::fs::read_dir(&shots).expect("screenshots").count();
    assert_eq!(pictures as u64, done["shots"].as_u64().unwrap(), "a screenshot of every page");
}
