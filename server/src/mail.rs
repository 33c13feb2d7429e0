//! Mail transports: SMTP with lettre (`smtp_url`), or, with no SMTP configured, one `.eml` file
//! per message under `<data_dir>/outbox/` (the demo works offline; the log says where).

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicI64, Ordering},
    time::Duration,
};

use app::mail::{Mail, Mailer};
use async_trait::async_trait;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};

fn build(from: &Mailbox, mail: &Mail) -> Result<Message, String> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| format!("recipient address: {e}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone())
        .map_err(|e| format!("building the message: {e}"))
}

/// Sends through an SMTP server (`smtps://…`, `smtp://…?tls=required`, …).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("smtp_url is not valid: {e}"))?
            .timeout(Some(std::time::Duration::from_secs(20)))
            .build();
        Ok(Self {
            transport,
            from: from
                .parse()
                .map_err(|e| anyhow::anyhow!("mail_from is not a valid address: {e}"))?,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let sent = async {
            let message = build(&self.from, mail)?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| format!("SMTP: {e}"))
        }
        .await;
        crate::ops::prometheus::mail(sent.is_ok());
        sent
    }
}

/// Writes each message as an `.eml` file (open it with any mail program), readable by Doui's
/// user alone, kept `retention` at most, and deleted when its recipient is erased.
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
    retention: Duration,
    /// When the outbox was last swept of old messages (Unix seconds).
    swept_at: AtomicI64,
}

/// Messages older than this are swept from the outbox unless configured otherwise.
pub const OUTBOX_RETENTION_DAYS: u32 = 30;

impl FileMailer {
    pub fn new(dir: PathBuf, from: &str) -> anyhow::Result<Self> {
        Self::with_retention(dir, from, OUTBOX_RETENTION_DAYS)
    }

    pub fn with_retention(dir: PathBuf, from: &str, retention_days: u32) -> anyhow::Result<Self> {
        Ok(Self {
            dir,
            from: from
                .parse()
                .map_err(|e| anyhow::anyhow!("mail_from is not a valid address: {e}"))?,
            retention: Duration::from_secs(u64::from(retention_days.max(1)) * 86_400),
            swept_at: AtomicI64::new(0),
        })
    }

    /// The outbox's messages (`.eml` files), oldest first by name.
    fn messages(dir: &Path) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        out.sort();
        out
    }

    /// Deletes the messages older than the retention (at most once an hour).
    fn sweep(&self) {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let last = self.swept_at.load(Ordering::Relaxed);
        if now - last < 3600
            || self
                .swept_at
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let mut swept = 0;
        for path in Self::messages(&self.dir) {
            let old = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > self.retention);
            if old && std::fs::remove_file(&path).is_ok() {
                swept += 1;
            }
        }
        if swept > 0 {
            tracing::info!(swept, "old messages deleted from the outbox");
        }
    }
}

/// Whether an `.eml` file's `To` names `address` (any case).
fn addressed_to(eml: &str, address: &str) -> bool {
    let headers = eml.split("\r\n\r\n").next().unwrap_or_default();
    let address = address.to_lowercase();
    headers
        .split("\r\n")
        .filter(|line| line.len() > 3 && line[..3].eq_ignore_ascii_case("to:"))
        .any(|line| line.to_lowercase().contains(&address))
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let written = self.write(mail).await;
        crate::ops::prometheus::mail(written.is_ok());
        written
    }

    async fn forget(&self, address: &str) -> Result<usize, String> {
        self.forget_address(address).await
    }
}

impl FileMailer {
    async fn write(&self, mail: &Mail) -> Result<(), String> {
        let message = build(&self.from, mail)?;
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let path = self
            .dir
            .join(format!("{stamp}-{}.eml", uuid::Uuid::new_v4().simple()));
        let dir = self.dir.clone();
        let written = path.clone();
        tokio::task::spawn_blocking(move || -> Result<(), String> {
            crate::files::private_dir(&dir).map_err(|e| format!("{e:#}"))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options
                .open(&written)
                .map_err(|e| format!("writing {}: {e}", written.display()))?;
            std::io::Write::write_all(&mut file, &message.formatted())
                .map_err(|e| format!("writing {}: {e}", written.display()))
        })
        .await
        .map_err(|e| format!("writing the outbox: {e}"))??;
        tracing::info!(path = %path.display(), "no SMTP server configured: message written to the outbox");
        self.sweep();
        Ok(())
    }

    async fn forget_address(&self, address: &str) -> Result<usize, String> {
        let dir = self.dir.clone();
        let address = address.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut deleted = 0;
            for path in Self::messages(&dir) {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                if addressed_to(&text, &address) {
                    std::fs::remove_file(&path)
                        .map_err(|e| format!("deleting {}: {e}", path.display()))?;
                    deleted += 1;
                }
            }
            Ok(deleted)
        })
        .await
        .map_err(|e| format!("reading the outbox: {e}"))?
    }
}
