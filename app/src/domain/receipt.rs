//! The consent record a person can take away: the current choices and every event, shaped as an
//! ISO/IEC TS 27560 consent record with a Kantara Consent Receipt v1.1 view of the same facts.
//! Pure: the caller passes the clock, ids and settings; signing happens outside.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{Channel, ConsentEvent, ConsentState, Mode, Purpose, Subject, effective};

/// The 27560 schema this record follows.
pub const SCHEMA_VERSION: &str = "ISO/IEC TS 27560:2023";
/// The Kantara view's version.
pub const KANTARA_VERSION: &str = "KI-CR-v1.1.0";

/// Who keeps the record (the controller) and where the person acts on it.
#[derive(Debug, Clone)]
pub struct Controller {
    pub name: String,
    pub postal_address: String,
    pub contact: String,
    /// The instance's public URL.
    pub url: String,
    /// ISO 3166 code of the controller's jurisdiction (e.g. `JP`).
    pub jurisdiction: String,
}

/// A third party the person's data may be provided to (an APPI recipient), as a receipt names
/// it: its registered identity, or, on a provision, the identity it had when the data was
/// provided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientParty {
    pub id: String,
    pub name: String,
    pub address: String,
    pub representative: String,
}

/// One provision of the person's data to a recipient (APPI 第29条).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionFact {
    pub provided_at: OffsetDateTime,
    /// The recipient as it was when the data was provided.
    pub recipient: RecipientParty,
    pub purpose: String,
    pub data_items: String,
    /// Set when the sharing was withdrawn after it: whether the recipient was told (R22).
    pub withdrawal: Option<super::webhook::WithdrawalDelivery>,
}

/// The sensitivity category of a purpose whose data includes 要配慮個人情報 (the one category
/// Doui records: APPI Art. 2(3); GDPR Art. 9's special categories are of the same kind).
pub const SPECIAL_CARE_CATEGORY: &str =
    "要配慮個人情報 (special care-required personal information, APPI Art. 2(3))";

/// The sensitivity categories of a purpose's data (R24): its category, with the data items
/// the purpose records when it has any.
pub fn sensitive_categories(p: &Purpose) -> Vec<String> {
    if !p.legal.sensitive {
        return Vec::new();
    }
    let items = p.legal.data_items.trim();
    vec![if items.is_empty() {
        SPECIAL_CARE_CATEGORY.to_owned()
    } else {
        format!("{SPECIAL_CARE_CATEGORY}: {items}")
    }]
}

impl RecipientParty {
    fn json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "address": self.address,
            "representative": self.representative, "type": "recipient",
        })
    }
}

/// Everything a receipt says, gathered by the caller.
pub struct ReceiptInput<'a> {
    pub receipt_id: Uuid,
    pub issued_at: OffsetDateTime,
    pub subject: &'a Subject,
    pub purposes: &'a [Purpose],
    /// The subject's events, oldest first.
    pub events: &'a [ConsentEvent],
    pub controller: &'a Controller,
    /// The privacy notice version now shown.
    pub notice_version: &'a str,
    /// Where the person changes or withdraws (their preference center).
    pub withdrawal_url: &'a str,
    /// The public key (base64url Ed25519) the receipt is signed with.
    pub public_key: &'a str,
    /// The recipients registered now: the third parties data may be provided to.
    pub recipients: &'a [RecipientParty],
    /// What was provided of the person's data, to whom (newest first).
    pub provisions: &'a [ProvisionFact],
    /// The registered collection points (those the events name are described in the receipt).
    pub collection_points: &'a [crate::domain::CollectionPoint],
    /// The person's Do Not Sell or Share requests (CCPA; R57), newest first.
    pub do_not_sell: &'a [crate::domain::DoNotSellRequest],
}

/// Where a consent was collected, for a receipt or a record: the collection point's key, its
/// name in `lang`, its kind, place, the SHA-256 of the wording shown and the notice version it
/// presents (ISO/IEC TS 27560 collection method). `null` for an event that names none; only the
/// key when the point is not registered.
pub fn collection_point_json(
    points: &[crate::domain::CollectionPoint],
    key: Option<&str>,
    lang: crate::domain::Lang,
) -> Value {
    let Some(key) = key else {
        return Value::Null;
    };
    match points.iter().find(|p| p.key == key) {
        Some(p) => json!({
            "key": p.key,
            "name": p.name(lang),
            "kind": p.kind.key(),
            "location": p.location,
            "wording_sha256": p.wording_sha256,
            "notice_version": p.notice_version,
        }),
        None => json!({ "key": key }),
    }
}

