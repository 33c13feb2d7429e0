//! Demo data for a first run: a few subjects in both languages, with links to their pages.

use app::{
    domain::{
        Actor, Change, Channel, ConsentState, Jurisdiction, Lang, Origin, Provenance, PurposeKey,
        Source,
    },
    services::{NoticeInput, Services, now},
};

/// The demo's first privacy notice (a short example a sender would replace with its own).
const DEMO_NOTICE_JA: &str = "\
1. 取得する情報: メールアドレス、電話番号、配信・同意の設定とその履歴。
2. 利用目的: ニュースレターの配信、お知らせの送付。
3. 第三者提供: 本人の同意なく第三者に提供しません。
4. 設定の変更: 配信・同意の設定ページからいつでも変更・停止できます。
5. お問い合わせ: privacy@example.jp";

const DEMO_NOTICE_EN: &str = "\
1. What we collect: your email address, phone number, and your preferences with their history.
2. Why: to send the newsletter and service notices.
3. Third parties: we do not provide your data to third parties without your consent.
4. Your choices: change or stop anything at any time on the preference page.
5. Contact: privacy@example.jp";

struct DemoSubject {
    external_id: &'static str,
    email: &'static str,
    phone: Option<&'static str>,
    lang: Lang,
    jurisdiction: Jurisdiction,
}

const SUBJECTS: [DemoSubject; 3] = [
    DemoSubject {
        external_id: "demo-hanako",
        email: "hanako@example.jp",
        phone: Some("+81 90 1234 5678"),
        lang: Lang::Ja,
        jurisdiction: Jurisdiction::Jp,
    },
    DemoSubject {
        external_id: "demo-alex",
        email: "alex@example.com",
        phone: None,
        lang: Lang::En,
        jurisdiction: Jurisdiction::Eu,
    },
    DemoSubject {
        external_id: "demo-taro",
        email: "taro@example.jp",
        phone: Some("+81 80 9876 5432"),
        lang: Lang::Ja,
        jurisdiction: Jurisdiction::Jp,
    },
];

/// Seeds the demo subjects into a database never used before (no subject, no admin); returns
/// (external id, link) for each. A database with anything in it gets nothing, so the demo's
/// owner (and the password printed for it) never appears in a real one.
pub async fn seed_if_empty(services: &Services) -> anyhow::Result<Vec<(String, String)>> {
    let admins = services
        .has_admins()
        .await
        .map_err(|r| anyhow::anyhow!(r.code))?;
    if admins || services.store.count_subjects().await? > 0 {
        tracing::info!("demo data not added: the database is already in use");
        return Ok(Vec::new());
    }
    if services
        .notices()
        .await
        .map_err(|r| anyhow::anyhow!(r.code))?
        .is_empty()
    {
        let first = NoticeInput {
            version: services.settings.notice_version.clone(),
            text_ja: DEMO_NOTICE_JA.into(),
            text_en: DEMO_NOTICE_EN.into(),
            ..NoticeInput::default()
        };
        services
            .publish_notice(first, "demo")
            .await
            .map_err(|r| anyhow::anyhow!("publishing the demo notice: {}", r.code))?;
    }
    let notice_version = services
        .notice_version()
        .await
        .map_err(|r| anyhow::anyhow!(r.code))?;
    let mut links = Vec::new();
    for s in SUBJECTS {
        let subject = services
            .create_subject_in(
                Some(s.external_id),
                Some(s.email),
                s.phone,
                s.lang,
                s.jurisdiction,
            )
            .await
            .map_err(|r| anyhow::anyhow!("creating demo subject {}: {}", s.external_id, r.code))?;
        // As if imported from the sign-up form: each agreed to the newsletter by email.
        let change = Change {
            subject: subject.id,
            purpose: PurposeKey::parse("newsletter")?,
            channel: Channel::Email,
            to: ConsentState::Granted,
            provenance: Provenance {
                occurred_at: now(),
                source: Source::Import,
                actor: Actor::System,
                notice_version: Some(notice_version.clone()),
                origin: Origin::default(),
                idempotency_key: None,
                reason: Some("demo data".into()),
                campaign: None,
                collection_point: None,
                import_batch: None,
                form_url: None,
                proof_ref: None,
            },
            reconfirm: false,
        };
        services.store.apply(vec![change]).await?;
        links.push((
            s.external_id.to_owned(),
            services.preference_link(subject.id),
        ));
    }
    Ok(links)
}

/// With the demo data, an owner account so the console can be tried at once: a random password,
/// printed once to the terminal that started the server.
pub async fn demo_owner(services: &Services) -> anyhow::Result<Option<(String, String)>> {
    if services
        .has_admins()
        .await
        .map_err(|r| anyhow::anyhow!(r.code))?
    {
        return Ok(None);
    }
    let email = "owner@example.jp".to_owned();
    let password = app::auth::random_token();
    services
        .create_admin(&email, app::auth::Role::Owner, &password)
        .await
        .map_err(|r| anyhow::anyhow!("creating the demo owner: {}", r.code))?;
    Ok(Some((email, password)))
}
