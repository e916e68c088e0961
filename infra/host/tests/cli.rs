//! Every documented `ryd-host` command explains itself: `--help` exits 0 and names the
//! command's options (README, "The two commands"; shared/ckan/README.md, "Moving from the old registry").

use std::process::Command;

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ryd-host")).args(args).arg("--help").output().expect("ryd-host runs");
    assert!(out.status.success(), "ryd-host {args:?} --help exited {:?}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_command_has_help_naming_its_options() {
    let top = help(&[]);
    let commands: &[(&str, &[&str])] = &[
        ("up", &["--build", "--dev", "--no-sample", "--state-dir", "--listen", "--sqlite", "--file"]),
        ("build", &["--file"]),
        (
            "token",
            &[
                "--state-dir",
                "--sub",
                "--role",
                "--scope",
                "--client-id",
                "--lifetime",
                "--name",
                "--email",
                "--machine",
            ],
        ),
        ("imports", &["<COMPONENT_WASM>"]),
        ("import", &["--file", "--state-dir", "<DUMP>"]),
        ("generate", &["--organisations", "--datasets", "--seed"]),
        (
            "deliver",
            &[
                "--runtime-config-file",
                "--smtp",
                "RYD_SMTP_URL",
                "--from",
                "--once",
                "--poll",
                "--backoff",
                "--max-attempts",
                "--lease",
                "--batch",
            ],
        ),
    ];
    for (command, options) in commands {
        assert!(top.contains(command), "`ryd-host --help` does not list {command}:\n{top}");
        let text = help(&[command]);
        for option in *options {
            assert!(text.contains(option), "`ryd-host {command} --help` does not name {option}:\n{text}");
        }
        assert!(text.contains("Example"), "`ryd-host {command} --help` has no example:\n{text}");
    }
}

#[test]
fn a_bad_invocation_is_one_clear_line_and_not_a_file_named_help() {
    let out = Command::new(env!("CARGO_BIN_EXE_ryd-host")).args(["import"]).output().expect("ryd-host runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().next().is_some_and(|l| l.starts_with("error:")), "{err}");
    assert!(err.contains("<DUMP>"), "{err}");
}

#[test]
fn a_failing_command_says_why_in_one_line() {
    let dir = std::env::temp_dir().join(format!("ryd-host-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"a\":\n").unwrap();
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spin.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_ryd-host"))
        .args(["import", "-f", manifest, "--state-dir"])
        .arg(dir.join("state"))
        .arg(&bad)
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("ryd-host runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && err.contains("bad.json: neither JSON nor JSON lines"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn deliver_says_in_one_line_what_is_wrong_with_its_settings() {
    let dir = std::env::temp_dir().join(format!("ryd-deliver-cli-{}", std::process::id()));
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spin.toml");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ryd-host"))
            .args(["deliver", "-f", manifest, "--state-dir"])
            .arg(&dir)
            .args(args)
            .env_remove("RYD_SMTP_URL")
            .env_remove("RYD_MAIL_FROM")
            .output()
            .expect("ryd-host runs");
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    };
    let e = run(&["--smtp", "smtp://127.0.0.1:1", "--from", "not an address", "--once"]);
    assert!(e.starts_with("error: the sender \"not an address\""), "{e}");
    let e = run(&["--smtp", "ftp://relay", "--from", "a@example.org", "--once"]);
    assert!(e.starts_with("error: the SMTP URL"), "{e}");
    let e = run(&["--from", "a@example.org"]);
    assert!(e.contains("--smtp"), "{e}");
    let e = run(&["--smtp", "smtp://127.0.0.1:1", "--from", "a@example.org", "--once"]);
    assert!(e.starts_with("error: no database at"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
