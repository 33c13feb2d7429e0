//! API keys: created by an owner (today with `doui api-key create`), presented by senders'
//! systems as `Authorization: Bearer doui.<id>.<secret>`.

use crate::api_key::{ApiKeyRecord, ApiScope, parse_presented};

use super::{Refusal, Services, now};

impl Services {
    /// Creates a key; returns its record and the key itself, which is shown only this once.
    pub async fn create_api_key(
        &self,
        name: &str,
        scopes: &[String],
    ) -> Result<(ApiKeyRecord, String), Refusal> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(Refusal::new("malformed_key_name"));
        }
        let mut parsed = scopes
            .iter()
            .map(|s| s.parse::<ApiScope>())
            .collect::<Result<Vec<_>, _>>()?;
        parsed.dedup();
        if parsed.is_empty() {
            return Err(Refusal::new("unknown_scope"));
        }
        let mut random = [0u8; 38];
        getrandom::fill(&mut random).map_err(|_| Refusal::new("unavailable"))?;
        let (record, key) = ApiKeyRecord::generate(name, parsed, random, now());
        self.store.create_api_key(&record).await?;
        Ok((record, key))
    }

    /// The key presented in an `Authorization` header, if it is genuine, unrevoked and allowed
    /// `scope`. A missing or unknown key is `unauthorized` (401); a valid key without the scope
    /// is `forbidden_scope` (403).
    pub async fn authenticate_api_key(
        &self,
        authorization: Option<&str>,
        scope: ApiScope,
    ) -> Result<ApiKeyRecord, Refusal> {
        let unauthorized = Refusal::new("unauthorized");
        let presented = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or(unauthorized.clone())?;
        let (id, secret) = parse_presented(presented.trim()).ok_or(unauthorized.clone())?;
        let record = self.store.api_key(id).await?.ok_or(unauthorized.clone())?;
        if !record.matches(secret) || record.revoked_at.is_some() {
            return Err(unauthorized);
        }
        if !record.allows(scope) {
            return Err(Refusal::new("forbidden_scope"));
        }
        Ok(record)
    }
}
