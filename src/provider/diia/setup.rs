//! `kepgate diia setup`: the branch and the offer created once at Diia, whose ids go into the
//! configuration.

use reqwest::Method;

use super::provider::DiiaProvider;
use super::wire;
use crate::provider::exchange::ProviderError;

impl DiiaProvider {
    /// Creates the branch and the offer (`kepgate diia setup`), both for login and for document
    /// signing; returns (branch_id, offer_id).
    pub async fn setup(&self) -> Result<(String, String), ProviderError> {
        let s = &self.settings().setup;
        let branch = wire::BranchRequest {
            name: s.branch_name.clone(),
            email: s.email.clone(),
            region: s.region.clone(),
            district: s.district.clone(),
            location: s.location.clone(),
            street: s.street.clone(),
            house: s.house.clone(),
            custom_full_name: s.custom_full_name.clone(),
            custom_full_address: s.custom_full_address.clone(),
            delivery_types: vec!["api".to_owned()],
            offer_request_type: "dynamic".to_owned(),
            scopes: wire::Scopes::auth_and_signing(),
        };
        let created: wire::IdResponse = self
            .client()
            .call(
                "create_branch",
                Method::POST,
                wire::BRANCH_PATH,
                Some(&branch),
            )
            .await?;
        let offer = wire::OfferRequest {
            name: s.offer_name.clone(),
            scopes: wire::Scopes::auth_and_signing(),
            return_link: None,
        };
        let offer_created: wire::IdResponse = self
            .client()
            .call(
                "create_offer",
                Method::POST,
                &wire::offer_path(&created.id),
                Some(&offer),
            )
            .await?;
        Ok((created.id, offer_created.id))
    }
}
