//! The first minutes of a new user, through the real CLI as the README tells it: `up --dev`
//! on an empty state directory loads the sample registry, the printed curl answers with its
//! organisations, the printed admin command mints a token that sees the join request; a
//! restart keeps what is there; `--no-sample` starts empty; and `cargo up` itself, with
//! IATI Account signed in to through the development Identity Service in Chromium.

use ryd_e2e::*;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `cargo run --release -p ryd-host -- …`, as the README writes it.
fn ryd_host(args: &[&str]) -> Command {
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--quiet", "-p", "ryd-host", "--"]).args(args);
    // A developer's own configuration must not leak in: this is a fresh user's first run.
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("SPIN_VARIABLE_")) {
        cmd.env_remove(k);
    }
    cmd
}

/// `up --dev` on `state`, stopped on drop, with what it printed before serving.
struct Up {
    child: Child,
    lines: Vec<String>,
}

impl Up {
    fn start(state: &Path, extra: &[&str]) -> Self {
        built(&app_manifest());
        let state = state.to_str().expect("a UTF-8 path");
        let mut args = vec!["up", "--dev", "--state-dir", state, "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        Up::spawn(ryd_host(&args))
    }

    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("up starts");
        let mut lines = Vec::new();
        let mut out = BufReader::new(child.stdout.take().expect("its stdout"));
        loop {
            let mut line = String::new();
            if out.read_line(&mut line).expect("reading its output") == 0 {
                panic!("up ended before printing its curl:\n{}", lines.join(""));
            }
            let done = line.starts_with("Other users:");
            lines.push(line);
            if done {
                break;
            }
        }
        Up { child, lines }
    }

    fn printed(&self, start: &str) -> Option<&str> {
        self.lines.iter().find(|l| l.starts_with(start)).map(|l| l.trim_end())
    }

