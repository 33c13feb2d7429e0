//! The law in the product, on SQLite and PostgreSQL: purposes configured against the law are
//! refused with the rule named (R39, R42, R48, R49), and each subject's jurisdiction picks the
//! purpose's mode that decides their effective value (R29: opt-in stays off until they act).

mod common;

use app::{
    auth::Role,
    domain::{Jurisdiction, Lang},
};
use common::server::servers;
use serde_json::Value;

/// A purpose form: `extra` fields are added (or replace the defaults of the same name).
fn purpose_form<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("key", "member_offers"),
        ("name_ja", "会員向けのご案内"),
        ("name_en", "Member offers"),
        ("description_ja", "会員向けの商品のご案内です。"),
        ("description_en", "Offers for members."),
        ("mode", "opt_out"),
        ("kind", "advertising"),
        ("channel_email", "on"),
    ];
    for (k, v) in extra {
        form.retain(|(f, _)| f != k);
        form.push((k, v));
    }
    form
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r39_r42_r48_r49_purposes_configured_against_the_law_are_refused_naming_the_rule() {
    for s in servers().await {
        let owner = s.signed_in(Role::Owner).await;
        let refused = |extra: Vec<(&'static str, &'static str)>| {
            let owner = &owner;
            async move {
                let res = owner
                    .call("admin/save_purpose", &purpose_form(&extra))
                    .await;
                assert_eq!(res.status(), 400);
                let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
                (
                    body["code"].as_str().unwrap().to_owned(),
                    body["message"].as_str().unwrap().to_owned(),
                )
            }
        };
        // R42: advertising mail by opt-out, with no Japanese mode of its own.
        let (code, message) = refused(vec![]).await;
        assert_eq!(code, "rule_jp_advertising_mail_opt_in", "{}", s.db.name());
        assert!(message.contains("Art. 3"), "{message}");
        // R39: Japan fixed, the EU still opt-out without a soft opt-in basis.
        let (code, _) = refused(vec![("mode_jp", "opt_in")]).await;
        assert_eq!(code, "rule_eu_advertising_mail_opt_in");
        // R48: third-party sharing by opt-out in Japan, no PPC filing; then no published items.
        let sharing = |more: &[(&'static str, &'static str)]| {
            let mut v = vec![
                ("kind", "third_party_sharing"),
                ("mode", "opt_in"),
                ("mode_jp", "opt_out"),
            ];
            v.extend_from_slice(more);
            v
        };
        let (code, message) = refused(sharing(&[])).await;
        assert_eq!(code, "rule_jp_third_party_needs_filing");
        assert!(message.contains("APPI Art. 27(2)"), "{message}");
        let filed = [("ppc_filed_on", "2026-04-01"), ("ppc_number", "PPC-0001")];
        let (code, _) = refused(sharing(&filed)).await;
        assert_eq!(code, "rule_jp_third_party_needs_notice");
        // R49: never by opt-out for sensitive, improperly acquired or opt-out-received data.
        let items = [
            ("data_items", "氏名、住所"),
            ("acquired_by", "会員登録"),
            ("provided_by", "電子ファイル"),
        ];
        for flag in ["sensitive", "improperly_acquired", "received_by_opt_out"] {
            let mut more = filed.to_vec();
            more.extend_from_slice(&items);
            more.push((flag, "on"));
            let (code, _) = refused(sharing(&more)).await;
            assert_eq!(code, "rule_jp_third_party_forbidden", "{flag}");
        }
        // Nothing refused was saved.
        assert!(
            !s.services
                .store
                .purposes()
                .await
                .unwrap()
                .iter()
                .any(|p| p.key.as_str() == "member_offers")
        );
        // With the filing and the items published, opt-out provision in Japan is accepted.
        let mut more = filed.to_vec();
        more.extend_from_slice(&items);
        let res = owner
            .call("admin/save_purpose", &purpose_form(&sharing(&more)))
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        // In Japanese, the message names the law in Japanese.
        assert!(
            app::i18n::error_message(Lang::Ja, "rule_jp_advertising_mail_opt_in")
                .contains("特定電子メール法 第3条")
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r29_the_subjects_jurisdiction_picks_the_mode_and_changing_it_rewrites_nothing() {
    for s in servers().await {
        let owner = s.signed_in(Role::Owner).await;
        // Opt-out by default, opt-in in Japan and the EU (a soft opt-in basis is not needed then).
        let res = owner
            .call(
                "admin/save_purpose",
                &purpose_form(&[("mode_jp", "opt_in"), ("mode_eu", "opt_in")]),
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let mut tokens = Vec::new();
        for (email, j) in [
            ("jp@law.example.jp", Jurisdiction::Jp),
            ("ca@law.example.com", Jurisdiction::UsCa),
        ] {
            let subject = s
                .services
                .create_subject_in(None, Some(email), None, Lang::En, j)
                .await
                .unwrap();
            assert_eq!(subject.jurisdiction, j);
            let link = s.services.preference_link(subject.id);
            tokens.push(link.rsplit_once("/p/").unwrap().1.to_owned());
        }
        let in_effect = |token: String| {
            let s = &s;
            async move {
                let res = s.get(&format!("/p/{token}/record.json"), "en").await;
                let record: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
                let cell = record["current"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["purpose"] == "member_offers" && c["channel"] == "email")
                    .cloned()
                    .unwrap();
                (cell["mode"].clone(), cell["in_effect"].as_bool().unwrap())
            }
        };
        // Japan: opt-in, off until the person says yes; California: the default, opt-out.
        assert_eq!(
            in_effect(tokens[0].clone()).await,
            ("opt_in".into(), false),
            "{}",
            s.db.name()
        );
        assert_eq!(in_effect(tokens[1].clone()).await, ("opt_out".into(), true));
        // The subject page in the console names the jurisdiction.
        let subject = s
            .services
            .store
            .find_subject("jp@law.example.jp")
            .await
            .unwrap()
            .unwrap();
        let page = owner
            .get(&format!("/admin/subjects/{}?lang=en", subject.id))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Jurisdiction<!>: <!>Japan"), "{page}");
        // The saved purpose keeps its modes and legal basis, and its version says so.
        let purposes = owner
            .get("/admin/purposes?lang=en")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            purposes.contains("opt_out; jp=opt_in,eu=opt_in"),
            "{purposes}"
        );
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r46_r48_the_privacy_policy_publishes_the_sender_and_the_appi_items() {
    for s in servers().await {
        let owner = s.signed_in(Role::Owner).await;
        let res = owner
            .call(
                "admin/save_purpose",
                &purpose_form(&[
                    ("key", "partner_sharing"),
                    ("name_ja", "提携先への提供"),
                    ("name_en", "Sharing with partners"),
                    ("kind", "third_party_sharing"),
                    ("mode", "opt_in"),
                    ("mode_jp", "opt_out"),
                    ("ppc_filed_on", "2026-04-01"),
                    ("ppc_number", "PPC-2026-0042"),
                    ("data_items", "氏名、住所、購入履歴"),
                    ("acquired_by", "会員登録フォーム"),
                    ("provided_by", "暗号化した電子ファイルの送付"),
                ]),
            )
            .await;
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let res = s.get("/privacy?lang=ja", "ja").await;
        assert_eq!(res.status(), 200);
        let page = res.text().await.unwrap();
        // R46: the sender display items; R48: the business's name, address and representative.
        for item in [
            "Example K.K.",
            "1-1 Chiyoda, Tokyo",
            "Hanako Yamada",
            "privacy@example.jp",
        ] {
            assert!(page.contains(item), "{item} missing ({})", s.db.name());
        }
        // R48: the opt-out provision's items, with the filing.
        let appi = page
            .split("data-appi=\"27-2\"")
            .nth(1)
            .expect("the APPI 27(2) section");
        for item in [
            "氏名、住所、購入履歴",
            "会員登録フォーム",
            "暗号化した電子ファイルの送付",
            "PPC-2026-0042",
            "2026-04-01",
            "停止",
        ] {
            assert!(appi.contains(item), "{item} missing");
        }
        // Purposes without opt-out provision carry no such section; English works too.
        assert_eq!(page.matches("data-appi=").count(), 1);
        let en = s.get("/privacy?lang=en", "en").await.text().await.unwrap();
        assert!(en.contains("Privacy policy") && en.contains("Global Privacy Control"));
        s.stop().await;
    }
}

/// Hardening 21 (R39, R42): a purpose's kind is required, and the advertising-mail rules guard
/// what a purpose does: marketing on email or SMS, whatever kind the owner picked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardening_21_a_purpose_needs_a_kind_and_marketing_mail_is_guarded_whatever_the_kind() {
    for s in servers().await {
        let db = s.db.name();
        let owner = s.signed_in(Role::Owner).await;
        let code_of = |res: reqwest::Response| async move {
            let status = res.status().as_u16();
            let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
            (status, body["code"].as_str().unwrap_or_default().to_owned())
        };
        let mut no_kind = purpose_form(&[("mode", "opt_in")]);
        no_kind.retain(|(k, _)| *k != "kind");
        let res = owner.call("admin/save_purpose", &no_kind).await;
        assert_eq!(
            code_of(res).await,
            (400, "purpose_kind_required".into()),
            "{db}"
        );
        // Marketing mail by opt-out, called "other": refused by the same rule as advertising.
        let res = owner
            .call(
                "admin/save_purpose",
                &purpose_form(&[("kind", "other"), ("marketing", "on")]),
            )
            .await;
        assert_eq!(
            code_of(res).await,
            (400, "rule_jp_advertising_mail_opt_in".into()),
            "{db}"
        );
        // Not marketing, by opt-out (service messages, say): allowed.
        let res = owner
            .call("admin/save_purpose", &purpose_form(&[("kind", "other")]))
            .await;
        assert_eq!(res.status(), 200, "{db}: {}", res.text().await.unwrap());
        s.stop().await;
    }
}

/// Hardening 15: a purpose's names reach mail headers (List-Id, subject lines), so a line break
/// in one is refused, and a name saved before this check is still written on one line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardening_15_no_line_break_reaches_a_mail_header_from_a_purpose_name() {
    for s in servers().await {
        let db = s.db.name();
        let owner = s.signed_in(Role::Owner).await;
        let res = owner
            .call(
                "admin/save_purpose",
                &purpose_form(&[
                    ("mode", "opt_in"),
                    ("name_en", "Offers\r\nBcc: everyone@example.com"),
                ]),
            )
            .await;
        assert_eq!(res.status(), 400, "{db}");
        let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        assert_eq!(body["code"], "control_characters", "{db}");

        // Saved before names were checked (straight into the store), and not ASCII.
        s.services.seed_purposes().await.unwrap();
        let mut legacy = app::domain::Purpose::seeds().remove(0);
        legacy.name_en = "Café news\r\nBcc: everyone@example.com".into();
        s.services
            .console
            .purpose_settings()
            .save_purpose(&legacy, "test")
            .await
            .unwrap();
        s.services.store.purposes_changed();
        let plan = s
            .services
            .link_plan(Some("newsletter"), Some("email"), None)
            .await
            .unwrap();
        assert!(
            !plan.list_id.contains(['\r', '\n']),
            "{db}: {:?}",
            plan.list_id
        );
        assert!(plan.list_id.starts_with("=?UTF-8?B?"), "{}", plan.list_id);
        assert!(plan.list_id.ends_with(" <newsletter.doui.test>"));
        s.stop().await;
    }
}
