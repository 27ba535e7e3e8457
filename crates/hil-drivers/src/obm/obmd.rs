//! HIL v0.4's external OBM daemon, obmd. HIL only mints and revokes a node's token there;
//! the power and console calls are redirected to obmd with that token.

use std::time::Duration;

use super::{ObmError, ObmErrorKind};

/// One node on an obmd server: `uri` is the node's URL there (`https://obmd/node/n1`).
pub struct ObmdNode<'a> {
    pub uri: &'a str,
    pub admin_token: &'a str,
}

impl ObmdNode<'_> {
    /// `POST <uri>/token`: a fresh node token (replacing any earlier one).
    pub async fn mint_token(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<String, ObmError> {
        #[derive(serde::Deserialize)]
        struct Token {
            token: String,
        }
        let response = self.send(http.post(self.token_url()), timeout).await?;
        response
            .json::<Token>()
            .await
            .map(|t| t.token)
            .map_err(|e| self.error(ObmErrorKind::Rejected, &format!("bad token reply: {e}")))
    }

    /// `DELETE <uri>/token`: the node token stops working.
    pub async fn revoke_token(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<(), ObmError> {
        self.send(http.delete(self.token_url()), timeout)
            .await
            .map(drop)
    }

    fn token_url(&self) -> String {
        format!("{}/token", self.uri.trim_end_matches('/'))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<reqwest::Response, ObmError> {
        let response = request
            .basic_auth("admin", Some(self.admin_token))
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    ObmError::timeout(&format!("obmd at {}", self.uri), timeout)
                } else {
                    self.error(ObmErrorKind::Unreachable, "cannot reach it")
                }
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(response)
        } else {
            Err(self.error(
                ObmErrorKind::Rejected,
                &format!("it answered {}", status.as_u16()),
            ))
        }
    }

    fn error(&self, kind: ObmErrorKind, what: &str) -> ObmError {
        ObmError::new(kind, format!("obmd at {}: {what}", self.uri))
    }
}
