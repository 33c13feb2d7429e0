//! Double opt-in (R12, R58): a request to subscribe an address to an opt-in email purpose is
//! kept with its evidence and answered with a confirmation mail; only the person's POST from
//! that mail's page grants the consent (a mail scanner opening the link changes nothing), and
//! the granted event carries all three steps. Pending requests expire.

use std::net::IpAddr;

use super::{Refusal, Services, now};
use crate::{
    auth::{OptInRequest, random_token, token_hash},
    domain::{
        Actor, Change, Channel, ConsentState, Email, Lang, Origin, Provenance, PurposeKey, Source,
        truncate_ip,
    },
    mail::opt_in_mail,
    store::Applied,
};

/// How long a confirmation link works.
pub const OPT_IN_HOURS: i64 = 48;

/// Where a subscription request came from (R58): the browser's address and user agent, and the
/// page the form was on.
#[derive(Debug, Clone, Default)]
pub struct RequestEvidence {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
    pub url: Option<String>,
}

/// What a confirmation page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptInPreview {
    pub purpose_name: String,
    pub email: String,
    pub lang: Lang,
}

impl Services {
    /// Records a request to subscribe `email` to `purpose` by email and mails the confirmation
    /// link. The answer is the same for every address; nothing is granted yet.
    pub async fn request_opt_in(
        &self,
        email: &str,
        purpose: &str,
        lang: Lang,
        evidence: RequestEvidence,
    ) -> Result<(), Refusal> {
        let email = Email::parse(email)?;
        let purpose = PurposeKey::parse(purpose.trim())?;
        let notice_version = self.notice_version().await?;
        self.open_opt_in(email, vec![purpose], lang, evidence, notice_version, None)
            .await
    }

    /// Keeps a double opt-in request for `purposes` (the first is the request's `purpose`, the
    /// rest `also_purposes`; each must apply to email) and mails its confirmation link, after
    /// the mail limits. `form` names the collection point and the form's version it came from.
    pub(super) async fn open_opt_in(
        &self,
        email: Email,
        purposes: Vec<PurposeKey>,
        lang: Lang,
        evidence: RequestEvidence,
        notice_version: String,
        form: Option<(String, i64)>,
    ) -> Result<(), Refusal> {
        let known = self.store.purposes().await?;
        let mut names = Vec::with_capacity(purposes.len());
        for key in &purposes {
            let p = known
                .iter()
                .find(|p| &p.key == key)
                .ok_or(Refusal::new("unknown_purpose"))?;
            if !p.applies_to(Channel::Email) {
                return Err(Refusal::new("channel_not_applicable"));
            }
            names.push(p.name(lang).to_owned());
        }
        let Some((purpose, also_purposes)) = purposes.split_first() else {
            return Err(Refusal::new("unknown_purpose"));
        };
        // The sign-in limits: a form that mails strangers must not become a mail cannon.
        self.hit_mail_limits(evidence.ip, &email).await?;
        let token = random_token();
        let hash = token_hash(&token);
        let at = now();
        let (collection_point, form_version) = form.unzip();
        let request = OptInRequest {
            mail_ref: format!("doi-{}", &hash[..16]),
            token_hash: hash,
            email: email.as_str().to_owned(),
            purpose: purpose.clone(),
            lang,
            requested_at: at,
            expires_at: at + time::Duration::hours(OPT_IN_HOURS),
            origin: Origin {
                ip: evidence.ip.map(truncate_ip),
                user_agent: evidence.user_agent.map(|u| u.chars().take(300).collect()),
            },
            // The form's page, without its query or fragment: they may carry the address.
            url: evidence.url.map(|u| {
                let page = u.split(['?', '#']).next().unwrap_or_default();
                page.chars().take(500).collect()
            }),
            notice_version,
            confirmed_at: None,
            collection_point,
            form_version,
            also_purposes: also_purposes.to_vec(),
        };
        self.identity.create_opt_in_request(&request).await?;
        let link = format!("{}/confirm/{token}", self.settings.public_url);
        let mail = opt_in_mail(
            lang,
            email.as_str(),
            &link,
            &join_names(lang, &names),
            OPT_IN_HOURS,
            &request.mail_ref,
            &self.settings.sender,
        );
        self.mail_in_background(mail, "double opt-in confirmation");
        Ok(())
    }

