//! Build-time facts for the `doui` binary:
//!
//! - `DOUI_COMMIT`: the commit it is built from (`git rev-parse --short HEAD`), or `unknown`
//!   outside a git checkout; `doui --version` prints it.
//! - `$OUT_DIR/site.rs`: the built site (`target/site`: wasm, JS, CSS, public files) as a table
//!   of embedded files, each with its gzip and brotli forms made here, so the binary serves them
//!   from any directory. `cargo leptos build` builds the site before the server, so a release
//!   build finds it. Where it is missing (plain `cargo build`, tests), the table is empty and the
//!   server serves the site from disk, as it says in its log. `DOUI_EMBED_SITE` names another
//!   site directory, or `off` to embed nothing.
//! - `$OUT_DIR/site_stem.rs`: the name the site's script, module and stylesheet are also served
//!   at, `doui.<hash>` (a hash of the three files together), so browsers keep them for good and
//!   a new build is fetched at once under its new name; `None` when no site is embedded.

use std::{
    env, fs,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
};

fn main() {
    commit();
    site();
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn commit() {
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=DOUI_COMMIT={commit}");
    // Run again when HEAD moves: HEAD itself (a branch switch) and the branch's ref (a commit).
    // Only paths that exist: cargo runs a script watching a missing path on every build.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(name) = git(&["rev-parse", "--symbolic-full-name", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &name]));
        watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    }
    for path in watched.into_iter().flatten() {
        if Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
}

fn site() {
    println!("cargo:rerun-if-env-changed=DOUI_EMBED_SITE");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = match env::var("DOUI_EMBED_SITE") {
        Ok(v) if v == "off" => None,
        Ok(v) => Some(PathBuf::from(v)),
        Err(_) => Some(manifest.join("../target/site")),
    };
    let root = root.filter(|r| r.join("pkg").is_dir());
    let mut table = String::from("&[\n");
    let stem = root.as_deref().and_then(hashed_stem);
    if let Some(root) = &root {
        println!("cargo:rerun-if-changed={}", root.display());
        let release = env::var("PROFILE").is_ok_and(|p| p == "release");
        let mut files = Vec::new();
        walk(root, &mut files);
        files.sort();
        let store = out.join("site");
        for file in files {
            let rel = file
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            // cargo-leptos's own precompressed copies and its hash list are not files to serve.
            if rel.ends_with(".gz") || rel.ends_with(".br") || rel == "hash.txt" {
                continue;
            }
            let body = fs::read(&file).expect("a site file");
            let (gzip, br) = if compressible(&rel) {
                let gzip = gzip(&body, release);
                let br = brotli(&body, release);
                (
                    save(&store, &rel, "gz", gzip, body.len()),
                    save(&store, &rel, "br", br, body.len()),
                )
            } else {
                (None, None)
            };
            let opt = |p: Option<PathBuf>| match p {
                Some(p) => format!("Some(include_bytes!({:?}))", p.display().to_string()),
                None => "None".into(),
            };
            let hashed = match (&stem, rel.strip_prefix("pkg/doui.")) {
                (Some(stem), Some(ext @ ("js" | "wasm" | "css"))) => {
                    format!("Some({:?})", format!("pkg/{stem}.{ext}"))
                }
                _ => "None".into(),
            };
            table.push_str(&format!(
                "    Asset {{ path: {rel:?}, hashed: {hashed}, mime: {:?}, etag: \"\\\"{:016x}\\\"\", identity: include_bytes!({:?}), gzip: {}, br: {} }},\n",
                mime(&rel),
                fnv(&body),
                file.display().to_string(),
                opt(gzip),
                opt(br),
            ));
        }
    }
    table.push(']');
    fs::write(out.join("site.rs"), table).expect("writing site.rs");
    let stem = stem.map_or("None".to_owned(), |s| format!("Some({s:?})"));
    fs::write(out.join("site_stem.rs"), stem).expect("writing site_stem.rs");
}

/// `doui.<hash>`, the hash taken over the script, the module and the stylesheet together (the
/// page names all three from one stem), when all three are there.
fn hashed_stem(root: &Path) -> Option<String> {
    let mut all = Vec::new();
    for ext in ["js", "wasm", "css"] {
        all.extend(fs::read(root.join("pkg").join(format!("doui.{ext}"))).ok()?);
    }
    Some(format!("doui.{:016x}", fnv(&all)))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("the site directory").flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}

/// Stores a compressed form when it saves at least a twentieth.
fn save(store: &Path, rel: &str, ext: &str, bytes: Vec<u8>, original: usize) -> Option<PathBuf> {
    if bytes.len() * 20 > original * 19 {
        return None;
    }
    let path = store.join(format!("{rel}.{ext}"));
    fs::create_dir_all(path.parent().expect("a parent")).expect("the store directory");
    fs::write(&path, bytes).expect("a compressed file");
    Some(path)
}

fn gzip(body: &[u8], release: bool) -> Vec<u8> {
    let level = if release { 9 } else { 6 };
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(body).expect("gzip");
    e.finish().expect("gzip")
}

fn brotli(body: &[u8], release: bool) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: if release { 11 } else { 5 },
        lgwin: 22,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).expect("brotli");
    out
}

fn extension(rel: &str) -> &str {
    rel.rsplit_once('.').map(|(_, e)| e).unwrap_or_default()
}

fn compressible(rel: &str) -> bool {
    matches!(
        extension(rel),
        "wasm" | "js" | "mjs" | "css" | "html" | "svg" | "json" | "txt" | "xml" | "map" | "ico"
    )
}

fn mime(rel: &str) -> &'static str {
    match extension(rel) {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "ico" => "image/x-icon",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// FNV-1a, 64 bits: the ETag of a file (the same build gives every instance the same tag).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
