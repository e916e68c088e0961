//! The choices we accept are exactly the YAML's: IATI's Dashboard API, vendored in
//! `reference/` (and, when `../shared/ref` sits beside the repository, identical to it).

use serde_json::Value;

fn reference() -> Value {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let vendored = std::fs::read_to_string(here.join("reference/iati-dashboard-api.yaml")).unwrap();
    if let Ok(upstream) = std::fs::read_to_string(here.join("../../../shared/ref/iati-dashboard-api.yaml")) {
        assert_eq!(upstream, vendored, "shared/dashboard/reference is out of date with ../shared/ref");
    }
    serde_yaml::from_str(&vendored).unwrap()
}

fn choices(param: &str) -> Vec<String> {
    let doc = reference();
    let params = doc["paths"]["/api/reporting-orgs/"]["get"]["parameters"].as_array().unwrap().clone();
    let p = params.iter().find(|p| p["name"] == param).unwrap_or_else(|| panic!("{param} in the YAML"));
    p["schema"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

#[test]
fn country_filters_accept_exactly_the_yamls_enum() {
    for param in ["hq_country", "recipient_country_code"] {
        let yaml = choices(param);
        for code in &yaml {
            assert!(ryd_dashboard::is_country_choice(code), "{param}: {code} is a choice");
        }
        // Every two-letter upper-case code outside the enum is refused.
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let code = String::from_utf8(vec![a, b]).unwrap();
                assert_eq!(ryd_dashboard::is_country_choice(&code), yaml.contains(&code), "{param}: {code}");
            }
        }
    }
}

#[test]
fn file_type_accepts_exactly_the_yamls_enum() {
    let mut ours: Vec<String> = ryd_dashboard::FILE_TYPE_CHOICES.iter().map(|s| s.to_string()).collect();
    let mut yaml = choices("file_type");
    ours.sort();
    yaml.sort();
    assert_eq!(ours, yaml);
}
