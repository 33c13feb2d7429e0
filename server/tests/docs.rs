//! The docs cannot drift from the code: every relative link between the Markdown pages (README,
//! ARCHITECTURE, docs/) leads to a file that exists and, with `#anchor`, to a heading in it; and
//! every `doui …` command they show names subcommands and options the command line has.

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

/// README.md, ARCHITECTURE.md and every `.md` under docs/.
fn pages() -> Vec<PathBuf> {
    let root = repo();
    let mut out = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The page's text outside fenced code blocks (links inside code are examples, not links).
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Drops inline code spans from one line.
fn without_code(line: &str) -> String {
    let mut out = String::new();
    let mut code = false;
    for c in line.chars() {
        if c == '`' {
            code = !code;
        } else if !code {
            out.push(c);
        }
    }
    out
}

/// `](target)` link targets in the page's prose.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text).lines() {
        let line = without_code(line);
        let mut rest = line.as_str();
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            if let Some(end) = rest.find(')') {
                out.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn every_link_between_the_docs_leads_somewhere() {
    let mut broken = Vec::new();
    let pages = pages();
    assert!(pages.len() > 8, "the docs are found: {pages:?}");
    for page in &pages {
        let text = fs::read_to_string(page).unwrap();
        for target in links(&text) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let dest = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !dest.exists() {
                broken.push(format!("{}: {target} (no such file)", page.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let text = fs::read_to_string(&dest).unwrap_or_default();
                if !anchors(&text).contains(anchor) {
                    broken.push(format!("{}: {target} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_finds_a_broken_link() {
    let text = "See [this](missing.md) and `[not](code.md)`.\n```\n[nor](fenced.md)\n```\n";
    assert_eq!(links(text), vec!["missing.md".to_string()]);
    assert_eq!(slug("Erasure (GDPR Art. 17)"), "erasure-gdpr-art-17");
    assert!(
        anchors("# A\n## Stop all marketing (GDPR Art. 21(3), R34)\n")
            .contains("stop-all-marketing-gdpr-art-213-r34")
    );
}

/// Every `doui …` inside backticks, cut at the end of the code span or block line.
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let spans: Vec<String> = if fenced {
            vec![line.to_string()]
        } else {
            line.split('`')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, s)| s.to_string())
                .collect()
        };
        for span in spans {
            let mut rest = span.as_str();
            while let Some(i) = rest.find("doui ") {
                let before = rest[..i].chars().last();
                let start = &rest[i..];
                rest = &rest[i + 5..];
                // Only the command itself: not `target/release/doui`, `doui.toml`, a path or a word.
                if before.is_some_and(|c| c.is_alphanumeric() || c == '/' || c == '-' || c == '_') {
                    continue;
                }
                let end = start
                    .find(['|', '#', ';', '&', '>', '<'])
                    .map(|e| e.min(start.len()))
                    .unwrap_or(start.len());
                out.push(start[..end].trim().to_string());
            }
        }
    }
    out
}

/// Checks one shown command against the definition; `None` when it is fine.
fn check(command: &str, cli: &clap::Command) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().skip(1).collect();
    let mut current = cli;
    let mut path = vec!["doui"];
    let mut i = 0;
    // Walk subcommands while the next word names one.
    while i < words.len() {
        let w = words[i];
        match current.find_subcommand(w) {
            Some(sub) => {
                current = sub;
                path.push(w);
                i += 1;
            }
            None => break,
        }
    }
    if current.has_subcommands() && i < words.len() && !words[i].starts_with('-') {
        let w = words[i];
        // A placeholder such as `<subject>` or `…` is an argument, not a subcommand.
        if w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && current.get_positionals().next().is_none()
        {
            return Some(format!(
                "`{command}`: `{}` has no subcommand `{w}`",
                path.join(" ")
            ));
        }
    }
    for w in &words[i..] {
        let w = w.trim_matches(|c| c == '[' || c == ']' || c == '(' || c == ')');
        let Some(flag) = w.strip_prefix("--") else {
            continue;
        };
        let flag = flag.split('=').next().unwrap_or("");
        if flag.is_empty() || flag == "help" || flag == "version" {
            continue;
        }
        let known = current
            .get_arguments()
            .chain(cli.get_arguments())
            .any(|a| a.get_long() == Some(flag));
        if !known {
            return Some(format!(
                "`{command}`: `{}` has no option `--{flag}`",
                path.join(" ")
            ));
        }
    }
    None
}

#[test]
fn every_command_the_docs_show_exists() {
    let cli = server::cli::definition();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for page in pages() {
        let text = fs::read_to_string(&page).unwrap();
        for command in commands(&text) {
            seen += 1;
            if let Some(problem) = check(&command, &cli) {
                wrong.push(format!("{}: {problem}", page.display()));
            }
        }
    }
    assert!(seen > 30, "the docs' commands are found ({seen})");
    assert!(
        wrong.is_empty(),
        "commands the CLI does not have:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_command_check_finds_a_command_that_does_not_exist() {
    let cli = server::cli::definition();
    assert!(check("doui subject add --email a@example.jp", &cli).is_none());
    assert!(check("doui subject add --colour red", &cli).is_some());
    assert!(check("doui frobnicate --now", &cli).is_some());
    assert!(check("doui keys rotate", &cli).is_none());
    assert_eq!(
        commands(
            "run `doui verify --checkpoints kept.jsonl` and not doui.toml or `target/release/doui serve`"
        ),
        vec!["doui verify --checkpoints kept.jsonl".to_string()]
    );
}

/// A schema's type in a few words: `string (enum: a, b)`, `array of Link`, `integer`.
fn type_of(schema: &serde_json::Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(|r| r.as_str()) {
        return format!(
            "[{0}](#{1})",
            r.rsplit('/').next().unwrap(),
            slug(r.rsplit('/').next().unwrap())
        );
    }
    if let Some(all) = schema
        .get("allOf")
        .or(schema.get("oneOf"))
        .or(schema.get("anyOf"))
    {
        let parts: Vec<String> = all
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s.get("type").and_then(|t| t.as_str()) != Some("null"))
            .map(type_of)
            .collect();
        return parts.join(" or ");
    }
    let ty = match schema.get("type") {
        Some(serde_json::Value::String(t)) => t.clone(),
        Some(serde_json::Value::Array(ts)) => ts
            .iter()
            .filter_map(|t| t.as_str())
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".to_string(),
    };
    let mut out = if ty == "array" {
        format!(
            "array of {}",
            schema.get("items").map(type_of).unwrap_or_default()
        )
    } else {
        ty
    };
    let mut notes = Vec::new();
    if let Some(e) = schema.get("enum").and_then(|e| e.as_array()) {
        let values: Vec<String> = e
            .iter()
            .filter_map(|v| v.as_str().map(|s| format!("`{s}`")))
            .collect();
        notes.push(format!("one of {}", values.join(", ")));
    }
    for (key, label) in [
        ("format", "format"),
        ("pattern", "pattern"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("maxItems", "at most"),
    ] {
        if let Some(v) = schema.get(key) {
            let v = v
                .as_str()
                .map(|s| format!("`{s}`"))
                .unwrap_or_else(|| v.to_string());
            notes.push(format!("{label} {v}"));
        }
    }
    if !notes.is_empty() {
        out = format!("{out} ({})", notes.join("; "));
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The API reference as Markdown, from the OpenAPI document the server serves.
fn api_reference() -> String {
    let doc = serde_json::to_value(server::api_v1::openapi_document()).unwrap();
    let mut out = String::new();
    out.push_str("# API reference\n\n");
    out.push_str(
        "Generated from the OpenAPI document the server serves at `/api/v1/openapi.json` (by\n\
         `server/tests/docs.rs`, which fails when this page is not the document: run\n\
         `DOUI_WRITE_DOCS=1 cargo test -p server --test docs` after changing the API). Every path\n\
         takes an API key as `Authorization: Bearer doui.<id>.<secret>` with the scope it names;\n\
         errors are JSON with a stable `code` and a `message` in the request's `Accept-Language`.\n\n",
    );
    out.push_str("## Paths\n\n");
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let Some(op) = op.as_object() else { continue };
            if !op.contains_key("responses") {
                continue;
            }
            out.push_str(&format!("### `{} {path}`\n\n", method.to_uppercase()));
            for key in ["summary", "description"] {
                if let Some(t) = op.get(key).and_then(|t| t.as_str()) {
                    out.push_str(&format!("{}\n\n", t.trim()));
                }
            }
            if let Some(params) = op.get("parameters").and_then(|p| p.as_array()) {
                out.push_str(
                    "| parameter | in | required | type | meaning |\n|---|---|---|---|---|\n",
                );
                for p in params {
                    out.push_str(&format!(
                        "| `{}` | {} | {} | {} | {} |\n",
                        p["name"].as_str().unwrap_or(""),
                        p["in"].as_str().unwrap_or(""),
                        if p["required"].as_bool().unwrap_or(false) {
                            "yes"
                        } else {
                            "no"
                        },
                        p.get("schema").map(type_of).unwrap_or_default(),
                        one_line(p["description"].as_str().unwrap_or("")),
                    ));
                }
                out.push('\n');
            }
            if let Some(content) = op
                .get("requestBody")
                .and_then(|b| b.get("content"))
                .and_then(|c| c.as_object())
            {
                for (media, body) in content {
                    out.push_str(&format!(
                        "Request body (`{media}`): {}\n\n",
                        body.get("schema")
                            .map(type_of)
                            .unwrap_or_else(|| "text".into())
                    ));
                }
            }
            out.push_str("| answer | meaning | body |\n|---|---|---|\n");
            for (status, resp) in op["responses"].as_object().unwrap() {
                let body = resp
                    .get("content")
                    .and_then(|c| c.as_object())
                    .map(|c| {
                        c.iter()
                            .map(|(m, b)| {
                                format!(
                                    "`{m}` {}",
                                    b.get("schema").map(type_of).unwrap_or_default()
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                out.push_str(&format!(
                    "| {status} | {} | {body} |\n",
                    one_line(resp["description"].as_str().unwrap_or(""))
                ));
            }
            out.push('\n');
        }
    }
    out.push_str("## Schemas\n\n");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            out.push_str(&format!("### {name}\n\n"));
            if let Some(d) = schema.get("description").and_then(|d| d.as_str()) {
                out.push_str(&format!("{}\n\n", d.trim()));
            }
            let required: Vec<&str> = schema
                .get("required")
                .and_then(|r| r.as_array())
                .map(|r| r.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            match schema.get("properties").and_then(|p| p.as_object()) {
                Some(props) => {
                    out.push_str("| field | required | type | meaning |\n|---|---|---|---|\n");
                    for (field, p) in props {
                        out.push_str(&format!(
                            "| `{field}` | {} | {} | {} |\n",
                            if required.contains(&field.as_str()) {
                                "yes"
                            } else {
                                "no"
                            },
                            type_of(p),
                            one_line(p.get("description").and_then(|d| d.as_str()).unwrap_or("")),
                        ));
                    }
                }
                None => out.push_str(&format!("{}\n", type_of(schema))),
            }
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_api_reference_is_the_openapi_document() {
    let path = repo().join("docs/senders/api-reference.md");
    let generated = api_reference();
    assert!(generated.contains("/api/v1/links"), "{generated}");
    if std::env::var_os("DOUI_WRITE_DOCS").is_some() {
        fs::write(&path, &generated).unwrap();
        return;
    }
    let current = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/senders/api-reference.md is not the OpenAPI document: run \
         `DOUI_WRITE_DOCS=1 cargo test -p server --test docs` and commit the page"
    );
}
