//! Is Redis answering? For `/health` and `check-config --connect`.

use std::sync::Arc;
use tokio::sync::Mutex;

/// Redis as the health check sees it: a client, and a connection made on first use and remade
/// after a failure, so a Redis that was down at start-up is picked up when it comes back.
#[derive(Clone)]
pub struct RedisCheck {
    client: redis::Client,
    conn: Arc<Mutex<Option<redis::aio::MultiplexedConnection>>>,
}

impl RedisCheck {
    pub fn new(url: &secrecy::SecretString) -> Result<Self, redis::RedisError> {
        use secrecy::ExposeSecret;
        Ok(Self { client: redis::Client::open(url.expose_secret())?, conn: Arc::default() })
    }

    pub async fn ping(&self) -> Result<(), String> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            *slot = Some(self.client.get_multiplexed_async_connection().await.map_err(|_| "unreachable".to_owned())?);
        }
        let Some(conn) = slot.as_mut() else {
            return Err("unreachable".into());
        };
        match redis::cmd("PING").query_async::<String>(conn).await {
            Ok(_) => Ok(()),
            Err(_) => {
                *slot = None;
                Err("not answering".into())
            }
        }
    }
}