/// The 27560 lifecycle word of a change (R25): a first yes is `given`, a first no `refused`, a
/// yes after a no `given` again, a no after a yes `withdrawn`.
pub const fn lifecycle(from: Option<ConsentState>, to: ConsentState) -> &'static str {
    match (from, to) {
        (_, ConsentState::Granted) => "given",
        (None, ConsentState::Withdrawn) => "refused",
        (Some(_), ConsentState::Withdrawn) => "withdrawn",
    }
}

/// The personal data a channel uses.
pub const fn pii_type(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "email address",
        Channel::Sms | Channel::Phone => "phone number",
        Channel::Push => "device push token",
        Channel::Postal => "postal address",
        Channel::Web => "online identifier",
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The receipt's claims (the JWS payload).
pub fn receipt_payload(input: &ReceiptInput<'_>) -> Value {
    let c = input.controller;
    let party = json!({
        "id": c.url, "name": c.name, "address": c.postal_address, "contact": c.contact,
        "type": "controller",
    });
    // The latest event of each purpose and channel is its current choice.
    let mut latest: BTreeMap<(String, Channel), &ConsentEvent> = BTreeMap::new();
    for e in input.events {
        latest.insert((e.purpose.to_string(), e.channel), e);
    }
    let mut purposes = Vec::new();
    let mut kantara_purposes = Vec::new();
    let mut spi_categories: Vec<String> = Vec::new();
    let recipient_names: Vec<&str> = input.recipients.iter().map(|r| r.name.as_str()).collect();
    // The state this receipt shows dates from the person's latest change.
    let consent_timestamp = input
        .events
        .iter()
        .map(|e| e.provenance.occurred_at)
        .max()
        .unwrap_or(input.issued_at);
    for p in input.purposes {
        let mode = p.mode_for(input.subject.jurisdiction);
        let mut channels = Vec::new();
        for &channel in &p.channels {
            let last = latest.get(&(p.key.to_string(), channel)).copied();
            let on = effective(mode, last.map(|e| e.to));
            channels.push(match last {
                Some(e) => json!({
                    "channel": channel.key(),
                    "state": if on { "active" } else { "inactive" },
                    "status": lifecycle(e.from, e.to),
                    "since": rfc3339(e.provenance.occurred_at),
                    "collection_method": e.provenance.source.key(),
                    "collection_point": collection_point_json(input.collection_points, e.provenance.collection_point.as_deref(), input.subject.lang),
                    "notice_version": e.provenance.notice_version,
                    "event_id": e.id,
                }),
                // No choice yet: the purpose's mode decides (an opt-out purpose applies).
                None => json!({
                    "channel": channel.key(),
                    "state": if on { "active" } else { "inactive" },
                    "status": if on { "not_objected" } else { "not_given" },
                }),
            });
        }
        let pii: Vec<&str> = {
            let mut v: Vec<&str> = p.channels.iter().map(|&ch| pii_type(ch)).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let third_party = p.kind == crate::domain::PurposeKind::ThirdPartySharing;
        let sensitive = sensitive_categories(p);
        spi_categories.extend(sensitive.iter().cloned());
        let lawful_basis = match mode {
            Mode::OptIn => "consent",
            Mode::OptOut => "opt-out (objection honoured)",
        };
        purposes.push(json!({
            "purpose": p.key.as_str(),
            "name": {"ja": p.name_ja, "en": p.name_en},
            "description": {"ja": p.description_ja, "en": p.description_en},
            "purpose_type": if p.marketing { "marketing" } else { "service" },
            "mode": mode.key(),
            "lawful_basis": lawful_basis,
            "pii_types": pii,
            "processing": ["use", "contact"],
            "sensitive": p.legal.sensitive,
            "sensitive_categories": sensitive,
            "third_party_disclosure": third_party,
            "recipients": if third_party { input.recipients.iter().map(|r| r.id.as_str()).collect() } else { Vec::new() },
            "channels": channels,
        }));
        kantara_purposes.push(json!({
            "purpose": p.name_en,
            "purposeCategory": [if p.marketing { "Marketing" } else { "Service" }],
            "consentType": match mode { Mode::OptIn => "EXPLICIT", Mode::OptOut => "OPT-OUT" },
            "piiCategory": pii,
            "primaryPurpose": false,
            "termination": format!("Withdraw at any time: {}", input.withdrawal_url),
            "thirdPartyDisclosure": third_party,
            "thirdPartyName": if third_party { recipient_names.join(", ") } else { String::new() },
        }));
    }
    let events: Vec<Value> = input
        .events
        .iter()
        .map(|e| {
            let pv = &e.provenance;
            json!({
                "event_id": e.id,
                "time": rfc3339(pv.occurred_at),
                "recorded_at": e.recorded_at.map(rfc3339),
                "purpose": e.purpose.as_str(),
                "channel": e.channel.key(),
                "type": lifecycle(e.from, e.to),
                "state": if e.to == ConsentState::Granted { "active" } else { "inactive" },
                "entity": pv.actor.to_string(),
                "collection_method": pv.source.key(),
                "collection_point": collection_point_json(input.collection_points, pv.collection_point.as_deref(), input.subject.lang),
                "notice_version": pv.notice_version,
                "reason": pv.reason,
            })
        })
        .collect();
    spi_categories.sort_unstable();
    spi_categories.dedup();
    let recipients: Vec<Value> = input.recipients.iter().map(RecipientParty::json).collect();
    let mut parties = vec![party.clone()];
    parties.extend(recipients.iter().cloned());
    let provisions: Vec<Value> = input
        .provisions
        .iter()
        .map(|p| {
            // R22: after a withdrawal of the sharing, when the recipient was told (null: not yet).
            let withdrawal = p.withdrawal.map(|w| match w {
                super::webhook::WithdrawalDelivery::Delivered(ms) => json!({
                    "delivered_at": time::OffsetDateTime::from_unix_timestamp_nanos(
                        i128::from(ms) * 1_000_000
                    )
                    .ok()
                    .map(rfc3339),
                }),
                super::webhook::WithdrawalDelivery::NotYet => json!({"delivered_at": null}),
            });
            let mut provision = json!({
                "time": rfc3339(p.provided_at),
                "recipient": p.recipient.json(),
                "purpose": p.purpose,
                "data_items": p.data_items,
            });
            if let Some(w) = withdrawal {
                provision["withdrawal_notice"] = w;
            }
            provision
        })
        .collect();
    let s = input.subject;
    let principal = s.external_id.as_str();
    json!({
        "iss": c.url,
        "iat": input.issued_at.unix_timestamp(),
        "jti": input.receipt_id,
        "receipt_id": input.receipt_id,
        "schema_version": SCHEMA_VERSION,
        "record": {
            "schema_version": SCHEMA_VERSION,
            "record_id": s.id.0,
            "pii_principal_id": principal,
            "language": s.lang.key(),
            "jurisdiction": c.jurisdiction,
            "notice": {"version": input.notice_version, "url": format!("{}/privacy", c.url)},
            "controllers": [party.clone()],
            "parties": parties,
            "storage_locations": [c.url],
            "retention": "Consent evidence is kept as long as the law requires after the last message (at least 1 month under 特定電子メール法, 3 years for records under 個人情報保護法 and 特定商取引法).",
            "recipients": recipients,
            "provisions": provisions,
            // R57: each opt-out of sale and sharing, when and how it arrived.
            "do_not_sell": input.do_not_sell.iter().map(|r| json!({
                "time": rfc3339(r.received_at),
                "via": r.via.key(),
                "withdrawn": r.withdrawn,
            })).collect::<Vec<_>>(),
            "sensitive_categories": spi_categories,
            "withdrawal_method": input.withdrawal_url,
            "purposes": purposes,
            "events": events,
            "issued_at": rfc3339(input.issued_at),
        },
        "kantara": {
            "version": KANTARA_VERSION,
            "jurisdiction": c.jurisdiction,
            "consentTimestamp": consent_timestamp.unix_timestamp(),
            "collectionMethod": "Doui preference center, signed links and one-click unsubscribe",
            "consentReceiptID": input.receipt_id,
            "publicKey": input.public_key,
            "language": s.lang.key(),
            "piiPrincipalId": principal,
            "piiControllers": [{
                "piiController": c.name,
                "contact": c.contact,
                "address": c.postal_address,
                "email": c.contact,
                "piiControllerUrl": c.url,
                "onBehalf": false,
            }],
            "policyUrl": format!("{}/privacy", c.url),
            "services": [{"service": c.name, "purposes": kantara_purposes}],
            "sensitive": !spi_categories.is_empty(),
            "spiCat": spi_categories,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Actor, Change, Decision, Lang, Origin, Provenance, PurposeKey, Source, SubjectId, decide,
    };
    use time::macros::datetime;

    fn subject() -> Subject {
        Subject {
            id: SubjectId(Uuid::from_u128(7)),
            external_id: crate::domain::ExternalId::parse("cust-7").unwrap(),
            email: None,
            phone: None,
            lang: Lang::Ja,
            jurisdiction: crate::domain::Jurisdiction::Jp,
            erased_at: None,
            time_zone: None,
        }
    }

    fn event(from: Option<ConsentState>, to: ConsentState, at: OffsetDateTime) -> ConsentEvent {
        let change = Change {
            subject: SubjectId(Uuid::from_u128(7)),
            purpose: PurposeKey::parse("newsletter").unwrap(),
            channel: Channel::Email,
            to,
            provenance: Provenance {
                occurred_at: at,
                source: Source::PreferenceCenter,
                actor: Actor::Subject,
                notice_version: Some("2.0".into()),
                origin: Origin::default(),
                idempotency_key: None,
                reason: None,
                campaign: None,
                collection_point: None,
                import_batch: None,
                form_url: None,
                proof_ref: None,
            },
            reconfirm: false,
        };
        match decide(from, change, Uuid::from_u128(at.unix_timestamp() as u128)) {
            Decision::Record(e) => e,
            _ => unreachable!(),
        }
    }

    #[test]
    fn lifecycle_words_follow_27560() {
        use ConsentState::*;
        assert_eq!(lifecycle(None, Granted), "given");
        assert_eq!(lifecycle(None, Withdrawn), "refused");
        assert_eq!(lifecycle(Some(Granted), Withdrawn), "withdrawn");
        assert_eq!(lifecycle(Some(Withdrawn), Granted), "given");
    }

    #[test]
    fn the_record_carries_the_mandatory_fields_and_the_kantara_view() {
        let purposes = Purpose::seeds();
        let events = vec![
            event(None, ConsentState::Granted, datetime!(2026-01-01 0:00 UTC)),
            event(
                Some(ConsentState::Granted),
                ConsentState::Withdrawn,
                datetime!(2026-02-01 0:00 UTC),
            ),
        ];
        let controller = Controller {
            name: "Example K.K.".into(),
            postal_address: "Tokyo".into(),
            contact: "privacy@example.jp".into(),
            url: "https://p.example.jp".into(),
            jurisdiction: "JP".into(),
        };
        let subject = subject();
        let v = receipt_payload(&ReceiptInput {
            receipt_id: Uuid::from_u128(99),
            issued_at: datetime!(2026-03-01 0:00 UTC),
            subject: &subject,
            purposes: &purposes,
            events: &events,
            controller: &controller,
            notice_version: "2.0",
            withdrawal_url: "https://p.example.jp/me",
            public_key: "PK",
            recipients: &[],
            provisions: &[],
            collection_points: &[],
            do_not_sell: &[],
        });
        let r = &v["record"];
        // R23, R26: the mandatory fields.
        for field in [
            "schema_version",
            "record_id",
            "pii_principal_id",
            "notice",
            "language",
            "purposes",
            "controllers",
            "storage_locations",
            "retention",
            "jurisdiction",
            "recipients",
            "withdrawal_method",
            "parties",
            "events",
        ] {
            assert!(!r[field].is_null(), "record.{field}");
        }
        assert_eq!(v["receipt_id"], json!(Uuid::from_u128(99)));
        assert_eq!(r["pii_principal_id"], "cust-7");
        // R25: the newsletter's history and its current, withdrawn state.
        let kinds: Vec<&str> = r["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["given", "withdrawn"]);
        let newsletter = &r["purposes"][0];
        assert_eq!(newsletter["purpose"], "newsletter");
        assert_eq!(newsletter["lawful_basis"], "consent");
        let email = &newsletter["channels"][0];
        assert_eq!(
            (&email["state"], &email["status"]),
            (&json!("inactive"), &json!("withdrawn"))
        );
        // An opt-out purpose with no choice applies until the person objects.
        let sharing = r["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["purpose"] == "third_party_sharing")
            .unwrap();
        assert_eq!(sharing["third_party_disclosure"], true);
        // R27: the Kantara view.
        let k = &v["kantara"];
        assert_eq!(k["version"], "KI-CR-v1.1.0");
        assert_eq!(
            k["consentTimestamp"],
            datetime!(2026-02-01 0:00 UTC).unix_timestamp()
        );
        for field in [
            "jurisdiction",
            "collectionMethod",
            "consentReceiptID",
            "piiPrincipalId",
            "piiControllers",
            "policyUrl",
            "services",
            "sensitive",
            "spiCat",
        ] {
            assert!(!k[field].is_null(), "kantara.{field}");
        }
        let kp = &k["services"][0]["purposes"][0];
        for field in [
            "purposeCategory",
            "consentType",
            "piiCategory",
            "primaryPurpose",
            "termination",
            "thirdPartyDisclosure",
        ] {
            assert!(!kp[field].is_null(), "kantara purpose {field}");
        }
    }
}
