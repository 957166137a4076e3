//! The API describes itself. Every `/api/v1` route is registered here through `utoipa-axum`'s
//! `routes!`, which takes the path and method from the handler's own `#[utoipa::path]`: the router
//! and the OpenAPI 3.1 document come from the same attribute, so neither can list what the other
//! lacks (`tests/openapi.rs` checks the rest). The answers every operation shares (429, 500, 503,
//! and for a JSON body 400/413/415/422) are added in one place, [`conventions`].

use crate::auth::api as auth_api;
use crate::intake::api;
use crate::market::api as market_api;
use crate::pro_profile::api as profile_api;
use crate::problem::{FieldError, Problem};
use crate::{AppState, problem};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr, ResponseBuilder, Schema, Type};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PlumberLeads API",
        version = "1",
        description = "Homeowners' plumbing requests in, verified leads out. JSON under `/api/v1`; every \
                       error is an RFC 9457 problem document (`application/problem+json`) whose `type` \
                       is a page at `/problems/...`, or `about:blank`. Partners send leads with their API \
                       key as a Bearer token; plumbers log in for a short-lived access token.",
        license(name = "Proprietary")
    ),
    components(schemas(Problem, FieldError)),
    tags(
        (name = "leads", description = "Homeowners' requests, sent by partners or our own site"),
        (name = "accounts", description = "Sign-up, log-in, tokens"),
        (name = "me", description = "The signed-in plumber's own account"),
        (name = "pro", description = "A plumber's marketplace: offers, claims, bought leads, wallet"),
        (name = "meta", description = "This document")
    )
)]
struct ApiDoc;

/// The `/api/v1` routes, each with its description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .routes(routes!(api::categories))
        .routes(routes!(api::create_lead))
        .routes(routes!(api::get_lead))
        .routes(routes!(api::verify_lead))
        .routes(routes!(api::resend_code))
        .routes(routes!(auth_api::signup))
        .routes(routes!(auth_api::login))
        .routes(routes!(auth_api::refresh))
        .routes(routes!(auth_api::logout))
        .routes(routes!(auth_api::verify_email))
        .routes(routes!(auth_api::request_reset))
        .routes(routes!(auth_api::confirm_reset))
        .routes(routes!(auth_api::me))
        .routes(routes!(auth_api::sessions))
        .routes(routes!(auth_api::end_session))
        .routes(routes!(auth_api::change_password))
        .routes(routes!(auth_api::verify_phone))
        .routes(routes!(auth_api::resend_phone_code))
        .routes(routes!(market_api::list_offers))
        .routes(routes!(market_api::claim_offer))
        .routes(routes!(market_api::decline_offer))
        .routes(routes!(market_api::list_leads))
        .routes(routes!(market_api::update_lead))
        .routes(routes!(market_api::why_lead))
        .routes(routes!(market_api::dispute_lead))
        .routes(routes!(market_api::missed))
        .routes(routes!(market_api::wallet))
        .routes(routes!(market_api::wallet_entries))
        .routes(routes!(market_api::create_top_up))
        .routes(routes!(crate::market::stream::stream))
        .routes(routes!(profile_api::get_profile, profile_api::update_profile))
        .routes(routes!(profile_api::submit_profile))
}

/// The `/api/v1` routes that take files: the router gives them the upload limit, not the JSON one.
pub fn upload_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(profile_api::upload_insurance))
}

/// The finished document, serialised once per process, with its ETag.
pub struct Document {
    pub doc: utoipa::openapi::OpenApi,
    json: Bytes,
    etag: HeaderValue,
}

pub fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut doc) = routes().merge(upload_routes()).split_for_parts();
        conventions(&mut doc);
        let json = Bytes::from(serde_json::to_vec_pretty(&doc).unwrap_or_default());
        let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(&Sha256::digest(&json)[..16])))
            .unwrap_or(HeaderValue::from_static("\"0\""));
        Document { doc, json, etag }
    })
}

/// This document (OpenAPI 3.1). Cacheable; revalidate with `If-None-Match`.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    operation_id = "openapi",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json",
         headers(("ETag" = String, description = "Changes when the document does"))),
        (status = 304, description = "Unchanged since the ETag sent in `If-None-Match`")
    )
)]
pub async fn openapi_json(headers: HeaderMap) -> Response {
    let d = document();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == "*" || t.trim() == d.etag));
    let cache =
        [(header::ETAG, d.etag.clone()), (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"))];
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], d.json.clone()).into_response()
}

/// The shared answers, named once under `components.responses` and referenced by every operation
/// that can give them; and the two ways of proving who you are.
fn conventions(doc: &mut utoipa::openapi::OpenApi) {
    let problem = |description: &str| {
        ResponseBuilder::new().description(description).content(
            problem::CONTENT_TYPE,
            ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
        )
    };
    let shared = [
        ("BadRequest", problem("Malformed request (e.g. not valid JSON, or a path parameter of the wrong form)")),
        ("PayloadTooLarge", problem("The body is larger than this endpoint accepts")),
        ("UnsupportedMediaType", problem("The body is not `application/json`")),
        ("ValidationError", problem("Some fields are missing or not acceptable: `errors[]` names each")),
        (
            "TooManyRequests",
            problem("Too many requests: wait `Retry-After` seconds").header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(Type::Integer)))
                    .build(),
            ),
        ),
        ("Unauthorized", problem("Missing, wrong or expired credentials (`WWW-Authenticate: Bearer`)")),
        ("InternalError", problem("Something went wrong on our side; the detail is logged, not sent")),
        ("Unavailable", problem("A dependency (e.g. the database) is not answering: try again shortly")),
    ];
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, response) in shared {
        components.responses.insert(name.into(), RefOr::T(response.build()));
    }
    components.add_security_scheme(
        "partner_key",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("A partner's API key (`pl_…`), as `Authorization: Bearer pl_…`"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "partner_key_header",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Api-Key",
            "The same partner API key, for clients that cannot set `Authorization`",
        ))),
    );
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from `POST /api/v1/auth/login` or `/auth/refresh`"))
                .build(),
        ),
    );
    for schema in components.schemas.values_mut() {
        drop_defaults(schema);
    }
    for item in doc.paths.paths.values_mut() {
        let ops = [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
        for op in ops.into_iter().flatten() {
            shared_answers(op);
        }
    }
}

/// Request types fill a missing field with an empty value only so that every missing field can be
/// named in one 422; utoipa reads that as a `default`, which a client must not assume (and which
/// breaks the field's own constraints). The document lists none.
fn drop_defaults(schema: &mut RefOr<Schema>) {
    let RefOr::T(schema) = schema else { return };
    match schema {
        Schema::Object(o) => {
            o.default = None;
            o.properties.values_mut().for_each(drop_defaults);
        }
        Schema::AllOf(all) => all.items.iter_mut().for_each(drop_defaults),
        _ => {}
    }
}

fn shared_answers(op: &mut Operation) {
    let mut add = |status: &str, name: &str| {
        op.responses.responses.entry(status.into()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    };
    add("400", "BadRequest");
    add("413", "PayloadTooLarge");
    add("429", "TooManyRequests");
    add("500", "InternalError");
    add("503", "Unavailable");
    if op.request_body.is_some() {
        add("415", "UnsupportedMediaType");
        add("422", "ValidationError");
    }
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        add("401", "Unauthorized");
    }
}
