//! The shape of the code: within every crate no module reaches, through its imports, back
//! to itself (a circle of imports makes every file in it depend on every other), and
//! between crates the dependencies point one way: the API knows nothing of IATI Account,
//! and the rules and the store know nothing of the API.
//!
//! Modules are files; an edge is a `crate::…` or `super::…` path outside comments and
//! `#[cfg(test)]` code. A crate root's `mod` and `pub use` lines are its table of contents,
//! not edges: a path to a name the root re-exports leads to the module it comes from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every crate of the workspace with a `src/lib.rs`.
fn crates() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for group in ["shared", "infra", "components"] {
        for entry in std::fs::read_dir(root().join(group)).unwrap() {
            let dir = entry.unwrap().path();
            if dir.join("src/lib.rs").is_file() {
                found.push(dir);
            }
        }
    }
    found.sort();
    assert!(found.len() > 10, "the crates were not found under {}", root().display());
    found
}

/// The code of a file without comments, string contents and `#[cfg(test)]` items.
fn code(text: &str) -> String {
    let mut out = String::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if text[i..].starts_with("#[cfg(test)]") {
            // The test module or item: up to its matching brace (or `;`).
            let mut depth = 0;
            while i < b.len() {
                match b[i] {
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            i += 1;
                            break;
                        }
                    }
                    b';' if depth == 0 => {
                        i += 1;
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
        } else if text[i..].starts_with("//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            // A char literal with an escape: `'\''`, `'\\'`, `'\u{..}'`.
            i += 3 + text[i + 3..].find('\'').map_or(b.len(), |e| e + 1);
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            i += 3;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if text[i..].starts_with("r#\"") {
            let end = text[i + 3..].find("\"#").map_or(b.len(), |e| i + 3 + e + 2);
            i = end;
            out.push_str("\"\"");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// The module a file is (`lib`, `routes`, `handlers`, `handlers::orgs`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    match parts.as_slice() {
        [one] if one == "lib" => "lib".into(),
        [.., last] if last == "mod" => parts[..parts.len() - 1].join("::"),
        _ => parts.join("::"),
    }
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The paths after each `prefix` in `code`, with `use` groups (`{a, b::c}`) expanded.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        expand(rest, Vec::new(), &mut found);
    }
    found
}

/// Reads one path (or a `{…}` group of them) at the start of `s`, each after `base`.
fn expand(s: &str, base: Vec<String>, found: &mut Vec<Vec<String>>) {
    let s = s.trim_start();
    if let Some(group) = s.strip_prefix('{') {
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(&group[start..i], base.clone(), found);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&group[start..i], base.clone(), found);
                    start = i + 1;
                }
                _ => {}
            }
        }
        return;
    }
    let name: String = s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    if name.is_empty() || name == "self" {
        if !base.is_empty() {
            found.push(base);
        }
        return;
    }
    let mut path = base;
    path.push(name.clone());
    match s[name.len()..].strip_prefix("::") {
        Some(more) => expand(more, path, found),
        None => found.push(path),
    }
}

/// How often `name::` begins a path in `code` (not after `::`, nor inside a longer name).
fn relative_mentions(code: &str, name: &str) -> usize {
    let needle = format!("{name}::");
    code.match_indices(&needle)
        .filter(|(at, _)| !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':'))
        .count()
}

/// Each module of the crate at `dir` and the modules its code names.
fn imports(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = dir.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeMap<String, String> =
        files.iter().map(|f| (module_of(&src, f), code(&std::fs::read_to_string(f).unwrap()))).collect();
    // The root's re-exports: name → the module it comes from (`None`: another crate's).
    let mut reexports: BTreeMap<String, Option<String>> = BTreeMap::new();
    for line in modules["lib"].lines().map(str::trim) {
        let Some(used) = line.strip_prefix("pub use ") else { continue };
        let (used, alias) = match used.trim_end_matches(';').split_once(" as ") {
            Some((path, alias)) => (path, Some(alias.trim().to_string())),
            None => (used, None),
        };
        let mut paths = Vec::new();
        expand(used, Vec::new(), &mut paths);
        for path in paths {
            if let (Some(first), Some(last)) = (path.first(), path.last()) {
                let name = alias.clone().unwrap_or_else(|| last.clone());
                reexports.insert(name, modules.contains_key(first).then(|| first.clone()));
            }
        }
    }
    let resolve = |path: &[String]| -> Option<String> {
        // The longest module the path names, else the root's re-export, else the root.
        for n in (1..=path.len()).rev() {
            let m = path[..n].join("::");
            if modules.contains_key(&m) {
                return Some(m);
            }
        }
        match path.first() {
            Some(first) => match reexports.get(first) {
                Some(from) => from.clone(),
                None => Some("lib".into()),
            },
            None => None,
        }
    };
    let mut graph = BTreeMap::new();
    for (module, text) in &modules {
        let text: String = if module == "lib" {
            // The root's table of contents is not an import.
            text.lines()
                .filter(|l| {
                    let l = l.trim();
                    !(l.starts_with("pub use ") || l.starts_with("mod ") || l.starts_with("pub mod "))
                })
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            text.clone()
        };
        let parent: Vec<String> = match module.rsplit_once("::") {
            Some((p, _)) => p.split("::").map(String::from).collect(),
            None => Vec::new(),
        };
        let mut to = BTreeSet::new();
        for path in paths_after(&text, "crate::") {
            to.extend(resolve(&path));
        }
        for path in paths_after(&text, "super::") {
            let full: Vec<String> = parent.iter().cloned().chain(path).collect();
            if parent.is_empty() {
                to.extend(resolve(&full));
            } else {
                to.extend(resolve(&full).or(Some(parent.join("::"))));
            }
        }
        // A path relative to this module: one of its child modules by name (in the root,
        // `auth::authenticate`).
        let prefix = if module == "lib" { String::new() } else { format!("{module}::") };
        for child in modules.keys() {
            let Some(name) = child.strip_prefix(&prefix).filter(|n| !n.is_empty() && !n.contains("::")) else {
                continue;
            };
            if child != "lib" && relative_mentions(&text, name) > 0 {
                to.insert(child.clone());
            }
        }
        to.remove(module);
        graph.insert(module.clone(), to);
    }
    graph
}

