// What it prints is what it is for.
#![allow(clippy::print_stdout)]
//! `ryd-host`: run this Spin application locally (see the README).
//!
//! `ryd-host --help` and `ryd-host <command> --help` say the rest (clap: one definition of
//! each command's options, their help and an example, instead of hand-written parsing).

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use ryd_host::dev::{DevIdentity, TokenRequest};
use ryd_host::manifest::{resolve_variables, Manifest};
use ryd_host::{build, start, HostOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs this Spin application locally (the project's Spin-compatible host), and the tools
/// around it: development tokens, CKAN imports, synthetic registries.
#[derive(Parser)]
#[command(name = "ryd-host", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The application manifest, for every subcommand that reads it.
#[derive(Args)]
struct ManifestArg {
    /// The application's manifest.
    #[arg(short = 'f', long = "file", value_name = "SPIN_TOML", default_value = "spin.toml")]
    file: PathBuf,
}

/// Where state lives, as `spin up --state-dir`.
#[derive(Args)]
struct StateArg {
    /// Where the databases, key-value stores and development keys live (default: .spin/
    /// beside the manifest).
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

impl StateArg {
    fn options(self, manifest: &Path) -> HostOptions {
        let mut opts = HostOptions::new(manifest);
        opts.data_dir = self.state_dir;
        opts
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the application (each request a fresh instance, as Spin does).
    #[command(
        after_help = "Examples:\n  ryd-host up --build --dev              (what `cargo up` runs)\n  ryd-host up --dev --no-sample          (an empty registry)\n  ryd-host up --listen 0.0.0.0:8080      (a real Identity Service: SPIN_VARIABLE_OIDC_ISSUER=…)"
    )]
    Up {
        #[command(flatten)]
        manifest: ManifestArg,
        #[command(flatten)]
        state: StateArg,
        /// Build the components with spin.toml's build commands first.
        #[arg(long)]
        build: bool,
        /// A development identity: a signing key in .spin/, its JWKS as the issuer's, and a
        /// ready-to-paste curl with a superadmin's token.
        #[arg(long)]
        dev: bool,
        /// With --dev, do not load the sample registry into an empty database.
        #[arg(long, requires = "dev")]
        no_sample: bool,
        /// Where to listen.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
        listen: std::net::SocketAddr,
        /// SQL to run against the default database before serving (`@file` reads a file);
        /// repeatable.
        #[arg(long, value_name = "SQL|@FILE")]
        sqlite: Vec<String>,
        /// Spin's runtime configuration: `[sqlite_database.<label>]` (type "spin" with `path`,
        /// or "libsql" with `url` and `token`) and `[key_value_store.<label>]` (type "spin"
        /// with `path`, or "redis" with `url`). See infra/deploy/.
        #[arg(long, value_name = "FILE")]
        runtime_config_file: Option<PathBuf>,
        /// Serve only this component and its routes (repeatable), as Spin's selective
        /// deployment.
        #[arg(long = "component-id", value_name = "ID")]
        component_ids: Vec<String>,
        /// An environment variable for every component (repeatable), as `spin up --env`:
        /// e.g. `RYD_PUBLIC_MAX_AGE=300` (infra/README.md, "A shared cache").
        #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = key_value)]
        env: Vec<(String, String)>,
    },
    /// Build the components with spin.toml's build commands.
    #[command(after_help = "Example:\n  ryd-host build -f spin.toml")]
    Build {
        #[command(flatten)]
        manifest: ManifestArg,
    },
    /// Mint a token with the development key (for `up --dev`).
    #[command(
        after_help = "Examples:\n  ryd-host token --sub 00000000-0000-4000-8000-000000000002 --role iati_register_your_data\n  ryd-host token --client-id my-tool --machine --scope \"ryd ryd:dataset\""
    )]
    Token {
        #[command(flatten)]
        manifest: ManifestArg,
        #[command(flatten)]
        state: StateArg,
        #[command(flatten)]
        token: TokenArgs,
    },
    /// List the interfaces a component imports.
    #[command(after_help = "Example:\n  ryd-host imports target/wasm32-wasip2/release/datasets.wasm")]
    Imports {
        /// The component's .wasm file.
        #[arg(value_name = "COMPONENT_WASM")]
        component: PathBuf,
    },
    /// Load CKAN dumps (`ckanapi dump` JSON lines, or saved package_search /
    /// organization_list answers) into the application's database; re-running updates.
    #[command(after_help = "Example:\n  ryd-host import registry-dump.jsonl organizations.json")]
    Import {
        #[command(flatten)]
        manifest: ManifestArg,
        #[command(flatten)]
        state: StateArg,
        /// The dump files.
        #[arg(value_name = "DUMP", required = true)]
        files: Vec<PathBuf>,
    },
    /// Send the outbox's emails over SMTP: the messages every change that must reach someone
    /// wrote (join requests, approvals, role changes). Any number may run on one database.
    #[command(
        after_help = "Examples:\n  ryd-host deliver --smtp smtp://127.0.0.1:1025 --from 'IATI Registry <no-reply@example.org>' --once\n  RYD_SMTP_URL='smtp://user:secret@relay.example.org:587?tls=required' ryd-host deliver --runtime-config-file runtime-config.toml --from no-reply@example.org"
    )]
    Deliver {
        #[command(flatten)]
        manifest: ManifestArg,
        #[command(flatten)]
        state: StateArg,
        /// The runtime configuration the application runs with (its default database).
        #[arg(long, value_name = "FILE")]
        runtime_config_file: Option<PathBuf>,
        /// The SMTP relay: smtp://user:pass@host:587?tls=required (STARTTLS),
        /// smtps://user:pass@host:465 (TLS), or smtp://host:port (unencrypted: a relay on
        /// this machine or a test server only).
        #[arg(long, env = "RYD_SMTP_URL", value_name = "URL", hide_env_values = true)]
        smtp: String,
        /// The sender, `Name <address>` or an address.
        #[arg(long, env = "RYD_MAIL_FROM", value_name = "MAILBOX")]
        from: String,
        /// Drain what is due now, then exit (a scheduler's job, e.g. a Kubernetes CronJob).
        #[arg(long)]
        once: bool,
        /// Between passes, when not --once.
        #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = ryd_host::deliver::parse_duration)]
        poll: std::time::Duration,
        /// The first retry's delay; each later one doubles, up to an hour.
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = ryd_host::deliver::parse_duration)]
        backoff: std::time::Duration,
        /// Attempts before a message is given up (its reason kept for operators).
        #[arg(long, value_name = "N", default_value_t = 10)]
        max_attempts: i64,
        /// How long a claim holds its messages from other workers.
        #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = ryd_host::deliver::parse_duration)]
        lease: std::time::Duration,
        /// Messages claimed at once.
        #[arg(long, value_name = "N", default_value_t = 20)]
        batch: i64,
    },
    /// Write a realistic synthetic registry as `ckanapi dump` JSON lines to standard output.
    #[command(after_help = "Example:\n  ryd-host generate --organisations 1600 --datasets 13000 > dump.jsonl")]
    Generate {
        /// How many organisations.
        #[arg(long, value_name = "N", default_value_t = 1_600)]
        organisations: u64,
        /// How many datasets.
        #[arg(long, value_name = "N", default_value_t = 13_000)]
        datasets: u64,
        /// The random seed (the same seed writes the same registry).
        #[arg(long, value_name = "S", default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Args)]
struct TokenArgs {
    /// The subject (a user's id, or a client's for --machine).
    #[arg(long, value_name = "ID")]
    sub: Option<String>,
    /// A role; repeatable (default: iati_register_your_data).
    #[arg(long, value_name = "ROLE")]
    role: Vec<String>,
    /// Space-separated scopes (default: every ryd scope).
    #[arg(long, value_name = "SCOPES")]
    scope: Option<String>,
    /// The client application's id.
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// Seconds until it expires.
    #[arg(long, value_name = "SECONDS")]
    lifetime: Option<i64>,
    /// The user's name claim.
    #[arg(long)]
    name: Option<String>,
    /// The user's email claim.
    #[arg(long)]
    email: Option<String>,
    /// A machine token (client credentials): its subject is the client id, no roles.
    #[arg(long)]
    machine: bool,
}

/// Errors as one line, `error: what: why`, as clap's own (a backtrace helps nobody running
/// a command; `RUST_BACKTRACE` is for panics).
fn main() -> std::process::ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Up {
            manifest,
            state,
            build: with_build,
            dev,
            no_sample,
            listen,
            sqlite,
            runtime_config_file,
            component_ids,
            env,
        } => {
            let mut opts = state.options(&manifest.file);
            let m = Manifest::load(&opts.manifest)?;
            if with_build {
                build::build(&m)?;
            }
            opts.dev = dev;
            opts.listen = listen;
            opts.sqlite = sqlite;
            opts.sample = !no_sample;
            opts.runtime_config = runtime_config_file;
            opts.components = component_ids;
            opts.guest_env = env;
            let host = start(&opts)?;
            println!("Serving http://{}", host.addr);
            println!("Available routes:");
            let served = |c: &str| opts.components.is_empty() || opts.components.iter().any(|o| o == c);
            for r in m.routes.iter().filter(|r| served(&r.component)) {
                println!("  {}: http://{}{}", r.component, host.addr, r.route);
            }
            if let Some(dev) = &host.dev {
                let audience = resolved_audience(&opts.manifest)?;
                let token = dev.mint(&TokenRequest::superadmin(&audience))?;
                if let Some(s) = &host.sample {
                    println!(
                        "\nLoaded a sample registry into the empty database: {} organisations, {} datasets; {} has \
                         an admin, an editor and a pending join request (--no-sample to start empty).",
                        s.report.organisations, s.report.datasets, s.organisation.1
                    );
                }
                let data = opts.data_dir(&m);
                println!(
                    "\nDevelopment identity (key in {}, its Identity Service at http://{}{}; never without --dev). \
                     Try, as a superadmin:\n",
                    data.display(),
                    host.addr,
                    ryd_host::dev_idp::PATH
                );
                println!("curl -H \"Authorization: Bearer {token}\" http://{}/api/v1/reporting-orgs\n", host.addr);
                if ryd_host::sample::admin_present(&data.join("sqlite_db.db")) {
                    let (admin, name, email, _) = ryd_host::sample::MEMBERS[0];
                    let state = match &opts.data_dir {
                        Some(d) => format!(" --state-dir {}", d.display()),
                        None => String::new(),
                    };
                    println!(
                        "As the sample organisation's admin: cargo run --release -p ryd-host -- token{state} --sub {admin} --name '{name}' --email {email}"
                    );
                }
                println!(
                    "IATI Account, the console: http://{}/account (sign in at the development Identity Service as \
                     the development superadmin, Ada Admin, Eddie Editor or Jo Applicant)",
                    host.addr
                );
                println!(
                    "Other users: cargo run --release -p ryd-host -- token --sub <uuid> --role iati_register_your_data"
                );
            }
            host.wait();
            Ok(())
        }
        Command::Build { manifest } => build::build(&Manifest::load(&manifest.file)?),
        Command::Token { manifest, state, token: a } => {
            let m = Manifest::load(&manifest.file)?;
            let dev = DevIdentity::load_or_create(&state.options(&manifest.file).data_dir(&m))?;
            let mut t = TokenRequest::superadmin(&resolved_audience(&manifest.file)?);
            t.roles = vec!["iati_register_your_data".into()];
            t.name = a.name;
            t.email = a.email;
            if let Some(s) = a.sub {
                t.sub = s;
            }
            if !a.role.is_empty() {
                t.roles = a.role;
            }
            if let Some(s) = a.scope {
                t.scope = s;
            }
            if let Some(c) = a.client_id {
                t.client_id = c;
            }
            if let Some(l) = a.lifetime {
                t.lifetime_seconds = l;
            }
            if a.machine {
                t.sub = t.client_id.clone();
                t.roles.clear();
            }
            println!("{}", dev.mint(&t)?);
            Ok(())
        }
        Command::Imports { component } => {
            for i in ryd_host::App::imports_of(&ryd_host::runtime::engine()?, &component)? {
                println!("{i}");
            }
            Ok(())
        }
        Command::Import { manifest, state, files } => {
            let m = Manifest::load(&manifest.file)?;
            let dir = state.options(&manifest.file).data_dir(&m);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let files: Vec<String> = files.iter().map(|f| f.to_string_lossy().into_owned()).collect();
            let report = ryd_host::import::import_files(&dir.join("sqlite_db.db"), &files)?;
            print!("{report}");
            Ok(())
        }
        Command::Deliver {
            manifest,
            state,
            runtime_config_file,
            smtp,
            from,
            once,
            poll,
            backoff,
            max_attempts,
            lease,
            batch,
        } => {
            use ryd_host::deliver;
            let m = Manifest::load(&manifest.file)?;
            let dir = state.options(&manifest.file).data_dir(&m);
            let config = match &runtime_config_file {
                Some(f) => ryd_host::runtime_config::RuntimeConfig::load(f, &dir)?,
                None => ryd_host::runtime_config::RuntimeConfig::defaults(&dir),
            };
            // The settings first: a mistake there is said before anything is opened.
            let mailer = deliver::Smtp::new(&smtp, &from)?;
            let sql = deliver::open_default(&config)?;
            let options = deliver::Options { backoff, max_attempts, lease, batch, ..deliver::Options::default() };
            if once {
                let pass = deliver::drain(sql.as_ref(), &mailer, &options)?;
                println!("sent {}, retrying {}, given up {}", pass.sent, pass.retrying, pass.given_up);
                return Ok(());
            }
            deliver::run(sql.as_ref(), &mailer, &options, poll, &|| false)
        }
        Command::Generate { organisations, datasets, seed } => {
            use std::io::Write;
            let out = std::io::stdout();
            let mut out = std::io::BufWriter::new(out.lock());
            // On stderr, and only when that is a terminal: stdout is the dump.
            let progress = indicatif::ProgressBar::new(organisations + datasets).with_style(
                indicatif::ProgressStyle::with_template("{bar:40} {human_pos}/{human_len} records ({eta} left)")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            for record in progress.wrap_iter(ryd_ckan::synthetic::registry(organisations, datasets, seed)) {
                writeln!(out, "{record}")?;
            }
            out.flush()?;
            progress.finish_and_clear();
            Ok(())
        }
    }
}

/// The audience tokens must carry, as the running application resolves it.
fn resolved_audience(manifest: &Path) -> Result<String> {
    let m = Manifest::load(manifest)?;
    let mut overrides = BTreeMap::new();
    overrides.insert("oidc_issuer".to_string(), "unused".to_string());
    let vars = resolve_variables(&m.variables, &|k| std::env::var(k).ok(), &overrides)?;
    Ok(vars.get("oidc_audience").cloned().unwrap_or_default())
}

/// `KEY=VALUE`, as `spin up --env` takes it.
fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{s:?} is not KEY=VALUE")),
    }
}
