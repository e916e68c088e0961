//! The deployment files, proven rather than on paper: every SpinKube `SpinApp` in
//! `infra/deploy/` is valid against spin-operator's own `SpinApp` schema (vendored in
//! `infra/deploy/schema/spin-operator/`, with its version and licence) as the Kubernetes
//! API server checks a custom resource, and agrees with `spin.toml`: the components it
//! runs and the variables it sets exist there, and its probes ask routes those components
//! serve.

use ryd_e2e::root;
use ryd_host::manifest::Manifest;
use ryd_host::router::Router;
use serde_json::{json, Value};
use std::path::PathBuf;

/// The `v1alpha1` schema of the vendored CRD, and its `group/version`.
fn spinapp_schema() -> (String, Value) {
    let path = root().join("infra/deploy/schema/spin-operator/core.spinkube.dev_spinapps.yaml");
    let crd: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).expect("the vendored CRD")).expect("YAML");
    assert_eq!(crd["spec"]["names"]["kind"], "SpinApp");
    let version = crd["spec"]["versions"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "v1alpha1"))
        .expect("the CRD serves v1alpha1");
    let group = crd["spec"]["group"].as_str().expect("a group");
    (format!("{group}/v1alpha1"), version["schema"]["openAPIV3Schema"].clone())
}

/// Every YAML document of `infra/deploy/*.yaml`, with its file.
fn deploy_documents() -> Vec<(PathBuf, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("infra/deploy"))
        .expect("infra/deploy")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a manifest");
        // YAML's document separator: a line `---`.
        for doc in text.split("\n---\n") {
            let value: Value = serde_yaml::from_str(doc).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if !value.is_null() {
                docs.push((file.clone(), value));
            }
        }
    }
    docs
}

