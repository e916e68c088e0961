//! The first minutes of a new user, through the real CLI as the README tells it: `up --dev`
//! on an empty state directory loads the sample registry, the printed curl answers with its
//! organisations, the printed admin command mints a token that sees the join request; a
//! restart keeps what is there; `--no-sample` starts empty.

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
        let mut child =
            ryd_host(&args).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("ryd-host up starts");
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
