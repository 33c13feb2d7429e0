//! `doui admin`: console accounts.

use super::{AdminCommand, refusal};
use crate::config::Config;

pub(super) async fn admin(command: AdminCommand, config: Config) -> anyhow::Result<()> {
    let services = crate::services(&config).await?;
    let role = |r: &str| -> anyhow::Result<app::auth::Role> {
        r.parse()
            .map_err(|_| anyhow::anyhow!("--role must be viewer, operator or owner"))
    };
    match command {
        AdminCommand::Create { email, role: r } => {
            let role = role(&r)?;
            let password = read_new_password()?;
            let admin = services
                .create_admin(&email, role, &password)
                .await
                .map_err(refusal)?;
            println!("admin {} created ({})", admin.email, admin.role);
            println!("sign in at {}/admin/signin", config.public_url);
        }
        AdminCommand::List => {
            for a in services.identity.admins().await? {
                let state = if a.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                let totp = if a.totp_secret.is_some() { "totp" } else { "-" };
                println!("{:<40} {:<9} {state:<9} {totp}", a.email, a.role.key());
            }
        }
        AdminCommand::SetRole { email, role: r } => {
            let current = services.admin_named(&email).await.map_err(refusal)?;
            let a = services
                .set_admin_role(&email, role(&r)?, current.disabled_at.is_some())
                .await
                .map_err(refusal)?;
            println!("{} is now {}", a.email, a.role);
        }
        AdminCommand::Disable { email, enable } => {
            let current = services.admin_named(&email).await.map_err(refusal)?;
            let a = services
                .set_admin_role(&email, current.role, !enable)
                .await
                .map_err(refusal)?;
            let state = if enable {
                "enabled"
            } else {
                "disabled and signed out"
            };
            println!("{} {state}", a.email);
        }
        AdminCommand::Password { email } => {
            let password = read_new_password()?;
            services
                .set_admin_password(&email, &password)
                .await
                .map_err(refusal)?;
            println!("password changed; {email} was signed out everywhere");
        }
        AdminCommand::Totp { email } => {
            let secret = services.enroll_totp(&email).await.map_err(refusal)?;
            let admin = services.admin_named(&email).await.map_err(refusal)?;
            println!("secret: {secret}");
            println!("{}", app::auth::otpauth_uri("Doui", &admin.email, &secret));
            eprintln!(
                "Add it to an authenticator app; from now on sign-in asks for its 6-digit code."
            );
        }
    }
    Ok(())
}

/// A new password: from the terminal (asked twice, not echoed) or one line of standard input.
fn read_new_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (12 characters or more): ")?;
        let second = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == second, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}
