//! The person's own consent record (GDPR Art. 20, R36) and a signed receipt of it (R23–R27).

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{Refusal, Services, Visitor, now};
use crate::domain::receipt::{
    Controller, ProvisionFact, ReceiptInput, RecipientParty, receipt_payload,
};
use crate::domain::webhook::WithdrawalDelivery;
use crate::token::Scope;

/// More events than one person ever makes; the record holds all of them.
const MAX_EVENTS: u32 = 1_000_000;

impl Services {
    /// The current choices, every event with its provenance, and a receipt signed (JWS, EdDSA)
    /// with the instance's key. Only for the whole preference center (a session or a full link),
    /// never for a link that only unsubscribes.
    pub async fn consent_record(&self, visitor: &Visitor) -> Result<Value, Refusal> {
        if visitor.scope != Scope::Everything {
            return Err(Refusal::new("narrow_link"));
        }
        let subject = &visitor.subject;
        let purposes = self.store.purposes().await?;
        let mut events = self
            .store
            .events_for_subject(subject.id, MAX_EVENTS)
            .await?;
        events.reverse();
        let consents = self.store.consents(subject.id).await?;
        let notices = self.store.notices().await?;
        let notice_version = self.notice_version().await?;
        let settings = &self.settings;
        let sender = &settings.sender;
        let controller = Controller {
            name: sender.name.clone(),
            postal_address: sender.postal_address.clone(),
            contact: sender.contact.clone(),
            url: settings.public_url.clone(),
            jurisdiction: sender.jurisdiction.clone(),
        };
        let issued_at = now();
        let verifier = self.signer.verifier();
        let public_key = verifier.to_text();
        let withdrawal_url = format!("{}/signin", settings.public_url);
        // R23: the recipients that exist, and (R51) what was provided to whom, each recipient as
        // it was when the data was provided.
        let party = |r: &crate::store::Recipient| RecipientParty {
            id: r.id.clone(),
            name: r.name.clone(),
            address: r.address.clone(),
            representative: r.representative.clone(),
        };
        let (recipients, (provided, notifications), points, do_not_sell) = tokio::try_join!(
            self.recipients(),
            self.provisions_with_withdrawals(subject.id),
            async { Ok(self.console.points().collection_points().await?) },
            self.do_not_sell_status_at(subject.id, issued_at),
        )?;
        let recipients: Vec<RecipientParty> = recipients.iter().map(party).collect();
        let provided: Vec<ProvisionFact> = provided
            .iter()
            .map(|(p, w)| ProvisionFact {
                withdrawal: *w,
                provided_at: p.provided_at,
                recipient: p.recipient_as_provided.as_ref().map_or_else(
                    || RecipientParty {
                        id: p.recipient.clone(),
                        name: p.recipient.clone(),
                        address: String::new(),
                        representative: String::new(),
                    },
                    party,
                ),
                purpose: p.purpose.to_string(),
                data_items: p.data_items.clone(),
            })
            .collect();
        let payload = receipt_payload(&ReceiptInput {
            receipt_id: Uuid::now_v7(),
            issued_at,
            subject,
            purposes: &purposes,
            events: &events,
            controller: &controller,
            notice_version: &notice_version,
            withdrawal_url: &withdrawal_url,
            public_key: &public_key,
            recipients: &recipients,
            provisions: &provided,
            collection_points: &points,
            do_not_sell: &do_not_sell.requests,
        });
        // Issue 34: a pause in force (its end) on each channel it holds, and how often the
        // person wants each purpose's messages.
        let (pauses, frequencies) = tokio::try_join!(
            self.pauses_in_force(subject.id),
            self.frequencies(subject.id),
        )?;
        let mut payload = payload;
        add_pauses_and_frequencies(&mut payload, &pauses, &frequencies);
        let receipt = crate::signing::jws(&self.signer, &payload);
        let time = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        let current: Vec<Value> = purposes
            .iter()
            .flat_map(|p| p.channels.iter().map(move |&ch| (p, ch)))
            .map(|(p, channel)| {
                let choice = consents
                    .iter()
                    .find(|c| c.purpose == p.key && c.channel == channel);
                json!({
                    "purpose": p.key.as_str(),
                    "channel": channel.key(),
                    "paused_until": pauses
                        .iter()
                        .find(|x| x.purpose == p.key && x.channel == channel)
                        .map(|x| time(x.until)),
                    "frequency": frequencies
                        .iter()
                        .find(|(k, _)| *k == p.key)
                        .map_or("every", |(_, f)| f.key()),
                    "mode": p.mode_for(subject.jurisdiction).key(),
                    "choice": choice.map(|c| c.state.key()),
                    "in_effect": super::consent_effect(&notices, p, subject.jurisdiction, choice, issued_at).on,
                    "since": choice.map(|c| time(c.updated_at)),
                    "source": choice.map(|c| c.source.key()),
                })
            })
            .collect();
        use crate::domain::receipt::collection_point_json;
        let history: Vec<Value> = events
            .iter()
            .map(|e| {
                let p = &e.provenance;
                json!({
                    "event_id": e.id,
                    "occurred_at": time(p.occurred_at),
                    "recorded_at": e.recorded_at.map(time),
                    "purpose": e.purpose.as_str(),
                    "channel": e.channel.key(),
                    "from": e.from.map(|s| s.key()),
                    "to": e.to.key(),
                    "source": p.source.key(),
                    "actor": p.actor.to_string(),
                    "notice_version": p.notice_version,
                    "origin_ip": p.origin.ip,
                    "user_agent": p.origin.user_agent,
                    "campaign": p.campaign,
                    "reason": p.reason,
                    "collection_point": collection_point_json(&points, p.collection_point.as_deref(), subject.lang),
                    "form_url": p.form_url,
                    "proof_ref": p.proof_ref,
                    "import_batch": p.import_batch,
                })
            })
            .collect();
        // APPI 第29条: what was provided of the person's data, to whom; and (R22) whether the
        // recipient was told of a withdrawal since, with every delivery recorded to it.
        let ms = |at: i64| time(super::provisions::ms_time(at));
        let provisions: Vec<Value> = provided
            .iter()
            .map(|p| {
                let w = &p.withdrawal;
                let told: Vec<Value> = notifications
                    .iter()
                    .filter(|n| n.recipient == p.recipient.id && n.purpose.as_str() == p.purpose)
                    .map(|n| {
                        json!({
                            "event_id": n.event_id,
                            "purpose": n.purpose.as_str(),
                            "state": n.state.key(),
                            "delivered_at": ms(n.delivered_at),
                            "endpoint_id": n.endpoint_id,
                        })
                    })
                    .collect();
                let withdrawal = w.map(|w| match w {
                    WithdrawalDelivery::Delivered(at) => {
                        json!({"delivered": true, "delivered_at": ms(at)})
                    }
                    WithdrawalDelivery::NotYet => json!({"delivered": false, "delivered_at": null}),
                });
                json!({
                    "provided_at": time(p.provided_at),
                    "recipient": p.recipient.name,
                    "recipient_id": p.recipient.id,
                    "recipient_address": p.recipient.address,
                    "recipient_representative": p.recipient.representative,
                    "purpose": p.purpose,
                    "data_items": p.data_items,
                    "withdrawal": withdrawal,
                    "notifications": told,
                })
            })
            .collect();
        // APPI 第30条: data about the person received from other businesses.
        let acquisitions: Vec<Value> = self
            .acquisitions(subject)
            .await?
            .into_iter()
            .map(|a| {
                json!({
                    "received_at": time(a.received_at),
                    "provider": {
                        "name": a.provider_name,
                        "address": a.provider_address,
                        "representative": a.provider_representative,
                    },
                    "acquired_by": a.acquired_by,
                    "data_items": a.data_items,
                })
            })
            .collect();
        Ok(json!({
            "format": "doui-consent-record/1",
            "generated_at": time(issued_at),
            "subject": {
                "id": subject.id.0,
                "external_id": subject.external_id.as_str(),
                "email": subject.email.as_ref().map(|e| e.as_str()),
                "phone": subject.phone.as_ref().map(|p| p.as_str()),
                "lang": subject.lang.key(),
            },
            "current": current,
            "history": history,
            "provisions": provisions,
            "acquisitions": acquisitions,
            // R57: the person's Do Not Sell or Share requests, and until when nobody may ask them
            // to allow sale or sharing again.
            "do_not_sell": {
                "requests": do_not_sell.requests.iter().map(|r| json!({
                    "received_at": time(r.received_at),
                    "via": r.via.key(),
                    "withdrawn": r.withdrawn,
                })).collect::<Vec<_>>(),
                "ask_again_refused_until": do_not_sell.ask_again_refused_until.map(time),
            },
            "receipt": receipt,
            "receipt_content": payload,
            "public_key": public_key,
            "key_id": verifier.id(),
            "how_to_verify": "`doui receipt verify FILE`, or any JOSE library: `receipt` is a compact JWS (alg EdDSA) checked with `public_key` (Ed25519, base64url).",
        }))
    }