/// The circles of `graph` (its strongly connected components of more than one module).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Two modules are in one circle when each reaches the other.
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(m) = todo.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> = graph.keys().map(|m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut found = Vec::new();
    for m in graph.keys() {
        if done.contains(m) || !reaches[m].contains(m) {
            continue;
        }
        let circle: Vec<String> =
            graph.keys().filter(|o| reaches[m].contains(*o) && reaches[*o].contains(m)).cloned().collect();
        done.extend(circle.iter().cloned());
        found.push(circle);
    }
    found
}

#[test]
fn no_crate_has_a_circle_of_module_imports() {
    let mut all = Vec::new();
    for dir in crates() {
        for circle in circles(&imports(&dir)) {
            all.push(format!("{}: {}", dir.strip_prefix(root()).unwrap_or(&dir).display(), circle.join(" → ")));
        }
    }
    assert!(all.is_empty(), "import circles:\n{}", all.join("\n"));
}

#[test]
fn the_circle_check_sees_a_circle() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("lib", vec!["a"]), ("a", vec!["b"]), ("b", vec!["a", "c"]), ("c", vec![])]
            .into_iter()
            .map(|(m, to)| (m.to_string(), to.into_iter().map(String::from).collect()))
            .collect();
    assert_eq!(circles(&graph), vec![vec!["a".to_string(), "b".to_string()]]);
    let used = code(
        "use crate::{a::{B, c}, d};\n// crate::e\nfn f() { crate::g::h(); \"crate::i\"; '\"'; }\n#[cfg(test)]\nmod tests { use crate::j; }\nuse crate::k;",
    );
    let paths: Vec<String> = paths_after(&used, "crate::").iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["a::B", "a::c", "d", "g::h", "k"]);
}

/// The workspace crates a crate's `[dependencies]` (not its dev-dependencies) name.
fn dependencies(dir: &Path) -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    let mut section = "";
    let mut found = BTreeSet::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
        } else if section == "[dependencies]" && line.starts_with("ryd-") {
            found.insert(line.split([' ', '.', '=']).next().unwrap_or("").to_string());
        }
    }
    found
}

#[test]
fn crate_dependencies_point_one_way() {
    let shared = root().join("shared");
    // Each crate, and the workspace crates it must never depend on (nor through another).
    let never: &[(&str, &[&str])] = &[
        ("authz", &["ryd-store", "ryd-api", "ryd-iati-account", "ryd-account", "ryd-console", "ryd-ckan"]),
        ("store", &["ryd-api", "ryd-iati-account", "ryd-account", "ryd-console", "ryd-ckan", "ryd-dashboard"]),
        ("http", &["ryd-authz", "ryd-store", "ryd-api"]),
        ("api", &["ryd-iati-account", "ryd-account", "ryd-console", "ryd-ckan", "ryd-dashboard"]),
        ("ckan", &["ryd-api", "ryd-authz", "ryd-iati-account", "ryd-console"]),
        ("dashboard", &["ryd-api", "ryd-authz", "ryd-iati-account", "ryd-console"]),
        ("account", &["ryd-api", "ryd-store", "ryd-iati-account", "ryd-console"]),
        ("console", &["ryd-api", "ryd-store", "ryd-iati-account"]),
    ];
    let by_name: BTreeMap<String, PathBuf> = crates()
        .into_iter()
        .filter_map(|d| {
            let manifest = std::fs::read_to_string(d.join("Cargo.toml")).ok()?;
            let name = manifest.lines().find_map(|l| l.strip_prefix("name = "))?.trim_matches('"').to_string();
            Some((name, d))
        })
        .collect();
    for (dir, forbidden) in never {
        // Everything the crate depends on, directly or through the workspace's crates.
        let mut seen = BTreeSet::new();
        let mut todo: Vec<String> = dependencies(&shared.join(dir)).into_iter().collect();
        while let Some(dep) = todo.pop() {
            if seen.insert(dep.clone()) {
                todo.extend(by_name.get(&dep).map(|d| dependencies(d)).unwrap_or_default());
            }
        }
        for f in *forbidden {
            assert!(!seen.contains(*f), "shared/{dir} depends on {f} (through {seen:?})");
        }
    }
    // And IATI Account acts through the API: the direction the API crate must not reverse.
    assert!(dependencies(&shared.join("iati-account")).contains("ryd-api"));
}
