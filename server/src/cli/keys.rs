//! `doui keys`: the keys that sign links, and the public half of the key that signs receipts
//! and checkpoints.

use super::KeysCommand;
use crate::config::Config;

/// Lists, rotates or retires the link keys, or prints the signing key's public half.
pub(super) fn keys(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Public => {
            let signer = crate::keys::signer(&config.data_dir, config.signing_key.as_deref())?;
            println!("{}", signer.verifier().to_text());
            eprintln!("key id {}", signer.id());
        }
        KeysCommand::List => {
            managed_here(config)?;
            for k in crate::keys::list(&config.data_dir)? {
                println!(
                    "{:<6} {:<10} created {}",
                    k.id,
                    if k.signing { "signing" } else { "verifying" },
                    k.created_at
                );
            }
        }
        KeysCommand::Rotate => {
            managed_here(config)?;
            let id = crate::keys::rotate(&config.data_dir)?;
            println!(
                "{id} now signs new links; older keys keep verifying until retired. Restart doui to use it."
            );
        }
        KeysCommand::Retire { id } => {
            managed_here(config)?;
            crate::keys::retire(&config.data_dir, &id)?;
            println!("{id} retired: links signed with it no longer work. Restart doui to apply.");
        }
    }
    Ok(())
}

/// The link keys are in the data directory's key file, unless the configuration gives a
/// `token_secret` instead.
fn managed_here(config: &Config) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.token_secret.is_none(),
        "links are signed with token_secret from the configuration; keys are managed there"
    );
    Ok(())
}
