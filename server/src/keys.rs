//! The link-signing keys: `token-keys.toml` in the data directory, created on first run (mode 0600),
//! or one secret from config. The first key signs; every key listed verifies.

use std::path::Path;

use anyhow::Context;
use app::token::{Keyring, SigningKey};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use serde::{Deserialize, Serialize};

const FILE: &str = "token-keys.toml";
const HEADER: &str = "# Doui link-signing keys. Keep this file secret: whoever has it can make links.\n\
                      # The first key signs new links; every key listed verifies links already sent.\n\n";

#[derive(Serialize, Deserialize)]
struct KeyFile {
    keys: Vec<StoredKey>,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    id: String,
    secret: String,
    created_at: String,
}

pub fn load_or_create(data_dir: &Path, configured_secret: Option<&str>) -> anyhow::Result<Keyring> {
    if let Some(secret) = configured_secret {
        let key = SigningKey::new("cfg", secret.as_bytes().to_vec()).map_err(anyhow::Error::msg)?;
        return Keyring::new(vec![key]).map_err(anyhow::Error::msg);
    }
    let path = data_dir.join(FILE);
    if !path.exists() {
        crate::files::private_dir(data_dir)?;
        let file = KeyFile {
            keys: vec![new_key("k1")?],
        };
        write_private(&path, &format!("{HEADER}{}", toml::to_string(&file)?))?;
        tracing::info!(path = %path.display(), "created a link-signing key");
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let file: KeyFile =
        toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    let keys = file
        .keys
        .into_iter()
        .map(|k| {
            let secret = B64
                .decode(k.secret.trim())
                .with_context(|| format!("key {} is not base64url", k.id))?;
            SigningKey::new(&k.id, secret).map_err(anyhow::Error::msg)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Keyring::new(keys).map_err(anyhow::Error::msg)
}

const SESSION_KEY_FILE: &str = "session-key";
const DATA_KEY_FILE: &str = "data-key";

/// The data key (digests of erased identifiers, TOTP secrets at rest): `data_key` from config,
/// else `data-key` in the data directory (created on first run, mode 0600). It must never change
/// for the life of the database, and instances that share one database must share it.
pub fn data_key(data_dir: &Path, configured: Option<&str>) -> anyhow::Result<app::auth::DataKey> {
    if let Some(secret) = configured {
        return Ok(app::auth::DataKey::new(secret.as_bytes()));
    }
    let (path, text) = secret_file(data_dir, DATA_KEY_FILE, "the data key")?;
    let secret = B64
        .decode(text.trim())
        .with_context(|| format!("{} is not base64url", path.display()))?;
    anyhow::ensure!(secret.len() >= 32, "{} is too short", path.display());
    Ok(app::auth::DataKey::new(&secret))
}
const SIGNING_KEY_FILE: &str = "signing-key";

/// The secret CSRF tokens are signed with: `session_secret` from config, else `session-key` in
/// the data directory (created on first run, mode 0600). Instances that share one database must
/// share this secret too.
pub fn session_key(data_dir: &Path, configured_secret: Option<&str>) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = configured_secret {
        return Ok(secret.as_bytes().to_vec());
    }
    let (path, text) = secret_file(data_dir, SESSION_KEY_FILE, "a session key")?;
    let secret = B64
        .decode(text.trim())
        .with_context(|| format!("{} is not base64url", path.display()))?;
    anyhow::ensure!(secret.len() >= 32, "{} is too short", path.display());
    Ok(secret)
}

/// The Ed25519 key that signs checkpoints and receipts: `signing_key` from config, else
/// `signing-key` in the data directory (created on first run, mode 0600). Instances that share one
/// database must share it; its public half (`doui keys public`) is what outsiders verify with.
pub fn signer(data_dir: &Path, configured: Option<&str>) -> anyhow::Result<app::signing::Signer> {
    if let Some(seed) = configured {
        return app::signing::Signer::from_text(seed)
            .map_err(|e| anyhow::anyhow!("signing_key: {e}"));
    }
    let (path, text) = secret_file(
        data_dir,
        SIGNING_KEY_FILE,
        "the checkpoint and receipt signing key",
    )?;
    app::signing::Signer::from_text(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A 32-byte random secret kept in `name` under the data directory: created (mode 0600) when
/// missing, then read.
fn secret_file(
    data_dir: &Path,
    name: &str,
    what: &str,
) -> anyhow::Result<(std::path::PathBuf, String)> {
    let path = data_dir.join(name);
    if !path.exists() {
        crate::files::private_dir(data_dir)?;
        let key = new_key(name)?;
        write_private(&path, &format!("{}\n", key.secret))?;
        tracing::info!(path = %path.display(), "created {what}");
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok((path, text))
}

/// One key as `doui keys list` shows it (never the secret).
pub struct KeyInfo {
    pub id: String,
    pub created_at: String,
    pub signing: bool,
}

fn read_file(data_dir: &Path) -> anyhow::Result<KeyFile> {
    let path = data_dir.join(FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (run doui migrate first)", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// Replaces the key file atomically (write a temporary file, sync, rename).
fn write_file(data_dir: &Path, file: &KeyFile) -> anyhow::Result<()> {
    let path = data_dir.join(FILE);
    let tmp = data_dir.join(format!("{FILE}.tmp"));
    std::fs::remove_file(&tmp).ok();
    write_private(&tmp, &format!("{HEADER}{}", toml::to_string(file)?))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

pub fn list(data_dir: &Path) -> anyhow::Result<Vec<KeyInfo>> {
    Ok(read_file(data_dir)?
        .keys
        .into_iter()
        .enumerate()
        .map(|(i, k)| KeyInfo {
            id: k.id,
            created_at: k.created_at,
            signing: i == 0,
        })
        .collect())
}

/// Adds a new signing key in front; the others keep verifying links already sent.
pub fn rotate(data_dir: &Path) -> anyhow::Result<String> {
    let mut file = read_file(data_dir)?;
    let next = file
        .keys
        .iter()
        .filter_map(|k| k.id.strip_prefix('k')?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let key = new_key(&format!("k{next}"))?;
    let id = key.id.clone();
    file.keys.insert(0, key);
    write_file(data_dir, &file)?;
    Ok(id)
}

/// Removes a verifying key: links signed with it stop working. The signing key can't be retired.
pub fn retire(data_dir: &Path, id: &str) -> anyhow::Result<()> {
    let mut file = read_file(data_dir)?;
    let pos = file
        .keys
        .iter()
        .position(|k| k.id == id)
        .ok_or_else(|| anyhow::anyhow!("no key {id:?}"))?;
    anyhow::ensure!(
        pos != 0,
        "{id} signs new links: rotate first, then retire it"
    );
    file.keys.remove(pos);
    write_file(data_dir, &file)
}

fn new_key(id: &str) -> anyhow::Result<StoredKey> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(StoredKey {
        id: id.to_owned(),
        secret: B64.encode(secret),
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)?,
    })
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("doui-keys-{}", uuid::Uuid::new_v4()));
        let a = load_or_create(&dir, None).unwrap();
        let b = load_or_create(&dir, None).unwrap();
        assert_eq!(a.signing_key().secret(), b.signing_key().secret());
        assert_eq!(a.signing_key().id, "k1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key file is private");
        }
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn rotation_keeps_old_keys_verifying_until_retired() {
        let dir = std::env::temp_dir().join(format!("doui-keys-{}", uuid::Uuid::new_v4()));
        let before = load_or_create(&dir, None).unwrap();
        assert_eq!(rotate(&dir).unwrap(), "k2");
        let after = load_or_create(&dir, None).unwrap();
        assert_eq!(after.signing_key().id, "k2");
        let listed: Vec<_> = list(&dir)
            .unwrap()
            .into_iter()
            .map(|k| (k.id, k.signing))
            .collect();
        assert_eq!(
            listed,
            [("k2".to_string(), true), ("k1".to_string(), false)]
        );
        assert!(
            retire(&dir, "k2").is_err(),
            "the signing key can't be retired"
        );
        retire(&dir, "k1").unwrap();
        let retired = load_or_create(&dir, None).unwrap();
        assert_ne!(
            retired.signing_key().secret(),
            before.signing_key().secret()
        );
        assert_eq!(list(&dir).unwrap().len(), 1);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_configured_secret_is_used_instead() {
        let dir = std::env::temp_dir().join(format!("doui-keys-{}", uuid::Uuid::new_v4()));
        let ring = load_or_create(&dir, Some(&"x".repeat(32))).unwrap();
        assert_eq!(ring.signing_key().id, "cfg");
        assert!(!dir.exists());
    }
}
