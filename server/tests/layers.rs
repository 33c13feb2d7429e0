//! The layers keep their direction (ARCHITECTURE.md): the domain imports nothing of the crate but
//! itself, the store traits only pure modules, the services no page, component or server function,
//! and the store implementations nothing of HTTP or the command line. Read from the sources as
//! text, including grouped imports (`use crate::{a::b, c}`) and paths written inline.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(path).unwrap() {
        out.extend(rust_files(&entry.unwrap().path()));
    }
    out.retain(|p| p.extension().is_some_and(|e| e == "rs"));
    out
}

/// The crate's top-level modules a source refers to through `crate::`, inline or grouped.
fn crate_modules(source: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + 7..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: words at depth 0 before `::`, `,` or `}`.
            let mut depth = 0;
            let mut word = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    c if depth == 0 && at_start && (c.is_alphanumeric() || c == '_') => {
                        word.push(c)
                    }
                    _ => {
                        if depth == 0 && at_start && !word.is_empty() {
                            out.insert(std::mem::take(&mut word));
                            at_start = false;
                        }
                    }
                }
            }
            if !word.is_empty() {
                out.insert(word);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Which files under `layer` refer to any of `forbidden` (top-level module names).
fn violations(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for file in rust_files(&repo().join(layer)) {
        let used = crate_modules(&fs::read_to_string(&file).unwrap());
        for m in forbidden {
            if used.contains(*m) {
                out.push(format!("{} imports crate::{m}", file.display()));
            }
        }
    }
    out
}

/// Every top-level module of the app crate but the ones named.
fn app_modules_except(allowed: &[&str]) -> Vec<String> {
    let lib = fs::read_to_string(repo().join("app/src/lib.rs")).unwrap();
    lib.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("pub ").unwrap_or(l);
            l.strip_prefix("mod ")
                .map(|m| m.trim_end_matches(';').trim().to_string())
        })
        .filter(|m| !allowed.contains(&m.as_str()))
        .collect()
}

const PAGES: &[&str] = &[
    "routes",
    "pages",
    "console",
    "frame",
    "notices",
    "privacy",
    "subscribe",
    "objection",
    "provided",
    "islands",
    "api",
    "admin",
];

#[test]
fn the_domain_imports_only_itself() {
    let forbidden = app_modules_except(&["domain"]);
    assert!(forbidden.contains(&"services".to_string()), "{forbidden:?}");
    let f: Vec<&str> = forbidden.iter().map(String::as_str).collect();
    let v = violations("app/src/domain", &f);
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn pure_modules_import_no_store_service_or_page() {
    let mut forbidden = vec!["store", "services", "mail"];
    forbidden.extend(PAGES);
    for layer in [
        "app/src/token.rs",
        "app/src/token",
        "app/src/api_key.rs",
        "app/src/signing.rs",
        "app/src/auth",
        "app/src/rate",
        "app/src/view.rs",
    ] {
        let v = violations(layer, &forbidden);
        assert!(v.is_empty(), "{v:#?}");
    }
}

#[test]
fn the_store_traits_import_only_pure_modules() {
    let mut forbidden = vec!["services", "mail", "i18n", "view"];
    forbidden.extend(PAGES);
    let mut v = violations("app/src/store.rs", &forbidden);
    v.extend(violations("app/src/store", &forbidden));
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn services_import_no_page_component_or_server_function() {
    let v = violations("app/src/services", PAGES);
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn store_implementations_import_nothing_of_http_or_the_command_line() {
    let v = violations(
        "server/src/store",
        &[
            "http",
            "api_v1",
            "auth",
            "cli",
            "exports",
            "inbound",
            "sms",
            "unsubscribe",
            "demo",
            "mail",
        ],
    );
    assert!(v.is_empty(), "{v:#?}");
}

#[test]
fn the_check_reads_grouped_and_inline_imports() {
    let src = "use crate::{domain::{A, B}, store::Store};\nfn f() { crate::pages::x(); }\n// crate::console\n";
    let m = crate_modules(src);
    assert_eq!(
        m.into_iter().collect::<Vec<_>>(),
        vec![
            "domain".to_string(),
            "pages".to_string(),
            "store".to_string()
        ]
    );
}

/// The crate's top-level modules (a file `x.rs` or a folder `x/`) and, for each, the others its
/// files refer to through `crate::`.
fn module_graph(src: &str) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let root = repo().join(src);
    let mut graph = std::collections::BTreeMap::new();
    for entry in fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_file() && path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        if ["lib", "main"].contains(&name.as_str()) {
            continue;
        }
        let mut used = BTreeSet::new();
        for file in rust_files(&path) {
            used.extend(crate_modules(&fs::read_to_string(&file).unwrap()));
        }
        used.remove(&name);
        graph.entry(name).or_insert_with(BTreeSet::new).extend(used);
    }
    graph
}

/// Groups of modules that import each other, directly or round a circle (strongly connected
/// components of more than one module).
fn circles(graph: &std::collections::BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reaches = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if graph.contains_key(next) && seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reach: std::collections::BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reaches(m))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for m in graph.keys() {
        let mut group: Vec<String> = graph
            .keys()
            .filter(|o| *o == m || (reach[m].contains(*o) && reach[o].contains(m)))
            .cloned()
            .collect();
        group.sort();
        if group.len() > 1 && !out.contains(&group) {
            out.push(group);
        }
    }
    out
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    for src in ["app/src", "server/src"] {
        let graph = module_graph(src);
        assert!(graph.len() > 10, "{src}: modules found: {graph:?}");
        let found = circles(&graph);
        assert!(found.is_empty(), "{src}: import circles {found:?}");
    }
}

#[test]
fn the_circle_check_finds_a_circle() {
    let mut graph = std::collections::BTreeMap::new();
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    graph.insert("pages".to_string(), set(&["console", "domain"]));
    graph.insert("console".to_string(), set(&["notices"]));
    graph.insert("notices".to_string(), set(&["pages"]));
    graph.insert("domain".to_string(), set(&[]));
    assert_eq!(
        circles(&graph),
        vec![vec![
            "console".to_string(),
            "notices".to_string(),
            "pages".to_string()
        ]]
    );
}
