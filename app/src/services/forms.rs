//! Embeddable signup forms (issue 34 item 6): an owner gives a collection point a form (the
//! purposes it offers, the origins that may frame it or post to it); a visitor's submission,
//! from the hosted page or another site's own page, only asks for a double opt-in (R12, R58):
//! nothing is granted until the person confirms from the mail, and the granted events name the
//! collection point. A filled honeypot is dropped silently; the mail limits apply as for every
//! mail sent on request, shared by the instances.

use super::{Refusal, Services, double_opt_in::RequestEvidence, now};
use crate::domain::{
    CollectionPoint, Email, Lang, MAX_FORM_ORIGINS, MAX_FORM_PURPOSES, Purpose, PurposeKey,
    SignupForm, check_collection_point_key, check_form_origin,
};

/// How long a form's hidden token is accepted after the page was shown.
pub const FORM_TOKEN_SECS: i64 = 2 * 3600;

/// What a form page shows: the point (its name and wording), the form, the purposes offered.
#[derive(Debug, Clone)]
pub struct FormPage {
    pub point: CollectionPoint,
    pub form: SignupForm,
    pub purposes: Vec<Purpose>,
}

/// A visitor's submission, as the hosted form or another site's page sent it.
#[derive(Debug, Clone, Default)]
pub struct FormSubmission {
    pub email: String,
    /// The purposes ticked (keys); empty when the form offers one purpose: that one.
    pub purposes: Vec<String>,
    pub lang: Option<Lang>,
    /// The field people never see; anything in it means a robot filled the form.
    pub honeypot: String,
}

/// What became of a submission. Both look the same to the visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormOutcome {
    /// A confirmation mail is on its way.
    Mailed,
    /// The honeypot was filled: nothing kept, nothing mailed.
    Dropped,
}

impl Services {
    /// The form a collection point offers now: `unknown_form` when there is no such point or
    /// it has no form switched on, `form_retired` when the point is retired.
    pub async fn signup_form_page(&self, key: &str) -> Result<FormPage, Refusal> {
        check_collection_point_key(key).map_err(|_| Refusal::new("unknown_form"))?;
        let (point, form, purposes) = tokio::try_join!(
            async { Ok::<_, Refusal>(self.console.points().collection_point(key).await?) },
            async { Ok::<_, Refusal>(self.console.signup_form(key).await?) },
            async { Ok::<_, Refusal>(self.store.purposes().await?) },
        )?;
        let point = point.ok_or(Refusal::new("unknown_form"))?;
        if point.is_retired() {
            return Err(Refusal::new("form_retired"));
        }
        let form = form
            .filter(SignupForm::is_on)
            .ok_or(Refusal::new("unknown_form"))?;
        let purposes = form
            .purposes
            .iter()
            .filter_map(|k| purposes.iter().find(|p| &p.key == k).cloned())
            .collect();
        Ok(FormPage {
            point,
            form,
            purposes,
        })
    }

    /// Every point's form as it stands now (switched off ones too), by point.
    pub async fn signup_forms(&self) -> Result<Vec<SignupForm>, Refusal> {
        Ok(self.console.signup_forms().await?)
    }

