//! `spin.toml`, manifest version 2: the parts a Spin HTTP application uses.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
struct RawManifest {
    spin_manifest_version: u32,
    application: Application,
    #[serde(default)]
    variables: BTreeMap<String, VariableDef>,
    #[serde(default)]
    trigger: Triggers,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Application {
    pub name: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDef {
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Default, Deserialize)]
struct Triggers {
    #[serde(default)]
    http: Vec<HttpTrigger>,
}

#[derive(Debug, Deserialize)]
struct HttpTrigger {
    route: String,
    component: String,
}

#[derive(Debug, Deserialize)]
struct RawComponent {
    source: String,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    /// The component's WASI environment.
    #[serde(default)]
    environment: BTreeMap<String, String>,
    build: Option<Build>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Build {
    pub command: String,
    pub workdir: Option<String>,
    #[serde(default)]
    pub watch: Vec<String>,
}

/// One component, as the host runs it.
#[derive(Debug, Clone)]
pub struct Component {
    pub id: String,
    pub source: PathBuf,
    pub sqlite_databases: Vec<String>,
    pub key_value_stores: Vec<String>,
    /// Templates, expanded against the application variables when the host starts.
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variable name → template (`"{{ oidc_issuer }}"`).
    pub variables: BTreeMap<String, String>,
    /// The WASI environment its instances start with (`environment`; `up --env` adds to it
    /// and overrides it, as `spin up --env` does).
    pub environment: BTreeMap<String, String>,
    pub build: Option<Build>,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub route: String,
    pub component: String,
}

#[derive(Debug, Clone)]
pub struct Manifest {
    pub dir: PathBuf,
    pub application: Application,
    pub variables: BTreeMap<String, VariableDef>,
    pub routes: Vec<Route>,
    pub components: BTreeMap<String, Component>,
}

/// Spin's rule for variable names: lower-case letters, digits and `_`, starting with a letter.
pub fn valid_variable_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl Manifest {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
        Self::parse(&text, &dir).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str, dir: &Path) -> Result<Self> {
        let raw: RawManifest = toml::from_str(text).context("spin.toml is not a valid manifest")?;
        if raw.spin_manifest_version != 2 {
            bail!("spin_manifest_version {} is not supported (only 2)", raw.spin_manifest_version);
        }
        for (name, def) in &raw.variables {
            if !valid_variable_name(name) {
                bail!("variable name `{name}` must be lower-case letters, digits and _");
            }
            if def.required && def.default.is_some() {
                bail!("variable `{name}` cannot be both required and have a default");
            }
        }
        let mut components = BTreeMap::new();
        for (id, c) in raw.component {
            for (name, template) in &c.variables {
                if !valid_variable_name(name) {
                    bail!("component `{id}`: variable name `{name}` is invalid");
                }
                for referenced in template_references(template)? {
                    if !raw.variables.contains_key(&referenced) {
                        bail!("component `{id}`: variable `{name}` refers to undefined application variable `{referenced}`");
                    }
                }
            }
            components.insert(
                id.clone(),
                Component {
                    source: dir.join(&c.source),
                    id,
                    sqlite_databases: c.sqlite_databases,
                    key_value_stores: c.key_value_stores,
                    allowed_outbound_hosts: c.allowed_outbound_hosts,
                    variables: c.variables,
                    environment: c.environment,
                    build: c.build,
                },
            );
        }
        let mut routes = Vec::new();
        for t in raw.trigger.http {
            if !components.contains_key(&t.component) {
                bail!("route `{}` names unknown component `{}`", t.route, t.component);
            }
            routes.push(Route { route: t.route, component: t.component });
        }
        Ok(Manifest {
            dir: dir.to_path_buf(),
            application: raw.application,
            variables: raw.variables,
            routes,
            components,
        })
    }
}

/// The application variables a template refers to.
pub fn template_references(template: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").with_context(|| format!("unclosed `{{{{` in `{template}`"))?;
        out.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    Ok(out)
}

/// Expands `{{ name }}` against resolved application variables.
pub fn expand(template: &str, values: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").with_context(|| format!("unclosed `{{{{` in `{template}`"))?;
        let name = after[..end].trim();
        let value = values.get(name).with_context(|| format!("variable `{name}` has no value"))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Application variable values: `SPIN_VARIABLE_<NAME>` from `env` wins, then `overrides`
/// (the development defaults of `up --dev`), then the manifest default. A required
/// variable without a value is an error.
pub fn resolve_variables(
    defs: &BTreeMap<String, VariableDef>,
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (name, def) in defs {
        let env_name = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
        let value = env(&env_name).or_else(|| overrides.get(name).cloned()).or_else(|| def.default.clone());
        match value {
            Some(v) => {
                out.insert(name.clone(), v);
            }
            None if def.required => bail!("variable `{name}` is required: set {env_name}"),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
host = { default = "https://a.example" }
token = { required = true }
[[trigger.http]]
route = "/..."
component = "c"
[component.c]
source = "c.wasm"
allowed_outbound_hosts = ["{{ host }}"]
environment = { RYD_PUBLIC_MAX_AGE = "300" }
[component.c.variables]
greeting = "hello {{ host }}"
"#;

    #[test]
    fn parses_and_resolves_with_env_first() {
        let m = Manifest::parse(M, Path::new("/app")).unwrap();
        assert_eq!(m.components["c"].source, PathBuf::from("/app/c.wasm"));
        let err = resolve_variables(&m.variables, &|_| None, &BTreeMap::new()).unwrap_err();
        assert!(err.to_string().contains("SPIN_VARIABLE_TOKEN"));
        let overrides =
            BTreeMap::from([("host".to_string(), "https://dev".to_string()), ("token".to_string(), "d".to_string())]);
        let env = |k: &str| (k == "SPIN_VARIABLE_HOST").then(|| "https://env".to_string());
        let vals = resolve_variables(&m.variables, &env, &overrides).unwrap();
        assert_eq!(vals["host"], "https://env");
        assert_eq!(vals["token"], "d");
        assert_eq!(expand(&m.components["c"].variables["greeting"], &vals).unwrap(), "hello https://env");
        assert_eq!(m.components["c"].environment["RYD_PUBLIC_MAX_AGE"], "300");
    }

    #[test]
    fn refuses_bad_manifests() {
        assert!(Manifest::parse(&M.replace("{{ host }}\"\n", "{{ nope }}\"\n"), Path::new(".")).is_err());
        assert!(Manifest::parse(&M.replace("spin_manifest_version = 2", "spin_manifest_version = 1"), Path::new("."))
            .is_err());
        assert!(Manifest::parse(&M.replace("component = \"c\"", "component = \"x\""), Path::new(".")).is_err());
    }
}
