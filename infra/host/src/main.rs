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

#[derive(Subcommand)]
enum Command {
    /// Serve the application (each request a fresh instance, as Spin does).
    #[command(after_help = "Example:\n  ryd-host up --build --dev        (what `cargo up` runs)")]
    Up {
        #[command(flatten)]
        manifest: ManifestArg,
        /// Build the components with spin.toml's build commands first.
        #[arg(long)]
        build: bool,
        /// A development identity: a signing key in .spin/, its JWKS as the issuer's, and a
        /// ready-to-paste curl with a superadmin's token.
        #[arg(long)]
        dev: bool,
        /// Where to listen.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
        listen: std::net::SocketAddr,
        /// SQL to run against the default database before serving (`@file` reads a file);
        /// repeatable.
        #[arg(long, value_name = "SQL|@FILE")]
        sqlite: Vec<String>,
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
        /// The dump files.
        #[arg(value_name = "DUMP", required = true)]
        files: Vec<PathBuf>,
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

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Up { manifest, build: with_build, dev, listen, sqlite } => {
            let mut opts = HostOptions::new(&manifest.file);
            if with_build {
                build::build(&Manifest::load(&opts.manifest)?)?;
            }
            opts.dev = dev;
            opts.listen = listen;
            opts.sqlite = sqlite;
            let host = start(&opts)?;
            println!("Serving http://{}", host.addr);
            println!("Available routes:");
            for r in Manifest::load(&opts.manifest)?.routes {
                println!("  {}: http://{}{}", r.component, host.addr, r.route);
            }
            if let Some(dev) = &host.dev {
                let audience = resolved_audience(&opts.manifest)?;
                let token = dev.mint(&TokenRequest::superadmin(&audience))?;
                println!("\nDevelopment identity (key in .spin/, never used without --dev). Try, as a superadmin:\n");
                println!("curl -H \"Authorization: Bearer {token}\" http://{}/api/v1/reporting-orgs\n", host.addr);
                println!("More tokens: cargo run -p ryd-host -- token --sub <uuid> --role iati_register_your_data");
            }
            host.wait();
            Ok(())
        }
        Command::Build { manifest } => build::build(&Manifest::load(&manifest.file)?),
        Command::Token { manifest, token: a } => {
            let m = Manifest::load(&manifest.file)?;
            let dev = DevIdentity::load_or_create(&HostOptions::new(&manifest.file).data_dir(&m))?;
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
        Command::Import { manifest, files } => {
            let m = Manifest::load(&manifest.file)?;
            let dir = HostOptions::new(&manifest.file).data_dir(&m);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let files: Vec<String> = files.iter().map(|f| f.to_string_lossy().into_owned()).collect();
            let report = ryd_host::import::import_files(&dir.join("sqlite_db.db"), &files)?;
            print!("{report}");
            Ok(())
        }
        Command::Generate { organisations, datasets, seed } => {
            let out = std::io::stdout();
            let mut out = std::io::BufWriter::new(out.lock());
            for record in ryd_ckan::synthetic::registry(organisations, datasets, seed) {
                use std::io::Write;
                writeln!(out, "{record}")?;
            }
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