    /// Sets a collection point's form on behalf of `by` (owner or CLI): a new version offering
    /// `purposes` (opt-in purposes that apply to email; none switches the form off) to the
    /// `origins` listed (exact `https://host[:port]`, `http` for loopback hosts only).
    pub async fn set_signup_form(
        &self,
        key: &str,
        purposes: &[String],
        origins: &[String],
        by: &str,
    ) -> Result<SignupForm, Refusal> {
        check_collection_point_key(key).map_err(|_| Refusal::new("unknown_collection_point"))?;
        let point = self
            .console
            .points()
            .collection_point(key)
            .await?
            .ok_or(Refusal::new("unknown_collection_point"))?;
        if point.is_retired() {
            return Err(Refusal::new("collection_point_retired"));
        }
        let known = self.store.purposes().await?;
        let mut offered: Vec<PurposeKey> = Vec::new();
        for p in purposes.iter().flat_map(|p| p.split([',', ' '])) {
            let p = p.trim();
            if p.is_empty() {
                continue;
            }
            let key = PurposeKey::parse(p).map_err(|_| Refusal::new("form_purpose_invalid"))?;
            let purpose = known
                .iter()
                .find(|k| k.key == key)
                .ok_or(Refusal::new("form_purpose_invalid"))?;
            if !purpose.applies_to(crate::domain::Channel::Email) {
                return Err(Refusal::new("form_purpose_invalid"));
            }
            if !offered.contains(&key) {
                offered.push(key);
            }
        }
        let mut listed: Vec<String> = Vec::new();
        for o in origins.iter().flat_map(|o| o.split([',', ' ', '\n'])) {
            if o.trim().is_empty() {
                continue;
            }
            let o = check_form_origin(o)?;
            if !listed.contains(&o) {
                listed.push(o);
            }
        }
        if offered.len() > MAX_FORM_PURPOSES || listed.len() > MAX_FORM_ORIGINS {
            return Err(Refusal::new("form_too_large"));
        }
        let version = self
            .console
            .signup_form(key)
            .await?
            .map_or(1, |f| f.version + 1);
        let form = SignupForm {
            point: point.key,
            version,
            purposes: offered,
            origins: listed,
            created_at: now(),
            created_by: by.to_owned(),
        };
        self.console
            .add_signup_form(&form)
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(_) => Refusal::new("form_changed_meanwhile"),
                e => e.into(),
            })?;
        tracing::info!(collection_point = %form.point, version, on = form.is_on(), by, "signup form set");
        Ok(form)
    }

    /// The hidden token a form page carries: bound to the form and the time it was shown.
    pub fn signup_form_token(&self, key: &str) -> String {
        self.csrf.signup_form_token(key, now().unix_timestamp())
    }

    /// Whether a form's hidden token was made here for this form, recently.
    pub fn signup_form_token_valid(&self, key: &str, token: &str) -> bool {
        self.csrf
            .signup_form_token_valid(token, key, now().unix_timestamp(), FORM_TOKEN_SECS)
    }

    /// A visitor's submission: a filled honeypot is dropped (counted, nothing kept or mailed);
    /// otherwise the address and the purposes ticked (some of those the form offers) become a
    /// double opt-in request naming the point and the form's version, under the notice the point
    /// presents (or the one in force). Known and unknown addresses are answered alike.
    pub async fn submit_signup_form(
        &self,
        key: &str,
        submission: FormSubmission,
        lang: Lang,
        evidence: RequestEvidence,
    ) -> Result<FormOutcome, Refusal> {
        let page = self.signup_form_page(key).await?;
        if !submission.honeypot.trim().is_empty() {
            metrics::counter!("doui_form_honeypot_total").increment(1);
            tracing::info!(collection_point = %key, "signup form honeypot filled: dropped");
            return Ok(FormOutcome::Dropped);
        }
        let email = Email::parse(submission.email.trim())?;
        let mut asked: Vec<PurposeKey> = Vec::new();
        for p in &submission.purposes {
            let key =
                PurposeKey::parse(p.trim()).map_err(|_| Refusal::new("form_purpose_invalid"))?;
            if !page.form.purposes.contains(&key) {
                return Err(Refusal::new("form_purpose_invalid"));
            }
            if !asked.contains(&key) {
                asked.push(key);
            }
        }
        if asked.is_empty() {
            if let [only] = page.form.purposes.as_slice() {
                asked.push(only.clone());
            } else {
                return Err(Refusal::new("form_purpose_required"));
            }
        }
        let notice_version = match &page.point.notice_version {
            Some(v) => v.clone(),
            None => self.notice_version().await?,
        };
        self.open_opt_in(
            email,
            asked,
            lang,
            evidence,
            notice_version,
            Some((page.point.key.clone(), page.form.version)),
        )
        .await?;
        Ok(FormOutcome::Mailed)
    }
}
