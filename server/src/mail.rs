//! Mail transports: SMTP with lettre (`smtp_url`), or, with no SMTP configured, one `.eml` file
//! per message under `<data_dir>/outbox/` (the demo works offline; the log says where).

use std::path::PathBuf;

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
        let message = build(&self.from, mail)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}

/// Writes each message as an `.eml` file (open it with any mail program).
pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: &str) -> anyhow::Result<Self> {
        Ok(Self {
            dir,
            from: from
                .parse()
                .map_err(|e| anyhow::anyhow!("mail_from is not a valid address: {e}"))?,
        })
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &Mail) -> Result<(), String> {
        let message = build(&self.from, mail)?;
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| format!("creating {}: {e}", self.dir.display()))?;
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let path = self
            .dir
            .join(format!("{stamp}-{}.eml", uuid::Uuid::new_v4().simple()));
        tokio::fs::write(&path, message.formatted())
            .await
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        tracing::info!(path = %path.display(), "no SMTP server configured: message written to the outbox");
        Ok(())
    }
}