    /// What a confirmation link would confirm; changes nothing (mail scanners open links).
    pub async fn opt_in_preview(&self, token: &str) -> Result<OptInPreview, Refusal> {
        let request = self.usable_opt_in(token).await?;
        let p = self.store.purposes().await?;
        let names = std::iter::once(&request.purpose)
            .chain(&request.also_purposes)
            .map(|key| {
                p.iter()
                    .find(|p| &p.key == key)
                    .map(|p| p.name(request.lang).to_owned())
                    .ok_or(Refusal::new("unknown_purpose"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OptInPreview {
            purpose_name: join_names(request.lang, &names),
            email: super::mask_email(&request.email),
            lang: request.lang,
        })
    }

    /// The person's confirmation: grants the purpose by email to the address (a new subject if
    /// it has none), with the request, the mail and the click as the event's evidence. Once.
    pub async fn confirm_opt_in(
        &self,
        token: &str,
        click: Origin,
    ) -> Result<Vec<Applied>, Refusal> {
        let request = self.usable_opt_in(token).await?;
        let purposes: Vec<PurposeKey> = std::iter::once(request.purpose.clone())
            .chain(request.also_purposes.iter().cloned())
            .collect();
        if let Some(subject) = self.store.find_subject(&request.email).await? {
            for key in &purposes {
                if let Ok(purpose) = self.purpose(key.as_str()).await {
                    self.check_objection(subject.id, &purpose, ConsentState::Granted)
                        .await?;
                }
            }
        }
        // A retired collection point names no new event: its form's pending requests lapse.
        if let Some(point) = &request.collection_point
            && self
                .console
                .points()
                .collection_point(point)
                .await?
                .is_none_or(|p| p.is_retired())
        {
            return Err(Refusal::new("collection_point_retired"));
        }
        let at = now();
        if !self
            .identity
            .confirm_opt_in_request(&request.token_hash, at)
            .await?
        {
            return Err(Refusal::new("opt_in_link_invalid"));
        }
        let subject = match self.store.find_subject(&request.email).await? {
            Some(s) => s,
            // The person's own confirmed sign-up may bring back an address erased before.
            None => {
                let email = crate::domain::Email::parse(&request.email)?;
                self.insert_subject(
                    crate::domain::SubjectId(uuid::Uuid::now_v7()),
                    None,
                    Some(email),
                    None,
                    request.lang,
                    crate::domain::Jurisdiction::Default,
                )
                .await?
            }
        };
        let time = |t: time::OffsetDateTime| {
            t.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let evidence = serde_json::json!({
            "double_opt_in": {
                "requested_at": time(request.requested_at),
                "request_ip": request.origin.ip,
                "request_user_agent": request.origin.user_agent,
                "request_url": request.url,
                "notice_version": request.notice_version,
                "confirmation_mail": request.mail_ref,
                "confirmed_at": time(at),
                "collection_point": request.collection_point,
                "form_version": request.form_version,
            }
        });
        let changes = purposes
            .into_iter()
            .map(|purpose| Change {
                subject: subject.id,
                purpose,
                channel: Channel::Email,
                to: ConsentState::Granted,
                provenance: Provenance {
                    occurred_at: at,
                    source: Source::Link,
                    actor: Actor::Subject,
                    notice_version: Some(request.notice_version.clone()),
                    origin: click.clone(),
                    idempotency_key: None,
                    reason: Some(evidence.to_string()),
                    campaign: None,
                    collection_point: request.collection_point.clone(),
                    import_batch: None,
                    form_url: request.collection_point.as_ref().and(request.url.clone()),
                    proof_ref: None,
                },
                reconfirm: false,
            })
            .collect();
        tracing::info!(subject = %subject.id, purpose = %request.purpose, "double opt-in confirmed");
        Ok(self.store.apply(changes).await?)
    }

    async fn usable_opt_in(&self, token: &str) -> Result<OptInRequest, Refusal> {
        let request = self
            .identity
            .opt_in_request(&token_hash(token.trim()))
            .await?
            .ok_or(Refusal::new("opt_in_link_invalid"))?;
        if !request.is_usable(now()) {
            return Err(Refusal::new("opt_in_link_invalid"));
        }
        Ok(request)
    }
}

/// Purpose names in a sentence: 「A」「B」 reads as 「A、B」, "A" "B" as "A, B".
pub(super) fn join_names(lang: Lang, names: &[String]) -> String {
    names.join(match lang {
        Lang::Ja => "、",
        Lang::En => ", ",
    })
}
