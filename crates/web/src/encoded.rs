//! Bodies compressed once and served many times: static assets at start-up, public pages each
//! time their cache is refreshed. Compressing a 16 KB page on every request costs more than
//! everything else about serving it (bench/run: 42k req/s plain, 9k gzip-per-request).

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::io::Write;

#[derive(Debug, Clone)]
pub struct Encoded {
    identity: Bytes,
    gzip: Option<Bytes>,
    br: Option<Bytes>,
}

impl Encoded {
    pub fn new(body: impl Into<Bytes>) -> Self {
        let identity: Bytes = body.into();
        let smaller = |b: Vec<u8>| (b.len() < identity.len()).then(|| Bytes::from(b));
        let gzip = {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(&identity).and_then(|()| enc.finish()).ok().and_then(smaller)
        };
        let br = {
            let mut out = Vec::new();
            let params = brotli::enc::BrotliEncoderParams { quality: 11, ..Default::default() };
            brotli::BrotliCompress(&mut identity.as_ref(), &mut out, &params).ok().and_then(|_| smaller(out))
        };
        Self { identity, gzip, br }
    }

    /// A body gzipped ahead of time (no brotli form: compressing at start-up is what it avoids).
    pub fn precompressed(identity: Bytes, gzip: Bytes) -> Self {
        Self { identity, gzip: Some(gzip), br: None }
    }

    pub fn len(&self) -> usize {
        self.identity.len()
    }

    pub fn is_empty(&self) -> bool {
        self.identity.is_empty()
    }

    /// The best encoding the client accepts, with `Vary` so caches keep them apart.
    pub fn response(&self, request: &HeaderMap, content_type: HeaderValue) -> Response {
        let accept = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
        let (body, encoding) = match (&self.br, &self.gzip) {
            (Some(br), _) if accepts(accept, "br") => (br.clone(), Some("br")),
            (_, Some(gz)) if accepts(accept, "gzip") => (gz.clone(), Some("gzip")),
            _ => (self.identity.clone(), None),
        };
        let mut res =
            ([(header::CONTENT_TYPE, content_type), (header::VARY, HeaderValue::from_static("accept-encoding"))], body)
                .into_response();
        if let Some(e) = encoding {
            res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        res
    }
}

/// Whether an `Accept-Encoding` value allows `coding` (q=0 means "not this one").
fn accepts(accept: &str, coding: &str) -> bool {
    accept.split(',').any(|part| {
        let mut it = part.split(';').map(str::trim);
        let name = it.next().unwrap_or("");
        let refused = it.any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
        (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn accept_encoding_is_read_with_q_values() {
        assert!(accepts("gzip, deflate, br", "br"));
        assert!(accepts("gzip;q=0.5", "gzip"));
        assert!(!accepts("gzip;q=0", "gzip"));
        assert!(!accepts("identity", "gzip"));
        assert!(accepts("*", "br"));
        assert!(!accepts("", "gzip"));
    }

    /// What a browser receives, decoded as a browser would: each encoding's body is the page.
    #[tokio::test]
    async fn serves_the_best_accepted_encoding_and_each_body_decodes_to_the_page() -> anyhow::Result<()> {
        let page = "<p>plumbing</p>".repeat(500);
        let enc = Encoded::new(page.clone());
        let ct = HeaderValue::from_static("text/html");
        let served = |accept: &'static str| {
            let mut h = HeaderMap::new();
            if !accept.is_empty() {
                h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(accept));
            }
            let res = enc.response(&h, ct.clone());
            let encoding = res.headers().get(header::CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").to_owned());
            async move { anyhow::Ok((encoding, axum::body::to_bytes(res.into_body(), usize::MAX).await?)) }
        };
        let (encoding, body) = served("gzip").await?;
        assert_eq!(encoding.as_deref(), Some("gzip"));
        assert!(body.len() < page.len() / 10, "compressed: {} bytes", body.len());
        let mut plain = String::new();
        flate2::read::GzDecoder::new(body.as_ref()).read_to_string(&mut plain)?;
        assert_eq!(plain, page);

        let (encoding, body) = served("gzip, br").await?;
        assert_eq!(encoding.as_deref(), Some("br"));
        let mut plain = String::new();
        brotli::Decompressor::new(body.as_ref(), 4096).read_to_string(&mut plain)?;
        assert_eq!(plain, page);

        let (encoding, body) = served("").await?;
        assert_eq!(encoding, None);
        assert_eq!(body, page.as_bytes());
        Ok(())
    }
}
