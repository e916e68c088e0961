//! `ryd-host`: run this Spin application locally (see the README).
//!
//! ```text
//! ryd-host up [--build] [--dev] [--listen ADDR] [-f spin.toml] [--sqlite SQL|@file]
//! ryd-host build [-f spin.toml]
//! ryd-host token [--sub ID] [--role R]... [--scope "S ..."] [--client-id C] [--lifetime SECS]
//! ryd-host imports COMPONENT.wasm
//! ryd-host import [-f spin.toml] DUMP...         (a CKAN dump into .spin/sqlite_db.db)
//! ryd-host generate [--organisations N] [--datasets N] [--seed S] > dump.jsonl
//! ```

use anyhow::{bail, Context, Result};
use ryd_host::dev::{DevIdentity, TokenRequest};
use ryd_host::manifest::{resolve_variables, Manifest};
use ryd_host::{build, start, HostOptions};
use std::collections::BTreeMap;

fn usage() -> ! {
    eprintln!(
        "usage:\n  ryd-host up [--build] [--dev] [--listen ADDR] [-f spin.toml] [--sqlite SQL|@file]...\n  \
         ryd-host build [-f spin.toml]\n  \
         ryd-host token [-f spin.toml] [--sub ID] [--role ROLE]... [--scope \"S ...\"] [--client-id ID] [--lifetime SECONDS]\n  \
         ryd-host imports COMPONENT.wasm\n  \
         ryd-host import [-f spin.toml] DUMP.json[l]...\n  \
         ryd-host generate [--organisations N] [--datasets N] [--seed S]"
    );
    std::process::exit(2)
}

struct Args(Vec<String>);

impl Args {
    fn flag(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|a| a != name);
        self.0.len() != before
    }
    fn values(&mut self, names: &[&str]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.0.len() {
            if names.contains(&self.0[i].as_str()) {
                if i + 1 >= self.0.len() {
                    bail!("{} needs a value", self.0[i]);
                }
                out.push(self.0.remove(i + 1));
                self.0.remove(i);
            } else {
                i += 1;
            }
        }
        Ok(out)
    }
    fn value(&mut self, names: &[&str]) -> Result<Option<String>> {
        Ok(self.values(names)?.pop())
    }
    fn done(&self) -> Result<()> {
        if let Some(extra) = self.0.first() {
            bail!("unexpected argument `{extra}`");
        }
        Ok(())
    }
}

fn main() -> Result<()> {
    let mut argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() {
        usage();
    }
    let command = argv.remove(0);
    let mut args = Args(argv);
    let manifest_path = args.value(&["-f", "--file"])?.unwrap_or_else(|| "spin.toml".into());
    match command.as_str() {
        "up" => {
            let mut opts = HostOptions::new(&manifest_path);
            if args.flag("--build") {
                build::build(&Manifest::load(&opts.manifest)?)?;
            }
            opts.dev = args.flag("--dev");
            if let Some(l) = args.value(&["--listen"])? {
                opts.listen = l.parse().with_context(|| format!("--listen {l}"))?;
            }
            opts.sqlite = args.values(&["--sqlite"])?;
            args.done()?;
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
        "build" => {
            args.done()?;
            build::build(&Manifest::load(std::path::Path::new(&manifest_path))?)
        }
        "token" => {
            let manifest = Manifest::load(std::path::Path::new(&manifest_path))?;
            let opts = HostOptions::new(&manifest_path);
            let dev = DevIdentity::load_or_create(&opts.data_dir(&manifest))?;
            let mut t = TokenRequest::superadmin(&resolved_audience(std::path::Path::new(&manifest_path))?);
            t.roles = vec!["iati_register_your_data".into()];
            t.name = None;
            t.email = None;
            if let Some(s) = args.value(&["--sub"])? {
                t.sub = s;
            }
            let roles = args.values(&["--role"])?;
            if !roles.is_empty() {
                t.roles = roles;
            }
            if let Some(s) = args.value(&["--scope"])? {
                t.scope = s;
            }
            if let Some(c) = args.value(&["--client-id"])? {
                t.client_id = c;
            }
            if let Some(l) = args.value(&["--lifetime"])? {
                t.lifetime_seconds = l.parse().context("--lifetime")?;
            }
            t.name = args.value(&["--name"])?;
            t.email = args.value(&["--email"])?;
            if args.flag("--machine") {
                t.sub = t.client_id.clone();
                t.roles.clear();
            }
            args.done()?;
            println!("{}", dev.mint(&t)?);
            Ok(())
        }
        "imports" => {
            let path = args.0.first().cloned().unwrap_or_else(|| usage());
            for i in ryd_host::App::imports_of(&ryd_host::runtime::engine()?, std::path::Path::new(&path))? {
                println!("{i}");
            }
            Ok(())
        }
        "import" => {
            let manifest = Manifest::load(std::path::Path::new(&manifest_path))?;
            let dir = HostOptions::new(&manifest_path).data_dir(&manifest);
            std::fs::create_dir_all(&dir)?;
            let files = std::mem::take(&mut args.0);
            if files.is_empty() {
                usage();
            }
            let report = ryd_host::import::import_files(&dir.join("sqlite_db.db"), &files)?;
            print!("{report}");
            Ok(())
        }
        "generate" => {
            let orgs = args.value(&["--organisations"])?.map(|n| n.parse()).transpose()?.unwrap_or(1_600);
            let datasets = args.value(&["--datasets"])?.map(|n| n.parse()).transpose()?.unwrap_or(13_000);
            let seed = args.value(&["--seed"])?.map(|n| n.parse()).transpose()?.unwrap_or(1);
            args.done()?;
            let out = std::io::stdout();
            let mut out = std::io::BufWriter::new(out.lock());
            for record in ryd_ckan::synthetic::registry(orgs, datasets, seed) {
                use std::io::Write;
                writeln!(out, "{record}")?;
            }
            Ok(())
        }
        _ => usage(),
    }
}

/// The audience tokens must carry, as the running application resolves it.
fn resolved_audience(manifest: &std::path::Path) -> Result<String> {
    let m = Manifest::load(manifest)?;
    let mut overrides = BTreeMap::new();
    overrides.insert("oidc_issuer".to_string(), "unused".to_string());
    let vars = resolve_variables(&m.variables, &|k| std::env::var(k).ok(), &overrides)?;
    Ok(vars.get("oidc_audience").cloned().unwrap_or_default())
}
