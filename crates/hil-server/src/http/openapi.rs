//! The OpenAPI 3.1 document of the v0 API, served at `GET /v0/openapi.json`.
//!
//! The handlers describe themselves (`#[utoipa::path]`), and the router registers each call
//! through that description, so the document lists exactly the routes this server answers, in
//! its configuration (the user calls appear only with database authentication). What every
//! call shares is added here: path parameters, the error answers, and how to authenticate.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::Extension;
use hil_types::ErrorBody;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema};
use utoipa::OpenApi as DeriveOpenApi;
use utoipa::{PartialSchema, ToSchema};

use crate::config::AuthBackend;
use crate::ops::Ctx;

/// The document, rendered once when the router is built.
#[derive(Clone)]
pub struct Document(Arc<String>);

/// `GET /v0/openapi.json`: the document itself. It describes the API, not its data, so it
/// needs no credentials (HIL's API reference was public too).
pub async fn document(Extension(doc): Extension<Document>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}

/// The body of `PUT /v0/switch/{switch}`: a `type` naming the driver, and that driver's
/// members (`docs/drivers.md` lists them per type). The handler reads it as an open object.
pub struct SwitchRegistration;

impl PartialSchema for SwitchRegistration {
    fn schema() -> RefOr<Schema> {
        let switch_type = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "The switch type, e.g. `http://schema.massopencloud.org/haas/v0/switches/dellnos9`",
            ));
        ObjectBuilder::new()
            .description(Some(
                "`type` and the driver's members (`hostname`, `username`, `password`, ...)",
            ))
            .property("type", switch_type)
            .required("type")
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}

impl ToSchema for SwitchRegistration {}

/// `GET /v0/switch/{switch}/port/{port}` answers the nic on the port, or `{}` when none is.
pub struct PortAnswer;

impl PartialSchema for PortAnswer {
    fn schema() -> RefOr<Schema> {
        let nothing = ObjectBuilder::new()
            .description(Some("No nic is connected to the port"))
            .max_properties(Some(0));
        OneOfBuilder::new()
            .item(Ref::from_schema_name("PortInfo"))
            .item(nothing)
            .into()
    }
}

impl ToSchema for PortAnswer {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("PortInfo".into(), hil_types::PortInfo::schema()));
    }
}

/// The three calls under a port, which share one catch-all route (see `port_action`).
#[derive(DeriveOpenApi)]
#[openapi(paths(
    super::handlers::port_connect_nic,
    super::handlers::port_detach_nic,
    super::handlers::port_revert
))]
pub struct PortActions;

/// Completes the generated document: info, parameters, errors and security.
pub fn finish(mut spec: OpenApi, ctx: &Ctx) -> Document {
    describe_service(&mut spec);
    name_catch_all_parameters(&mut spec);
    for (path, item) in spec.paths.paths.iter_mut() {
        for operation in operations(item) {
            declare_path_parameters(path, operation, ctx.config.limits.max_label_chars);
            add_error_answers(operation);
        }
    }
    add_security(&mut spec, ctx);
    document_openapi_route(&mut spec);
    let components = spec.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert("ErrorBody".into(), ErrorBody::schema());
    let text = serde_json::to_string(&spec).expect("an OpenAPI document serializes");
    Document(Arc::new(text))
}

fn describe_service(spec: &mut OpenApi) {
    spec.info.title = "HIL REST API v0".into();
    spec.info.version = env!("CARGO_PKG_VERSION").into();
    spec.info.description = Some(
        "The Hardware Isolation Layer's API, compatible with HIL's v0. Labels in paths are \
         percent-encoded; a port name may contain `/`. GET calls take their arguments in the \
         query string, other calls in a JSON body. Calls marked (admin) need an \
         administrator."
            .into(),
    );
    spec.info.license = None;
    spec.info.contact = None;
}

fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The router's catch-all `{*port}` is an ordinary `{port}` parameter in OpenAPI.
fn name_catch_all_parameters(spec: &mut OpenApi) {
    let paths = std::mem::take(&mut spec.paths.paths);
    spec.paths.paths = paths
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
}

/// Every `{name}` in the path, declared as a required label unless the handler did.
fn declare_path_parameters(path: &str, operation: &mut Operation, max_chars: usize) {
    let declared: BTreeSet<String> = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) if p.parameter_in == ParameterIn::Path => Some(p.name.clone()),
            _ => None,
        })
        .collect();
    let wanted = path
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()));
    for name in wanted.filter(|n| !declared.contains(n)) {
        let parameter = path_parameter(&name, max_chars);
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(parameter));
    }
}

/// A label in a path, with the rules `call::check_path_label` enforces: not empty, at most
/// `limits.max_label_chars` characters, no control characters and, but in port names, no `/`.
fn path_parameter(name: &str, max_chars: usize) -> Parameter {
    let description = match name {
        "is_free" => "`free` for the unreserved nodes; anything else (HIL's CLI sends `all`) lists every node".into(),
        "status_id" => "The id a connect, detach or revert answered".into(),
        "port" => "The port's name as the switch spells it; it may contain `/`".into(),
        "label" => "The metadata key".into(),
        other => format!("The {other}'s label"),
    };
    let pattern = if name == "port" {
        "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    } else {
        "^[^/\\u0000-\\u001f\\u007f-\\u009f]+$"
    };
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max_chars))
        .pattern(Some(pattern));
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(utoipa::openapi::Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// HIL's error answers, `{"type": ..., "msg": ...}`. Which of them a call gives depends on
/// its checks (hil-api.md lists them per call); these are the ones any call may give.
fn add_error_answers(operation: &mut Operation) {
    const ANSWERS: [(&str, &str); 6] = [
        ("400", "Invalid arguments (ValidationError, BadArgumentError)"),
        ("401", "No credentials, wrong ones, or not allowed (AuthorizationError)"),
        ("404", "A label that names nothing (NotFoundError)"),
        ("409", "The state forbids it (DuplicateError, BlockedError, IllegalStateError, ProjectMismatchError)"),
        ("429", "Too many failed logins from this address (TooManyRequestsError)"),
        ("default", "Another error: the server, a BMC or an unavailable service"),
    ];
    for (status, description) in ANSWERS {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::<Schema>::Ref(Ref::from_schema_name(
                        "ErrorBody",
                    ))))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .entry(status.into())
            .or_insert(RefOr::T(response));
    }
}

/// How to authenticate, as the configured backend expects it.
fn add_security(spec: &mut OpenApi, ctx: &Ctx) {
    let (name, scheme) = match ctx.config.auth.backend {
        AuthBackend::Database => (
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        ),
        AuthBackend::Keystone => (
            "keystone",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "A Keystone token",
            ))),
        ),
        AuthBackend::Null => return,
    };
    let components = spec.components.get_or_insert_with(Default::default);
    components
        .security_schemes
        .insert(name.into(), RefOr::T(scheme));
    spec.security = Some(vec![SecurityRequirement::new::<_, [&str; 0], &str>(
        name,
        [],
    )]);
}

/// The document describes its own route, which needs no credentials.
fn document_openapi_route(spec: &mut OpenApi) {
    let mut operation = Operation::new();
    operation.operation_id = Some("openapi_document".into());
    operation.summary = Some("This document.".into());
    operation.tags = Some(vec!["service".into()]);
    operation.security = Some(vec![SecurityRequirement::default()]);
    operation.responses.responses.insert(
        "200".into(),
        RefOr::T(
            ResponseBuilder::new()
                .description("The OpenAPI 3.1 document")
                .content("application/json", ContentBuilder::new().build())
                .build(),
        ),
    );
    let mut item = utoipa::openapi::PathItem::default();
    item.get = Some(operation);
    spec.paths.paths.insert("/v0/openapi.json".into(), item);
}