    /// Runs the printed curl: its bearer token and its URL.
    fn curl(&self) -> (Client, String, String) {
        let line = self.printed("curl ").expect("a curl line");
        let token = line.split("Bearer ").nth(1).and_then(|t| t.split('"').next()).expect("a token").to_string();
        let url = line.rsplit(' ').next().expect("a URL");
        let (base, path) = url.split_at(url.find("/api/").expect("an API path"));
        (Client::at(base), path.to_string(), token)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn data(body: &Value) -> Vec<Value> {
    body["data"].as_array().cloned().unwrap_or_default()
}

#[test]
fn up_dev_on_an_empty_state_serves_the_sample_registry_and_keeps_what_is_there() {
    let state = data_dir("first-run");
    let up = Up::start(&state, &[]);
    assert!(up.printed("Loaded a sample registry").is_some(), "{}", up.lines.join(""));
    let (client, path, token) = up.curl();
    let orgs = data(&client.send("GET", &path, Some(&token), &[], None).expect(200));
    assert_eq!(orgs.len() as u64, ryd_host::sample::ORGANISATIONS, "the superadmin sees every organisation");
    let datasets: i64 = orgs.iter().map(|o| o["metadata"]["number_of_published_datasets"].as_i64().unwrap()).sum();
    assert!(datasets > 0, "the organisations publish datasets");

    // The admin command it printed, run as printed: their organisation and its join request.
    let admin_line = up.printed("As the sample organisation's admin: ").expect("the admin's command");
    let command = admin_line.split("-- ").nth(1).expect("the ryd-host arguments");
    let args = shell_words(command);
    let out = ryd_host(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().expect("token runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let admin = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let own = data(&client.send("GET", "/api/v1/reporting-orgs", Some(&admin), &[], None).expect(200));
    assert_eq!(own.len(), 1, "the admin sees their own organisation only");
    assert_eq!(own[0]["user_role"], "admin");
    let oid = own[0]["id"].as_str().unwrap();
    let members =
        data(&client.send("GET", &format!("/api/v1/reporting-orgs/{oid}/users"), Some(&admin), &[], None).expect(200));
    let roles: Vec<&str> = members.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles.iter().filter(|r| **r == "contributor_pending").count(), 1, "{roles:?}");
    assert!(members.iter().any(|m| m["name"] == "Ada Admin"), "the printed command keeps the admin's name");

    // What the developer changes stays: a restart loads nothing over it.
    client.send(
        "DELETE",
        &format!("/api/v1/reporting-orgs/{}", orgs[0]["id"].as_str().unwrap()),
        Some(&token),
        &[],
        None,
    );
    let before = data(&client.send("GET", &path, Some(&token), &[], None).expect(200)).len();
    drop(up);
    let again = Up::start(&state, &[]);
    assert!(again.printed("Loaded a sample registry").is_none(), "{}", again.lines.join(""));
    let (client, path, token) = again.curl();
    assert_eq!(data(&client.send("GET", &path, Some(&token), &[], None).expect(200)).len(), before);
}

#[test]
fn no_sample_starts_empty() {
    let state = data_dir("first-run-empty");
    let up = Up::start(&state, &["--no-sample"]);
    assert!(up.printed("Loaded a sample registry").is_none());
    assert!(up.printed("As the sample organisation's admin").is_none(), "no sample admin to offer");
    let (client, path, token) = up.curl();
    assert_eq!(data(&client.send("GET", &path, Some(&token), &[], None).expect(200)).len(), 0);
}

/// `cargo up` itself (the alias, its checks, the components' builds, then the host), on
/// `state` and an ephemeral port, with what it printed before serving.
fn cargo_up(state: &Path) -> Up {
    built(&app_manifest());
    let mut cmd = cargo();
    cmd.args(["up", "--state-dir", state.to_str().expect("a UTF-8 path"), "--listen", "127.0.0.1:0"]);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("SPIN_VARIABLE_")) {
        cmd.env_remove(k);
    }
    Up::spawn(cmd)
}

/// The console's first run as the README gives it: `cargo up`, then in Chromium Ada Admin
/// signs in at the development Identity Service, sees the sample organisation and Jo
/// Applicant's request, approves it and signs out there (`tests/browser/first_run.mjs`).
#[test]
fn cargo_up_then_ada_signs_in_to_the_console_approves_jo_and_signs_out() {
    let chromium = chromium();
    browser_packages();
    let state = data_dir("first-run-console");
    let up = cargo_up(&state);
    let console = up.printed("IATI Account, the console: ").expect("the console's URL is printed");
    let site = console.split(' ').nth(4).and_then(|u| u.strip_suffix("/account")).expect("its URL").to_string();
    let loaded = up.printed("Loaded a sample registry").expect("the sample was loaded");
    let org = loaded.split("; ").nth(1).and_then(|t| t.split(' ').next()).expect("the sample organisation").to_string();
    let shots = root().join("target/first-run-console");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).expect("a screenshot directory");
    let out = Command::new("node")
        .arg(root().join("tests/browser/first_run.mjs"))
        .env("SITE", &site)
        .env("ORG", &org)
        .env("SHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the first run failed (screenshots in {}):\n{}{}",
        shots.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Jo is a contributor now, as the API says to the admin's own token.
    let (client, _, token) = up.curl();
    let orgs = data(&client.send("GET", "/api/v1/reporting-orgs", Some(&token), &[], None).expect(200));
    let oid = orgs.iter().find(|o| o["metadata"]["short_name"] == org.as_str()).expect("the organisation")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let members =
        data(&client.send("GET", &format!("/api/v1/reporting-orgs/{oid}/users"), Some(&token), &[], None).expect(200));
    let jo = members.iter().find(|m| m["name"] == "Jo Applicant").expect("Jo");
    assert_eq!(jo["role"], "contributor", "{members:?}");
}

/// Splits a printed command line as a shell would (single quotes only: what `up` prints).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}