/// What the API server refuses in a custom resource: a value of the wrong type, a
/// required field missing, a value outside its `enum`, an `int32` out of range, and a field
/// the schema does not know (`kubectl apply --validate=strict`; without it the server
/// drops such a field silently, which for a deployment file is the same mistake).
fn validate(schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if schema["x-kubernetes-int-or-string"] == true {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            errors.push(format!("{at}: an integer or a string, not {value}"));
        }
        return;
    }
    if let Some(any) = schema["anyOf"].as_array() {
        if !any.iter().any(|s| {
            let mut e = Vec::new();
            validate(s, value, at, &mut e);
            e.is_empty()
        }) {
            errors.push(format!("{at}: matches none of its schemas: {value}"));
            return;
        }
    }
    let ok = match schema["type"].as_str() {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !ok {
        errors.push(format!("{at}: a {}, not {value}", schema["type"]));
        return;
    }
    if schema["format"] == "int32" && value.as_i64().is_some_and(|n| i32::try_from(n).is_err()) {
        errors.push(format!("{at}: {value} is out of int32's range"));
    }
    if let Some(options) = schema["enum"].as_array() {
        if !options.contains(value) {
            errors.push(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                errors.push(format!("{at}: `{name}` is required"));
            }
        }
        let properties = schema["properties"].as_object();
        let open = schema["x-kubernetes-preserve-unknown-fields"] == true;
        for (key, v) in object {
            let at = format!("{at}.{key}");
            match (properties.and_then(|p| p.get(key)), schema.get("additionalProperties")) {
                (Some(s), _) => validate(s, v, &at, errors),
                (None, Some(s)) if s.is_object() => validate(s, v, &at, errors),
                (None, _) if properties.is_some() && !open => errors.push(format!("{at}: not a field of this object")),
                _ => {}
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, v) in list.iter().enumerate() {
            validate(items, v, &format!("{at}[{i}]"), errors);
        }
    }
}

/// A SpinApp's errors against the schema, its root fields and Kubernetes' naming rule.
fn spinapp_errors(api_version: &str, schema: &Value, app: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    if app["apiVersion"] != api_version {
        errors.push(format!("apiVersion {} is not {api_version}", app["apiVersion"]));
    }
    validate(schema, app, "", &mut errors);
    // metadata is an ObjectMeta: its name a DNS-1123 subdomain.
    let name = app["metadata"]["name"].as_str().unwrap_or("");
    let dns = !name.is_empty()
        && name.len() <= 253
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !dns {
        errors.push(format!("metadata.name {name:?} is not a DNS-1123 subdomain"));
    }
    errors
}

#[test]
fn every_spinapp_is_valid_against_spin_operators_schema_and_agrees_with_spin_toml() {
    let (api_version, schema) = spinapp_schema();
    let manifest = Manifest::load(&root().join("spin.toml")).expect("spin.toml");
    let apps: Vec<_> = deploy_documents().into_iter().filter(|(_, d)| d["kind"] == "SpinApp").collect();
    assert!(apps.len() >= 2, "the read and the write SpinApps: {apps:?}");
    let mut served = Vec::new();
    for (file, app) in &apps {
        let file = file.display();
        let errors = spinapp_errors(&api_version, &schema, app);
        assert!(errors.is_empty(), "{file}:\n  {}", errors.join("\n  "));
        let components: Vec<&str> =
            app["spec"]["components"].as_array().expect("components named").iter().filter_map(Value::as_str).collect();
        for c in &components {
            assert!(manifest.components.contains_key(*c), "{file}: component {c} is not in spin.toml");
        }
        for v in app["spec"]["variables"].as_array().into_iter().flatten() {
            let name = v["name"].as_str().unwrap_or("");
            assert!(manifest.variables.contains_key(name), "{file}: variable {name} is not in spin.toml");
        }
        // Its probes ask a route that one of its own components serves.
        let routes: Vec<_> = manifest.routes.iter().filter(|r| components.contains(&r.component.as_str())).collect();
        let router = Router::new(routes.iter().map(|r| r.route.as_str()));
        for probe in ["liveness", "readiness"] {
            let path = app["spec"]["checks"][probe]["httpGet"]["path"].as_str().expect("a probe path");
            assert!(
                router.route(path).is_some(),
                "{file}: the {probe} probe asks {path}, which its components do not serve"
            );
        }
        served.extend(components);
    }
    // Together they run every component once.
    served.sort();
    let mut all: Vec<&str> = manifest.components.keys().map(String::as_str).collect();
    all.sort();
    assert_eq!(served, all, "the SpinApps must run every component of spin.toml exactly once");
}

#[test]
fn the_schema_check_refuses_what_the_api_server_refuses() {
    let (api_version, schema) = spinapp_schema();
    let good = json!({"apiVersion": api_version, "kind": "SpinApp", "metadata": {"name": "ok"},
                      "spec": {"image": "ghcr.io/x/y:1", "executor": "containerd-shim-spin", "replicas": 2}});
    assert_eq!(spinapp_errors(&api_version, &schema, &good), Vec::<String>::new());
    let broken = |patch: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        patch(&mut v);
        spinapp_errors(&api_version, &schema, &v)
    };
    // What the errors must say, and the mistake that makes them.
    type Mistake<'a> = (&'a str, &'a dyn Fn(&mut Value));
    let cases: [Mistake; 6] = [
        ("not a field", &|v| v["spec"]["replica"] = json!(2)),
        ("a \"integer\"", &|v| v["spec"]["replicas"] = json!("two")),
        ("out of int32", &|v| v["spec"]["replicas"] = json!(1_u64 << 40)),
        ("is required", &|v| {
            v["spec"].as_object_mut().map(|s| s.remove("executor"));
        }),
        ("apiVersion", &|v| v["apiVersion"] = json!("core.spinkube.dev/v1")),
        ("DNS-1123", &|v| v["metadata"]["name"] = json!("Read_App")),
    ];
    for (why, patch) in cases {
        let errors = broken(patch);
        assert!(errors.iter().any(|e| e.contains(why)), "{why}: {errors:?}");
    }
}
