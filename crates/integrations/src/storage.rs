//! Uploads and backups in object storage: a local folder by default, S3-compatible in production,
//! both through `object_store`, so the code above never knows which.

use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct Storage {
    inner: Arc<dyn ObjectStore>,
}

impl Storage {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }

    /// A folder on this machine, created if missing.
    pub fn local(dir: &std::path::Path) -> Result<Self, object_store::Error> {
        std::fs::create_dir_all(dir)
            .map_err(|e| object_store::Error::Generic { store: "local", source: Box::new(e) })?;
        Ok(Self::new(Arc::new(LocalFileSystem::new_with_prefix(dir)?)))
    }

    /// Keys are ours (never user input), e.g. `insurance/<pro id>/<uuid>.pdf`.
    pub async fn put(&self, key: &str, body: Bytes) -> Result<(), object_store::Error> {
        self.inner.put(&Path::parse(key)?, PutPayload::from(body)).await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, object_store::Error> {
        self.inner.get(&Path::parse(key)?).await?.bytes().await
    }

    pub async fn delete(&self, key: &str) -> Result<(), object_store::Error> {
        self.inner.delete(&Path::parse(key)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_storage_round_trips_and_deletes() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let storage = Storage::local(&dir.path().join("objects"))?;
        storage.put("insurance/p1/cert.pdf", Bytes::from_static(b"%PDF-1.7")).await?;
        assert_eq!(storage.get("insurance/p1/cert.pdf").await?, Bytes::from_static(b"%PDF-1.7"));
        assert!(dir.path().join("objects/insurance/p1/cert.pdf").exists());
        storage.delete("insurance/p1/cert.pdf").await?;
        assert!(matches!(storage.get("insurance/p1/cert.pdf").await, Err(object_store::Error::NotFound { .. })));
        // Keys that try to climb out of the folder are refused.
        assert!(storage.put("../escape", Bytes::new()).await.is_err());
        Ok(())
    }
}
