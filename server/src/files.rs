//! What Doui keeps on disk is only its own to read: folders it makes are 0700 and files 0600,
//! whatever the umask (the data directory holds the keys, the SQLite database and the outbox's
//! messages). A folder or file made looser by hand is tightened, and the log says so.

use std::path::Path;

use anyhow::Context;

#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("making {} private", path.display()))?;
        tracing::info!(path = %path.display(), mode = format!("{mode:o}"), "made private");
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_: &Path, _: u32) -> anyhow::Result<()> {
    Ok(())
}

/// Makes `dir` (and any missing parent) with mode 0700, or tightens it when it exists.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    tighten(dir, 0o700)
}

/// Makes an empty `file` with mode 0600 when it is missing, or tightens it when it exists (a
/// SQLite database: its `-wal` and `-shm` files take the database file's mode). A file that
/// exists is never opened here: closing a descriptor would drop the POSIX locks SQLite holds on
/// it in this process.
pub fn private_file(file: &Path) -> anyhow::Result<()> {
    if !file.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(file) {
            Ok(_) => return Ok(()),
            // Made meanwhile by someone else: tightened below.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).with_context(|| format!("creating {}", file.display())),
        }
    }
    tighten(file, 0o600)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_private_whatever_they_were() {
        let base =
            std::env::temp_dir().join(format!("doui_files_{}", uuid::Uuid::new_v4().simple()));
        let dir = base.join("data");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700, "tightened");
        let file = dir.join("doui.db");
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        std::fs::write(&file, b"kept").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600, "tightened");
        assert_eq!(std::fs::read(&file).unwrap(), b"kept", "never truncated");
        std::fs::remove_dir_all(base).unwrap();
    }
}