    /// A visitor from a link token. Its signature is checked first (cheap, no database read);
    /// only refused tokens count against the client's address, so a valid one is never refused
    /// for what others sent from the same address.
    pub async fn visitor_from_token(
        &self,
        token: &str,
        ip: Option<std::net::IpAddr>,
    ) -> Result<Visitor, Refusal> {
        match self.visitor(token).await {
            Err(r)
                if matches!(
                    r.code,
                    "invalid_token" | "expired_token" | "link_revoked" | "unknown_subject"
                ) =>
            {
                Err(self.token_refused(ip, r).await)
            }
            other => other,
        }
    }
}

/// What `doui receipt verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub receipt_id: String,
    pub key_id: String,
    pub principal: String,
    pub issued_at: i64,
    pub purposes: usize,
    pub events: usize,
}

/// Checks a receipt: a bare compact JWS, or a consent record (JSON) holding one in `receipt`, in
/// which case its readable `receipt_content` must be exactly what was signed.
pub fn verify_receipt(
    text: &str,
    verifier: &crate::signing::Verifier,
) -> Result<VerifiedReceipt, String> {
    let text = text.trim();
    let (token, readable) = if text.starts_with('{') {
        let record: Value =
            serde_json::from_str(text).map_err(|e| format!("not a consent record: {e}"))?;
        let token = record["receipt"]
            .as_str()
            .ok_or("the record holds no `receipt`")?
            .to_owned();
        (token, Some(record["receipt_content"].clone()))
    } else {
        (text.to_owned(), None)
    };
    let payload = crate::signing::verify_jws(&token, verifier).map_err(|e| e.to_string())?;
    if let Some(readable) = readable
        && !readable.is_null()
        && readable != payload
    {
        return Err("the readable `receipt_content` differs from the signed receipt".into());
    }
    let record = &payload["record"];
    Ok(VerifiedReceipt {
        receipt_id: payload["receipt_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        key_id: verifier.id().to_owned(),
        principal: record["pii_principal_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        issued_at: payload["iat"].as_i64().unwrap_or_default(),
        purposes: record["purposes"].as_array().map_or(0, Vec::len),
        events: record["events"].as_array().map_or(0, Vec::len),
    })
}

/// Writes into a receipt's purposes the frequency each has (`every` unless chosen) and, on each
/// channel a pause holds, the pause's end (`paused_until`).
fn add_pauses_and_frequencies(
    payload: &mut Value,
    pauses: &[crate::store::Pause],
    frequencies: &[(crate::domain::PurposeKey, crate::domain::Frequency)],
) {
    let Some(purposes) = payload["record"]["purposes"].as_array_mut() else {
        return;
    };
    for purpose in purposes {
        let key = purpose["purpose"].as_str().unwrap_or_default().to_owned();
        purpose["frequency"] = json!(
            frequencies
                .iter()
                .find(|(k, _)| k.as_str() == key)
                .map_or("every", |(_, f)| f.key())
        );
        let Some(channels) = purpose["channels"].as_array_mut() else {
            continue;
        };
        for channel in channels {
            let name = channel["channel"].as_str().unwrap_or_default().to_owned();
            if let Some(p) = pauses
                .iter()
                .find(|p| p.purpose.as_str() == key && p.channel.key() == name)
            {
                channel["paused_until"] =
                    json!(crate::domain::rfc3339::Rfc3339Text::new(p.until).as_str());
            }
        }
    }
}
